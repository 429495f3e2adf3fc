"""Hand-built historical days for the fidelity tests: a MarketDay from a few message tuples, and a
scripted strategy that places orders at given times and records what reaches it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from trading.replay.data import BUY, SELL, Kind, MarketDay
from trading.replay.history import build_history
from trading.replay.runtime import ReplayConfig, ReplayResult, run_replay
from trading.strategy.api import Fill, OwnOrder, Strategy
from trading.strategy.context import Context

T0 = 34_200_000_000_000   # 09:30 in ns after midnight
MS = 1_000_000
ADD, REDUCE, DELETE, EXECUTE, HIDDEN = Kind.ADD, Kind.REDUCE, Kind.DELETE, Kind.EXECUTE, Kind.HIDDEN


def day(messages: list[tuple[int, int, int, int, int, int]], levels: list[tuple[int, int, int]] | None = None,
        tick: int = 100) -> MarketDay:
    """messages: (t_ns, kind, order_id, qty, price, side); levels: the book before the first one."""
    arr = np.array(messages, dtype=np.int64).reshape(-1, 6)
    d = MarketDay(path=Path("scenario"), symbol="TEST", ts_ns=arr[:, 0], kind=arr[:, 1].astype(np.uint8),
                  order_id=arr[:, 2].astype(np.uint64), qty=arr[:, 3], price=arr[:, 4],
                  side=arr[:, 5].astype(np.uint8), row=np.arange(1, len(arr) + 1), tick_size=tick,
                  initial_levels=list(levels or []))
    d.check()
    return d


class Scripted(Strategy):
    """Places the orders of `plan` ({time: [(side, price, qty), ...]}) at those times (a timer per
    time), cancels per `cancels` ({time: [index of the placed order, ...]}), records everything."""
    name = "scripted"

    def __init__(self, plan: dict[int, list[tuple[int, int, int]]], cancels: dict[int, list[int]] | None = None,
                 raise_at: int | None = None) -> None:
        super().__init__()
        self.plan, self.cancels, self.raise_at = plan, cancels or {}, raise_at
        self.placed: list[int] = []
        self.fills: list[Fill] = []
        self.seen: list[tuple[int, str, Any]] = []
        self.times = sorted(set(plan) | set(self.cancels) | ({raise_at} if raise_at is not None else set()))

    def on_start(self, ctx: Context) -> None:
        self._act(ctx)
        if self.times:
            ctx.set_timer(MS)   # plan times are T0 + whole milliseconds (the first message is at T0)

    def on_timer(self, ctx: Context) -> None:
        self._act(ctx)

    def _act(self, ctx: Context) -> None:
        while self.times and self.times[0] <= ctx.now:
            t = self.times.pop(0)
            if t == self.raise_at:
                raise RuntimeError("scripted failure")
            for side, price, qty in self.plan.get(t, []):
                self.placed.append(ctx.place(side, price, qty))
            for k in self.cancels.get(t, []):
                ctx.cancel(self.placed[k])

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.fills.append(fill)
        self.seen.append((ctx.now, "fill", fill))

    def on_accepted(self, ctx: Context, order: OwnOrder) -> None:
        self.seen.append((ctx.now, "accepted", order.order_id))

    def on_cancelled(self, ctx: Context, order: OwnOrder, reason: str) -> None:
        self.seen.append((ctx.now, "cancelled", reason))


def replay(d: MarketDay, strategy: Strategy, **config: Any) -> ReplayResult:
    config.setdefault("compute", "none")
    return run_replay(build_history(d), strategy, ReplayConfig(**config))


__all__ = ["ADD", "BUY", "DELETE", "EXECUTE", "HIDDEN", "MS", "REDUCE", "SELL", "T0", "Scripted", "day", "replay"]
