"""Market making on several venues with one inventory, without a venue process: each venue's
quotes priced with its own fees and latency; a seeded simulation of two venues whose quotes are
filled at random (and cancelled, replaced, re-placed as the strategy asks) keeps the one inventory
limit across venues at every step (and the stronger invariant that all resting quotes filling at
once would keep it); each venue's P&L decomposition adds up exactly and matches its ledger; bad
venues are refused by name before any order."""
from __future__ import annotations

import numpy as np
import pytest

from gateway.venues.config import FeeSchedule as VenueFees, LatencyProfile, VenueSpec
from trading.marketmaking.errors import ParameterError
from trading.marketmaking.multivenue import MultiVenueMarketMaker, VenueTerms, lit_venue_terms
from trading.strategy.api import BUY, SELL, Fill
from trading.strategy.context import Context
from trading.strategy.ledger import FeeSchedule

PARAMS = {"gamma": "0.05", "sigma": "0.02", "A": "2.0", "k": "60.0", "stale_after_s": "1000.0",
          "max_inventory": "500", "quote_size": "200", "tau_s": "30", "regime": "0",
          "toxicity_widen": "1.0", "toxicity_pull": "1.0"}
TERMS = [VenueTerms("A", FeeSchedule(maker_per_share=-0.01, taker_per_share=0.003), 100.0),
         VenueTerms("B", FeeSchedule(maker_per_share=0.01, taker_per_share=0.0005), 50.0)]


def _venues(clock: list[int], terms: list[VenueTerms] = TERMS) -> tuple[MultiVenueMarketMaker, dict[str, Context]]:
    s = MultiVenueMarketMaker(terms, **PARAMS)
    ctxs = {t.venue_id: Context(instrument_id=1, account_id=2, tick_size=100, fees=t.fees, venue=t.venue_id,
                                clock=lambda: clock[0]) for t in terms}
    for ctx in ctxs.values():
        s.on_start(ctx)
    return s, ctxs


def _touch(ctx: Context, bid: int, ask: int) -> None:
    for side, levels in ((BUY, ctx.book.bids), (SELL, ctx.book.asks)):
        for price in list(levels):
            ctx.book.apply(side, price, 0)
    ctx.book.apply(BUY, bid, 500)
    ctx.book.apply(SELL, ask, 500)


def _carry_out(s: MultiVenueMarketMaker, ctx: Context) -> None:
    """What an engine does with the context's outbox: NEW rests, CANCEL removes, REPLACE moves."""
    while ctx.outbox:
        out, ctx.outbox[:] = list(ctx.outbox), []
        for o in out:
            order = ctx.orders.get(o.order_id)
            if o.op == "NEW" and order is not None:
                order.status = "live"
            elif o.op == "CANCEL" and order is not None:
                del ctx.orders[o.order_id]
                s.on_cancelled(ctx, order, "CANCELLED")
            elif o.op == "REPLACE" and order is not None:
                order.price, order.leaves_qty = o.price, o.qty


def _fill(s: MultiVenueMarketMaker, ctx: Context, oid: int, qty: int) -> None:
    order = ctx.orders[oid]
    fee = ctx.ledger.fill(order.side, order.price, qty, True)
    order.leaves_qty -= qty
    if order.leaves_qty == 0:
        del ctx.orders[oid]
    s.on_fill(ctx, Fill(ctx.now, oid, order.side, order.price, qty, order.leaves_qty, True, fee, 1))


def test_each_venue_prices_with_its_own_fees() -> None:
    clock = [1_000_000_000]
    s, ctxs = _venues(clock)
    for ctx in ctxs.values():
        _touch(ctx, 5_000_000, 5_000_400)
        s.on_book(ctx)
    quotes = {v: {o.side: o.price for o in c.orders.values()} for v, c in ctxs.items()}
    # A pays makers a cent a share, B charges them one: A quotes tighter on both sides
    assert quotes["A"][BUY] > quotes["B"][BUY] and quotes["A"][SELL] < quotes["B"][SELL]


def test_one_inventory_limit_across_venues_in_a_seeded_simulation() -> None:
    rng = np.random.default_rng(11)
    clock = [1_000_000_000]
    s, ctxs = _venues(clock)
    limit = int(PARAMS["max_inventory"])
    mid = 5_000_000
    worst = 0
    for step in range(3000):
        clock[0] += 50_000_000
        mid += int(rng.integers(-1, 2)) * 100
        for ctx in ctxs.values():
            _touch(ctx, mid - 200, mid + 200)
            s.on_book(ctx)
            _carry_out(s, ctx)
        venue = ("A", "B")[int(rng.integers(0, 2))]
        ctx = ctxs[venue]
        live = [o for o in ctx.orders.values() if o.status == "live"]
        if live and rng.random() < 0.6:
            order = live[int(rng.integers(0, len(live)))]
            _fill(s, ctx, order.order_id, int(rng.integers(1, order.leaves_qty + 1)))
            for c in ctxs.values():
                _carry_out(s, c)
        total = sum(c.position for c in ctxs.values())
        bids = sum(o.leaves_qty for c in ctxs.values() for o in c.orders.values() if o.side == BUY)
        asks = sum(o.leaves_qty for c in ctxs.values() for o in c.orders.values() if o.side == SELL)
        assert abs(total) <= limit, step
        assert total + bids <= limit and total - asks >= -limit, (step, total, bids, asks)
        worst = max(worst, abs(total))
    assert worst >= limit * 0.6          # the limit was approached, not avoided by never trading
    assert all(c.position != 0 or c.ledger.volume > 0 for c in ctxs.values())
    rep = s.report()
    assert rep["max_abs_inventory"] == worst and rep["all_parts_add_up"]
    for venue, r in rep["venues"].items():
        assert r["pnl_parts_add_up"] and r["pnl_matches_runtime"], venue
        assert r["passive_fills"] > 0
    assert rep["pnl_total"] == pytest.approx(rep["runtime_pnl_total"], abs=1e-6)
    assert rep["pnl_total"] == pytest.approx(sum(r["pnl"]["total"] for r in rep["venues"].values()))


def test_bad_venues_refused_by_name_before_any_order() -> None:
    specs = [VenueSpec("LITA", "lit", ["ACME"], 9600, VenueFees("mils", 8.0, 10.0), LatencyProfile(150.0, 600.0)),
             VenueSpec("DARK", "dark", ["ACME"], 9620)]
    terms = lit_venue_terms(specs, ["LITA"])
    assert terms == [VenueTerms("LITA", FeeSchedule(-0.0008, 0.001), 150.0)]
    for wanted, words in ((["NOPE"], "venue 'NOPE'"), (["DARK"], "venue 'DARK'"), ([], "venues"),
                          (["LITA", "LITA"], "twice")):
        with pytest.raises(ValueError, match=words):
            lit_venue_terms(specs, wanted)
    clock = [0]
    s = MultiVenueMarketMaker(TERMS, **PARAMS)
    stranger = Context(instrument_id=1, account_id=2, tick_size=100, venue="C", clock=lambda: clock[0])
    with pytest.raises(ParameterError, match="venue"):
        s.on_start(stranger)
    wrong_fees = Context(instrument_id=1, account_id=2, tick_size=100, venue="A", clock=lambda: clock[0])
    with pytest.raises(ParameterError, match="venue.*fees"):
        s.on_start(wrong_fees)
    with pytest.raises(ParameterError, match="hedge_threshold"):
        MultiVenueMarketMaker(TERMS, **PARAMS, hedge_threshold="100")
    with pytest.raises(ParameterError, match="tiers"):
        MultiVenueMarketMaker(TERMS, **PARAMS, tiers="2")
    assert stranger.outbox == [] and wrong_fees.outbox == []
