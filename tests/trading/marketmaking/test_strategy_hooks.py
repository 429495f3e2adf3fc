"""The strategy's live hooks without a venue: its orders from the context's outbox, the touch it
prices from (its own quotes excluded), a kill switch or a halt from the venue stopping the quoting
at once, and the status line the ops shell shows."""
from __future__ import annotations

import json

import pytest

from trading.marketmaking.maker import ASK, BID
from trading.marketmaking.strategy import MarketMakingStrategy
from trading.strategy.api import BUY, SELL
from trading.strategy.context import Context

PARAMS = {"gamma": "0.05", "sigma": "0.02", "A": "2.0", "k": "60.0", "stale_after_s": "2.0",
          "max_inventory": "500", "tau_s": "30"}


def _setup(**extra: str) -> tuple[MarketMakingStrategy, Context, list[int]]:
    clock = [1_000_000_000]
    s = MarketMakingStrategy(**{**PARAMS, **extra})
    ctx = Context(instrument_id=1, account_id=2, tick_size=100, clock=lambda: clock[0])
    s.on_start(ctx)
    ctx.book.apply(BUY, 5_000_000, 300)
    ctx.book.apply(SELL, 5_000_200, 300)
    return s, ctx, clock


def test_quotes_both_sides_post_only() -> None:
    s, ctx, _ = _setup()
    s.on_book(ctx)
    news = [o for o in ctx.outbox if o.op == "NEW"]
    assert {o.side for o in news} == {BUY, SELL}
    assert all(o.flags == 1 for o in news)                       # post-only
    bid = next(o for o in news if o.side == BUY)
    ask = next(o for o in news if o.side == SELL)
    assert bid.price < ask.price and bid.price <= 5_000_100 and ask.price >= 5_000_100


def test_own_quotes_excluded_from_the_touch() -> None:
    s, ctx, _ = _setup()
    s.on_book(ctx)
    for o in ctx.orders.values():
        o.status = "live"
        ctx.book.apply(o.side, o.price, o.leaves_qty + (300 if o.price in (5_000_000, 5_000_200) else 0))
    assert MarketMakingStrategy.market_touch(ctx) == (5_000_000, 5_000_200)


def test_kill_switch_stops_quoting_at_once_then_retries() -> None:
    s, ctx, clock = _setup()
    s.on_book(ctx)
    for o in ctx.orders.values():
        o.status = "live"
    ctx.outbox.clear()
    oid = next(iter(ctx.orders))
    s.on_rejected(ctx, oid, "REJ_KILL_SWITCH")
    assert s.maker is not None and s.maker.reason == "circuit breaker"
    assert [o.op for o in ctx.outbox] == ["CANCEL", "CANCEL"]
    ctx.outbox.clear()
    clock[0] += 1_000_000_000
    s.on_book(ctx)
    assert ctx.outbox == []                                      # still blocked
    clock[0] += 2_000_000_000
    for o in list(ctx.orders.values()):
        s.on_cancelled(ctx, o, "CXL_USER")
        del ctx.orders[o.order_id]
    s.on_book(ctx)
    assert [o.op for o in ctx.outbox] == ["NEW", "NEW"]          # quoting again after stale_after_s


def test_halt_refusal_stops_quoting() -> None:
    s, ctx, _ = _setup()
    s.on_book(ctx)
    oid = next(iter(ctx.orders))
    s.on_rejected(ctx, oid, "REJ_PHASE")
    assert s.maker is not None and s.maker.reason == "halted"


def test_status_line_for_the_ops_shell(capsys: pytest.CaptureFixture[str]) -> None:
    s, ctx, _ = _setup(status_s="1")
    s.on_book(ctx)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["inventory"] == 0 and "regime" in line and "toxicity" in line and "pnl" in line


def test_a_halt_pulls_the_quotes_until_trading_resumes() -> None:
    s, ctx, clock = _setup()
    s.on_book(ctx)
    for o in ctx.orders.values():
        o.status = "live"
    ctx.outbox.clear()
    ctx.apply_phase(3, 2)                                        # CONTINUOUS -> HALTED (invoke is a no-op here)
    s.on_phase(ctx, "HALTED", "CONTINUOUS")
    assert s.maker is not None and s.maker.reason == "halted"
    assert [o.op for o in ctx.outbox] == ["CANCEL", "CANCEL"]
    ctx.outbox.clear()
    clock[0] += 60_000_000_000                                   # longer than stale_after_s: still halted
    s.on_book(ctx)
    assert ctx.outbox == []
    for o in list(ctx.orders.values()):
        s.on_cancelled(ctx, o, "CXL_USER")
        del ctx.orders[o.order_id]
    s.on_phase(ctx, "PRE_OPEN", "HALTED")                        # the reopening auction: still off
    assert ctx.outbox == []
    s.on_phase(ctx, "CONTINUOUS", "PRE_OPEN")
    assert [o.op for o in ctx.outbox] == ["NEW", "NEW"]          # quoting again at once


def test_iceberg_display_follows_the_sides_fill_rate() -> None:
    s, ctx, clock = _setup(iceberg_refill_s="2", quote_size="500", lot="100", max_inventory="5000")
    s.on_book(ctx)
    news = [o for o in ctx.outbox if o.op == "NEW"]
    # no fills seen yet: one lot shown of each quote, the rest in reserve (ICEBERG flag 2, post-only 1)
    assert news and all(o.display_qty == 100 and o.flags == 3 and o.qty > o.display_qty for o in news), news
    bid = next(o for o in news if o.side == BUY)
    from trading.strategy.api import Fill
    for _ in range(10):                                          # 100 shares per second filled on the bid
        clock[0] += 1_000_000_000
        s.on_fill(ctx, Fill(clock[0], bid.order_id, BUY, bid.price, 100, 400, True, 0.0))
    assert s.display_qty(ctx, BID, 500) == 200                  # 100/s x 2 s lasts one display
    assert s.display_qty(ctx, ASK, 500) == 100                  # the ask saw no fills
    assert s.display_qty(ctx, BID, 100) == 0                    # one lot: nothing to hide
    with pytest.raises(Exception, match="iceberg_refill_s"):
        _setup(iceberg_refill_s="-1")
