"""Incremental monitoring agrees with the batch analysis on the small day, and raises (and
clears) band alerts on the control plane's alert topic."""
from __future__ import annotations

from typing import Any

import pytest

from gateway.control import protocol
from tests.trading.tca.conftest import REFERENCE
from trading.tca.analysis import analyze, keyed
from trading.tca.monitor import Band, BestExecutionMonitor, load_bands
from trading.tca.errors import TcaInputError
from trading.tca.tail import EventTail
from trading.tca.tape import load_tape


def _feed_all(directory: str, mon: BestExecutionMonitor, batch: int) -> None:
    tail = EventTail(directory, batch=batch)
    try:
        while True:
            b = tail.poll()
            if len(b) == 0:
                break
            mon.feed(b)
    finally:
        tail.close()


@pytest.mark.parametrize("batch", [1, 3, 4096])
def test_incremental_equals_batch(small_day: str, batch: int) -> None:
    mon = BestExecutionMonitor(REFERENCE, [])
    _feed_all(small_day, mon, batch)
    an = analyze(load_tape(small_day), REFERENCE)
    snap = mon.snapshot()
    for strat, acct in (("taker", "2"), ("algo", "3"), ("mm", "1")):
        batch_view = keyed(an.summary("account"))[acct]
        live = snap[f"strategy:{strat}"]
        assert live["shares"] == batch_view.shares
        if batch_view.slippage_arrival_bps == batch_view.slippage_arrival_bps:
            assert live["slippage_arrival_bps"] == pytest.approx(batch_view.slippage_arrival_bps, rel=1e-9)
    # the taker's market orders: 150/150 (batch fill_rate_market of account 2)
    assert snap["strategy:taker"]["fill_rate_market"] == pytest.approx(1.0)
    assert snap["strategy:algo"]["fill_rate_market"] == pytest.approx(50 / 60)
    # 1 s markouts of taker fills: order 10 (2 s -> mid 100.01 at 3 s): 0 and -1/100.02 x 1e4 x 50
    # sh; over 150 shares = -0.33327 bps (the batch markout of the same fills)
    assert snap["strategy:taker"]["markout_1s_bps"] == pytest.approx(
        (100 * 0 - 50 * 100 / 1_000_200 * 1e4 - 60 * 1.0) / 210, rel=1e-9)


def test_band_alerts_go_out_on_the_alert_topic(small_day: str) -> None:
    sent: list[tuple[bytes, dict[str, Any]]] = []
    # the taker's arrival slippage is 1.238 bps after its two trades: a 1 bps ceiling trips
    bands = [Band("slippage_arrival_bps", "strategy", "taker", high=1.0, min_shares=100)]
    mon = BestExecutionMonitor(REFERENCE, bands, publish=lambda t, b: sent.append((t, b)))
    _feed_all(small_day, mon, 1)
    assert [t for t, _ in sent] == [protocol.TOPIC_ALERT]
    body = sent[0][1]
    assert body["kind"] == "best_execution" and body["key"] == "taker" and body["value"] > 1.0
    assert "outside band" in body["message"]


def test_bad_bands_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "bands.toml"
    p.write_text('[[bands]]\nmeasure = "speed"\nscope = "venue"\n')
    with pytest.raises(TcaInputError, match="measure: one of"):
        load_bands(str(p))
    p.write_text("not toml [")
    with pytest.raises(TcaInputError, match="bands file"):
        load_bands(str(p))


_BAND = '[[bands]]\nmeasure = "fee_bps"\nscope = "venue"\n'


@pytest.mark.parametrize("text, words", [
    (_BAND + 'high = "nan"\n', "bands[0].high: a number, got 'nan'"),
    (_BAND + "high = nan\n", "bands[0].high: a number, got nan"),
    (_BAND + "low = true\n", "bands[0].low: a number, got True"),
    (_BAND + "low = 5.0\nhigh = 1.0\n", "low 5.0 must be below high 1.0"),
    (_BAND + "min_shares = -1\n", "min_shares: a whole number >= 0"),
    (_BAND + 'level = ""\n', "level: a non-empty string"),
    ("bands = 5\n", "'bands' must be an array of tables"),
    ("bands = [1]\n", "bands[0]: a table"),
], ids=["nan-string", "nan", "bool", "low-above-high", "negative-min-shares", "empty-level", "not-array",
        "not-table"])
def test_a_band_that_could_never_alert_is_refused(text: str, words: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A NaN bound compares false with every value: the band was accepted and never alerted; a
    non-table entry was a TypeError traceback."""
    p = tmp_path / "bands.toml"
    p.write_text(text)
    with pytest.raises(TcaInputError) as exc:
        load_bands(str(p))
    assert words in str(exc.value)


def test_a_binary_bands_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "bands.toml"
    p.write_bytes(bytes(range(128, 256)))
    with pytest.raises(TcaInputError, match="bands file"):
        load_bands(str(p))


def test_alerts_over_zeromq_in_the_control_plane_format(small_day: str) -> None:
    import time

    import msgspec
    import zmq

    from trading.tca.monitor import zmq_publisher
    ctx = zmq.Context.instance()
    publish, close, bound = zmq_publisher("tcp://127.0.0.1:*")
    sub = ctx.socket(zmq.SUB)
    sub.connect(bound)
    sub.setsockopt(zmq.SUBSCRIBE, protocol.TOPIC_ALERT)
    try:
        bands = [Band("slippage_arrival_bps", "strategy", "taker", high=1.0, min_shares=100)]
        got: list[list[bytes]] = []
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:   # PUB/SUB joins asynchronously: replay until heard
            mon = BestExecutionMonitor(REFERENCE, bands, publish=publish)
            _feed_all(small_day, mon, 4096)
            if sub.poll(200):
                got.append(sub.recv_multipart())
        assert got, "no alert received"
        topic, body = got[0]
        assert topic == protocol.TOPIC_ALERT
        msg = msgspec.msgpack.decode(body)
        assert msg["kind"] == "best_execution" and msg["level"] == "warn" and msg["key"] == "taker"
    finally:
        sub.close(0)
        close()
