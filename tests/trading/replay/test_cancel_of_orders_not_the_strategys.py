"""A strategy's cancel of an order it did not place (a replayed historical order, named by its
LOBSTER id) never reaches the engine: the engine does not check whose order a cancel names (the
gateway does, GW_NOT_OWNER), so in the replay such a cancel used to remove the historical order
(the history's own later CANCEL of it then refused). Context.cancel refuses it with a ValueError,
in both loops; a cancel of the strategy's own id space still goes to the engine (on_rejected)."""
from __future__ import annotations

import csv
from typing import Any

import pytest

from tests.trading.replay.conftest import AAPL, sample
from trading.replay.history import build_history
from trading.replay.lobster import load_lobster
from trading.replay.runtime import ReplayConfig, run_replay
from trading.strategy.api import Strategy
from trading.strategy.context import Context


class CancelsOthers(Strategy):
    """At its first firing cancels each id of `ids` (noting which calls were refused), then
    cancels one id of its own id space it never placed."""
    name = "cancels-others"

    def __init__(self, ids: list[int]) -> None:
        super().__init__()
        self.ids = ids
        self.refused: list[int] = []
        self.rejected: list[tuple[int, str]] = []
        self.fired = False

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(50_000_000)

    def on_timer(self, ctx: Context) -> None:
        if self.fired:
            return
        self.fired = True
        for order_id in self.ids:
            try:
                ctx.cancel(order_id)
            except ValueError:
                self.refused.append(order_id)
        ctx.cancel(ctx.id_base | 999_999)          # its own id space, never placed: the engine refuses it

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        self.rejected.append((order_id, reason))


@pytest.mark.parametrize("loop", ["python", "auto"])
def test_a_cancel_of_a_historical_order_is_refused_and_leaves_the_history_alone(loop: str) -> None:
    path = sample(AAPL)
    with open(path, newline="") as f:
        added = [int(row[2]) for row in csv.reader(f) if row[1] == "1"][:60]
    history = build_history(load_lobster(path))
    alone = run_replay(history, CancelsOthers([]), ReplayConfig(compute="none", loop=loop))
    strategy = CancelsOthers(added)
    r = run_replay(history, strategy, ReplayConfig(compute="none", loop=loop))
    assert r.error is None
    assert strategy.refused == added
    # the day's own messages all applied, as without the strategy (none of them refused)
    refusals = {k: v for k, v in r.counts.items() if "refused" in k}
    assert refusals == {k: v for k, v in alone.counts.items() if "refused" in k} == {}
    assert [oid for oid, _ in strategy.rejected] == [r.ctx.id_base | 999_999]
    assert r.ctx.sent["CANCEL"] == 1


@pytest.mark.parametrize("order_id", [1, 16113575, -1, (1 << 62) | (7 << 40) | 1, "1", 1.0])
def test_context_cancel_refuses_ids_it_cannot_have_placed(order_id: Any) -> None:
    ctx = Context(1, 3, 10_000, 100)
    with pytest.raises(ValueError, match="not this strategy's"):
        ctx.cancel(order_id)
    assert ctx.outbox == [] and ctx.sent["CANCEL"] == 0
    ctx.cancel(ctx.id_base | 5)                    # its own id space: sent (the engine answers)
    assert [o.order_id for o in ctx.outbox] == [ctx.id_base | 5]
