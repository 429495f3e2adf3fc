"""Live price discovery across venues (issue #24): the consolidator's protected quotes sampled on
the bar grid by the stated rule, information shares from them equal to the batch estimator on the
same bars and close to a simulated market's known shares, the process over real ZeroMQ sockets,
and bad arguments refused in one line."""
from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import msgspec
import numpy as np
import pytest
import zmq

from gateway.launcher import stop, wait_for
from gateway.sip import messages as sip
from gateway.sip.consolidator import VenueQuote, best
from trading.analytics.discovery import gg_two_venues, information_shares
from trading.analytics.discovery_live import DiscoveryMonitor, MidBars
from trading.analytics.errors import AnalyticsInputError
from tests.trading.analytics.test_discovery import simulate_vecm

SEC = 1_000_000_000


def _update(seq: int, t_ns: int, quotes: list[VenueQuote], instrument: int = 1) -> sip.NbboUpdate:
    return sip.NbboUpdate(seq=seq, instrument_id=instrument, nbbo=best(instrument, quotes), protected=quotes,
                          cause="test", received_ns=t_ns, published_ns=t_ns)


def _q(venue: str, mid: int, half: int = 1) -> VenueQuote:
    return VenueQuote(venue, bid=mid - half, bid_size=100, ask=mid + half, ask_size=100)


def test_the_sampling_rule() -> None:
    bars = MidBars(("A", "B"), SEC, price_scale=100.0, max_fill_bars=3)
    assert bars.update(int(0.2 * SEC), [_q("A", 1000)]) == []            # the grid starts: bar ends at 1 s
    assert bars.update(int(0.5 * SEC), [_q("B", 2000)]) == []
    # at 1.1 s the bar [0, 1) ends: both mids as of then, in currency units
    assert bars.update(int(1.1 * SEC), [_q("A", 1010)]) == [[10.0, 20.0]]
    # a one-sided quote leaves A's midpoint in force; an unknown venue is ignored
    assert bars.update(int(1.5 * SEC), [VenueQuote("A", bid=990), _q("Z", 1)]) == []
    # a quiet spell of 10 bars adds at most max_fill_bars unchanged rows
    assert bars.update(int(11.2 * SEC), [_q("B", 2020)]) == [[10.1, 20.0]] * 3
    assert bars.update(int(12.0 * SEC), []) == [[10.1, 20.2]]
    # no row until every venue has quoted
    lone = MidBars(("A", "B"), SEC, price_scale=1.0)
    lone.update(0, [_q("A", 10)])
    assert lone.update(5 * SEC, []) == []


def _feed_simulation(monitor: DiscoveryMonitor, prices: np.ndarray, scale: float) -> None:
    for k, (a, b) in enumerate(prices):
        quotes = [_q("A", int(round(a * scale)), 1), _q("B", int(round(b * scale)), 1)]
        monitor.feed(_update(k + 1, k * SEC + SEC // 2, quotes))


def test_live_shares_equal_the_batch_estimator_and_the_known_answer() -> None:
    a1, a2 = -0.2, 0.3
    omega = np.diag([1.0, 2.0]) * 1e-4
    prices = simulate_vecm(a1, a2, omega, 20000, 5)
    monitor = DiscoveryMonitor(["A", "B"], {1: "ACME"}, bar_s=1.0, lags=1, price_scale=1e6, keep_rows=True)
    _feed_simulation(monitor, prices, 1e6)
    d = monitor.instruments[1]
    body = d.body(1)
    assert body["status"] == "ok" and body["symbol"] == "ACME" and body["venues"] == ["A", "B"]
    batch = information_shares(np.array(d.all_rows), lags=1)
    np.testing.assert_allclose(body["information_share_mid"], batch.is_mid, rtol=1e-9)
    np.testing.assert_allclose(body["component_share"], batch.component_share, rtol=1e-9)
    # the bars are the simulated prices one step late (a bar's row is the state at its end)
    np.testing.assert_allclose(np.array(d.all_rows)[:100], np.round(prices[:100] * 1e6) / 1e6, atol=1e-12)
    gg = np.array(gg_two_venues(a1, a2))
    np.testing.assert_allclose(body["component_share"], gg, atol=0.03)
    is_true = gg ** 2 * np.diag(omega) / (gg ** 2 @ np.diag(omega))
    np.testing.assert_allclose(body["information_share_mid"], is_true, atol=0.03)


def test_too_few_bars_say_why_and_bad_arguments_are_refused() -> None:
    monitor = DiscoveryMonitor(["A", "B"], {}, bar_s=1.0, lags=1, price_scale=1.0)
    monitor.feed(_update(1, 0, [_q("A", 100), _q("B", 100)]))
    monitor.feed(_update(2, 3 * SEC, [_q("A", 101)]))
    body = monitor.bodies()[0]
    assert body["bars"] == 0 or "rows" in body["status"]
    assert "information_share_mid" not in body and "need at least" in body["status"]
    for kwargs, why in (({"venues": ["A"]}, "two distinct"), ({"venues": ["A", "A"]}, "two distinct"),
                        ({"bar_s": 0.0}, "bar seconds"), ({"lags": 0}, "lags")):
        args: dict[str, Any] = {"venues": ["A", "B"], "symbols": {}, "bar_s": 1.0, "lags": 1, "price_scale": 1.0}
        args.update(kwargs)
        with pytest.raises(AnalyticsInputError, match=why):
            DiscoveryMonitor(**args)


def test_the_process_publishes_shares_from_a_real_feed() -> None:
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "trading", "discovery", "--sip", f"tcp://127.0.0.1:{port}",
                             "--venue", "A", "--venue", "B", "--instrument", "1:ACME", "--bar-seconds", "1",
                             "--interval", "0.05", "--price-scale", "1000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("discovery publish (ZeroMQ PUB): tcp://"), line + (proc.stderr.read() if proc.poll() is not None else "")
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(line.split(": ", 1)[1].strip())
        prices = simulate_vecm(-0.2, 0.3, np.diag([1.0, 2.0]) * 1e-4, 3000, 6)
        sent, got = [0], []

        def more() -> None:
            # the feed in chunks (its timestamps are the simulation's, one bar apart)
            for k in range(sent[0], min(sent[0] + 500, len(prices))):
                a, b = prices[k]
                quotes = [_q("A", int(round(a * 1e6))), _q("B", int(round(b * 1e6)))]
                pub.send_multipart([sip.TOPIC_NBBO, sip.encode(_update(k + 1, k * SEC + SEC // 2, quotes))])
            sent[0] = min(sent[0] + 500, len(prices))
            pub.send_multipart([sip.TOPIC_NBBO, b"\xc1garbage"])     # malformed: dropped, counted
            while sub.poll(20):
                topic, body = sub.recv_multipart()
                got.append(msgspec.msgpack.decode(body))
            time.sleep(0.05)

        wait_for(lambda: any(b.get("status") == "ok" and b["bars"] > 1000 for b in got),
                 "information shares from the feed", step=more, watch={"discovery": proc})
        last = [b for b in got if b.get("status") == "ok"][-1]
        assert last["source"] == "discovery" and last["symbol"] == "ACME"
        assert sum(last["component_share"]) == pytest.approx(1.0)
        assert 0.4 < last["component_share"][0] < 0.8          # known: 0.6
        sub.close()
    finally:
        stop(proc)
        pub.close()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


@pytest.mark.parametrize("args, why", [
    ([], "--sip"),
    (["--sip", "tcp://127.0.0.1:1", "--venue", "A"], "two distinct"),
    (["--sip", "tcp://127.0.0.1:1", "--venue", "A", "--venue", "B", "--lags", "0"], "lags"),
    (["--sip", "tcp://127.0.0.1:1", "--venue", "A", "--venue", "B", "--interval", "0"], "interval"),
    (["--sip", "tcp://127.0.0.1:1", "--venue", "A", "--venue", "B", "--instrument", "x"], "instrument"),
    (["--sip", "tcp://127.0.0.1:1", "--venue", "A", "--venue", "B", "--interval", "nan"], "interval"),
    (["--sip", "tcp://127.0.0.1:1", "--venue", "A", "--venue", "B", "--ready-file", "/"],
     "is a directory, not a file"),        # was an IsADirectoryError traceback once bound
])
def test_bad_arguments_get_one_line(args: list[str], why: str) -> None:
    r = subprocess.run([sys.executable, "-m", "trading", "discovery", *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and why in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
