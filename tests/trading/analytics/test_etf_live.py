"""ETF fair value live (issue #24): the monitor values a configured basket from the engine's own
quotes. Its values equal the batch etf_fair_value over the same merged updates whatever the poll
boundaries; a real engine process with the monitor beside it publishes the fair value and a
stat-arb alert when the ETF's quote moves away from its basket; bad baskets are refused."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import msgspec
import numpy as np
import pytest
import zmq

from gateway.launcher import Venue, stop, wait_for
from native.messages import NewOrder
from shm.client import EngineClient
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.etf import etf_fair_value
from trading.analytics.etf_live import EtfLive, parse_basket
from trading.analytics.events import MarketEvents

BASKET = '{"etf": 3, "components": {"1": 2.0, "2": 1.0}, "cash": 5.0, "divisor": 1.0, "cost_bps": 10}'


def _quotes(times: list[float], bids: list[float], asks: list[float]) -> MarketEvents:
    n = len(times)
    nan = np.full(n, np.nan)
    return MarketEvents(np.array(times), np.array(bids), np.ones(n), np.array(asks), np.ones(n),
                        np.zeros(n, dtype=bool), nan, nan, np.zeros(n, dtype=np.int64))


def test_live_values_equal_the_batch_form_whatever_the_polls() -> None:
    rng = np.random.default_rng(4)
    stream = {ins: sorted(rng.uniform(0, 100, 40).tolist()) for ins in (1, 2, 3)}
    mids = {1: 50.0, 2: 20.0, 3: 125.0}
    events: dict[int, MarketEvents] = {}
    for ins, times in stream.items():
        m = mids[ins] + np.cumsum(rng.normal(0, 0.2, len(times)))
        bid, ask = (m - 0.05).tolist(), (m + 0.05).tolist()
        bid[3] = float("nan")                       # one-sided: not a price update
        events[ins] = _quotes(times, bid, ask)
    one = EtfLive.of(parse_basket(BASKET))
    one.update(events)
    # The same events in four polls (cut by time): the same last values.
    split = EtfLive.of(parse_basket(BASKET))
    for lo, hi in ((0, 25), (25, 50), (50, 75), (75, 101)):
        split.update({i: ev.select((ev.time >= lo) & (ev.time < hi)) for i, ev in events.items()})
    t, c, p = one.merged_updates(events)
    batch = etf_fair_value(t, c, p, [2.0, 1.0], cash=5.0, divisor=1.0, cost=0.001)
    assert len(t) == 3 * 39
    for live in (one, split):
        assert live.fair_value == pytest.approx(float(batch.fair_value[-1]), rel=1e-12)
        assert live.premium == pytest.approx(float(batch.premium[-1]), rel=1e-9, abs=1e-15)
        assert live.signal == int(batch.signal[-1]) and live.updates == len(t)
    # hand check of the formula on the last prices: (2 * P1 + P2 + 5) / 1
    last = {ins: (ev.bid[-1] + ev.ask[-1]) / 2 for ins, ev in events.items()}
    assert one.fair_value == pytest.approx(2 * last[1] + last[2] + 5.0, rel=1e-12)


@pytest.mark.parametrize("text, why", [
    ("{", "--etf"),
    ('{"etf": 3}', "components"),
    ('{"etf": 3, "components": {}}', "must not be empty"),
    ('{"etf": 3, "components": {"3": 1}}', "its own components"),
    ('{"etf": 3, "components": {"1": -1}}', "> 0"),
    ('{"etf": 3, "components": {"1": 1}, "divisor": 0}', "divisor"),
    ('{"etf": 3, "components": {"1": 1}, "cost_bps": 20000}', "cost_bps"),
    ('{"etf": 3, "components": {"1": 1}, "typo": 1}', "typo"),
])
def test_bad_baskets_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(AnalyticsInputError, match=why):
        parse_basket(text)


@pytest.fixture
def engine() -> Any:
    cpu = max(os.sched_getaffinity(0))
    with Venue(prefix="te") as venue:
        venue.start_engine("--cpu", str(cpu), "--instruments", "1:1:1:10000,2:1:1:10000,3:1:1:10000",
                           "--producers", "2", "--no-mlock")
        yield venue.name


def _quote(oid: int, ins: int, bid: int, ask: int) -> list[NewOrder]:
    return [NewOrder(instrument_id=ins, order_id=oid, client_order_id=oid, price=bid, qty=10, side=1,
                     ord_type=1, tif=1),
            NewOrder(instrument_id=ins, order_id=oid + 1, client_order_id=oid + 1, price=ask, qty=10, side=2,
                     ord_type=1, tif=1)]


def test_the_monitor_publishes_the_fair_value_and_an_arbitrage_alert(engine: str) -> None:
    mon = subprocess.Popen([sys.executable, "-m", "trading", "monitor", "--engine", engine, "--bucket-volume", "20",
                            "--publish", "tcp://127.0.0.1:0", "--interval", "0.05", "--price-scale", "100",
                            "--etf", BASKET.replace('"cost_bps": 10', '"cost_bps": 10, "symbol": "IDX"')],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert mon.stdout is not None
        line = mon.stdout.readline()
        assert line.startswith("analytics publish (ZeroMQ PUB): "), line + (mon.stderr.read() if mon.poll() is not None else "")
        sub = zmq.Context.instance().socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(line.split(": ", 1)[1].strip())
        got: list[tuple[bytes, dict[str, Any]]] = []
        # Components: 1 at 49.99/50.01 (mid 50), 2 at 19.99/20.01 (mid 20): FV = 2*50 + 20 + 5 = 125.
        # The ETF quoted at 130.00/130.02 (mid 130.01): premium +4 % > 10 bps: rich, signal -1.
        # The components first: once their values arrive the subscription is surely live (a PUB
        # drops what it sends before then), and only then the ETF's quote that raises the alert.
        batches = [_quote(1, 1, 4999, 5001) + _quote(3, 2, 1999, 2001), _quote(5, 3, 13000, 13002)]

        def more() -> None:
            if batches and (len(batches) == 2 or got):
                with EngineClient(engine) as client:
                    client.submit_many(batches.pop(0))
            while sub.poll(20):
                topic, body = sub.recv_multipart()
                got.append((topic, msgspec.msgpack.decode(body)))

        def done() -> bool:
            return any(t == b"alert" and b.get("alert") == "etf_arbitrage" for t, b in got) and any(
                t == b"analytics" and b.get("kind") == "etf" and b["etf_premium"] is not None for t, b in got)

        wait_for(done, "ETF fair value and its arbitrage alert", step=more, watch={"monitor": mon})
        value = [b for t, b in got if t == b"analytics" and b.get("kind") == "etf" and b["etf_premium"] is not None][-1]
        assert value["etf_symbol"] == "IDX" and value["etf_fair_value"] == pytest.approx(125.0)
        assert value["etf_premium"] == pytest.approx((130.01 - 125.0) / 125.0) and value["etf_signal"] == -1
        alert = next(b for t, b in got if t == b"alert" and b.get("alert") == "etf_arbitrage")
        assert alert["etf_signal"] == -1 and "rich" in alert["message"]
        sub.close()
    finally:
        stop(mon)
    assert mon.returncode == 0, mon.stderr.read() if mon.stderr else ""


def test_the_monitor_refuses_a_bad_basket_in_one_line() -> None:
    r = subprocess.run([sys.executable, "-m", "trading", "monitor", "--engine", "x", "--bucket-volume", "10",
                        "--etf", '{"etf": 1, "components": {"1": 1}}'], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "own components" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "trading", "monitor", "--engine", "x", "--bucket-volume", "10",
                        "--instrument", "1", "--etf", '{"etf": 3, "components": {"1": 1}}', "--publish",
                        "tcp://127.0.0.1:0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not watched" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_etf_bodies_pass_the_control_planes_publish_ingest() -> None:
    """Under `up` the monitor publishes through the control plane's ingest, which takes flat maps
    only: the ETF value and alert bodies are such maps."""
    from gateway.control.ingest import check

    live = EtfLive.of(parse_basket(BASKET))
    alert = live.update({1: _quotes([1.0], [49.99], [50.01]), 2: _quotes([1.0], [19.99], [20.01]),
                         3: _quotes([1.0], [130.0], [130.02])})
    assert alert is not None
    for topic, body in ((b"alert", {"source": "analytics", **alert}),
                        (b"analytics", {"source": "analytics", "kind": "etf", "time": live.time, **live.values()})):
        assert check([topic, msgspec.msgpack.encode(body)]) == (topic, body)
