"""The multi-venue market maker live under a multi-venue `python -m gateway up --config` (two lit
venues with different fee schedules and latency profiles): it quotes ACME on both venues' engines
with one inventory; market sells into its bids on either venue take the one inventory to its limit
and no further (the venues' resting bids never exceed the room left), both venues trade, and
each venue's P&L decomposition adds up exactly and matches that venue's ledger. Each venue's
configured latency is applied to the maker's commands (multivenue_live.DelayedRunner with the
venue's delay model): every command was held at least its draw."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gateway import launcher
from gateway.venues.config import load_multi_config
from native.messages import Flag, NewOrder
from shm.client import EngineClient
from tests.gateway.venues.test_multi_venue_up import START_S, write_config
from trading.marketmaking.multivenue import MultiVenueMarketMaker, lit_venue_terms
from trading.marketmaking.multivenue_live import DelayedRunner, MultiVenueRunner, venue_delays
from trading.strategy.api import BUY, SELL

ACCOUNT = 3          # max_position 20000 in the example: the strategy's own limit is what binds
LIMIT = 300
PARAMS = {"gamma": "0.05", "sigma": "0.02", "A": "2.0", "k": "60.0", "stale_after_s": "600.0",
          "max_inventory": str(LIMIT), "quote_size": "100", "tau_s": "30", "regime": "0", "timer_ms": "50"}


def _order(oid: int, side: int, price: int, qty: int, account: int, ioc: bool = False) -> NewOrder:
    """One order of the market, straight into the venue engine's ring (an IOC is an intermarket
    sweep: the other venue's protected quote is the sender's concern)."""
    return NewOrder(instrument_id=1, order_id=oid, price=price, qty=qty, side=side, ord_type=1,
                    tif=4 if ioc else 2, account_id=account, flags=int(Flag.ISO) if ioc else 0)


def _until(runner: MultiVenueRunner, cond, what: str, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while not cond():
        runner.step()
        assert runner.error is None, runner.error
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


@pytest.mark.slow
def test_one_inventory_across_two_live_venues(tmp_path: Path) -> None:
    # two producer slots beyond the gateway's and the control plane's: the strategy's and the
    # market's (this test's orders go into the engines' rings, not over TCP)
    cfg, _ = write_config(tmp_path, venues=2, **{"max_orders = 100000": "max_orders = 100000\nproducers = 6"})
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mmv", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        engines = {vid: info["venues"][vid]["engine"] for vid in ("LITA", "LITB")}
        terms = lit_venue_terms(load_multi_config(cfg).venues, ["LITA", "LITB"])
        assert terms[0].fees != terms[1].fees and terms[0].latency_us != terms[1].latency_us
        s = MultiVenueMarketMaker(terms, **PARAMS)
        with pytest.raises(ValueError, match="venue 'LITC'"):
            MultiVenueRunner({**engines, "LITC": "nope"}, s, 1, ACCOUNT, tick_size=100)
        delays = venue_delays(load_multi_config(cfg).venues, seed=7)
        runner = MultiVenueRunner(engines, s, 1, ACCOUNT, tick_size=100, delays={v: delays[v] for v in engines})
        markets = {vid: EngineClient(name) for vid, name in engines.items()}
        try:
            runner.start()
            oid = 1_000
            for vid, market in markets.items():
                # balanced public flow before any two-sided book (nothing quoted yet), so that the
                # sells below do not make the flow look toxic; then each venue's book
                flow = [_order(oid, SELL, 1_000_000, 2_000, 1)]
                flow += [_order(oid + 1 + i, BUY, 1_000_000, 200, 2, ioc=True) for i in range(10)]
                flow += [_order(oid + 20, BUY, 1_000_000, 2_000, 1)]
                flow += [_order(oid + 21 + i, SELL, 1_000_000, 200, 2, ioc=True) for i in range(10)]
                flow += [_order(oid + 40, BUY, 998_000, 500, 1), _order(oid + 41, SELL, 1_002_000, 500, 1)]
                market.submit_many(flow)
                oid += 100
            ctxs = {vid: r.ctx for vid, r in runner.runners.items()}
            _until(runner, lambda: all(c.book.traded_volume == 4_000 for c in ctxs.values()), "the flow on both")

            def resting_bids() -> int:
                return sum(o.leaves_qty for c in ctxs.values() for o in c.orders.values() if o.side == BUY)

            def our_bid(vid: str):  # type: ignore[no-untyped-def]
                return next((o for o in ctxs[vid].orders.values() if o.side == BUY and o.status == "live"), None)

            fills_by_venue = {"LITA": 0, "LITB": 0}
            while s.total < LIMIT:
                _until(runner, lambda: any(our_bid(x) is not None for x in ctxs), "a bid of ours")
                # the venue with fewer of our fills first, so both venues trade
                vid = min((x for x in ctxs if our_bid(x) is not None), key=lambda x: fills_by_venue[x])
                bid, before = our_bid(vid), s.total
                oid += 1
                markets[vid].submit(_order(oid, SELL, bid.price, min(100, bid.leaves_qty), 1, ioc=True))
                _until(runner, lambda: s.total > before, f"a fill on {vid}")
                fills_by_venue[vid] += 1
                assert s.total + resting_bids() <= LIMIT and abs(s.total) <= LIMIT
            assert s.total == LIMIT and min(fills_by_venue.values()) >= 1
            end = time.monotonic() + 1.0            # at the limit: no venue bids again
            while time.monotonic() < end:
                runner.step()
                assert resting_bids() == 0 and s.total == LIMIT
            runner.stop()
            rep = s.report()
            assert rep["max_abs_inventory"] == LIMIT and rep["all_parts_add_up"], rep
            for vid, r in rep["venues"].items():
                assert r["pnl_parts_add_up"] and r["pnl_matches_runtime"] and r["passive_fills"] >= 1, vid
            assert rep["pnl_total"] == pytest.approx(rep["runtime_pnl_total"], abs=1e-6)
            assert sum(c.position for c in ctxs.values()) == LIMIT
            for r in runner.runners.values():
                assert isinstance(r, DelayedRunner) and len(r.holds) > 0
                assert all(hold >= drawn for drawn, hold in r.holds)
        finally:
            for market in markets.values():
                market.close()
