"""backtest's order-to-trade ratio counts the strategy's mass cancels (one message per instrument)
with its other order messages, and prints them. Before, cancel_all() was left out: a strategy that
placed 2 orders, got 1 fill and pulled everything with one mass cancel printed 2.0, not 3.0."""
from __future__ import annotations

from tests.trading.replay.scenario import ADD, BUY, MS, SELL, T0, Scripted, day, replay
from trading.replay.results import summarize, terminal_summary
from trading.strategy.context import Context


class PullsEverything(Scripted):
    """The plan's orders, then one cancel_all at `at`."""

    def __init__(self, plan: dict[int, list[tuple[int, int, int]]], at: int) -> None:
        super().__init__(plan)
        self.at, self.pulled = at, False

    def on_timer(self, ctx: Context) -> None:
        super().on_timer(ctx)
        if not self.pulled and ctx.now >= self.at:
            self.pulled = True
            ctx.cancel_all()


def test_a_mass_cancel_counts_as_an_order_message() -> None:
    d = day([(T0, ADD, 1, 500, 10_000, BUY), (T0, ADD, 2, 500, 10_400, SELL),
             (T0 + 10 * MS, ADD, 3, 100, 10_200, SELL), (T0 + 50 * MS, ADD, 4, 100, 10_000, BUY)])
    result = replay(d, PullsEverything({T0 + MS: [(BUY, 10_200, 100), (BUY, 10_100, 100)]}, T0 + 20 * MS))
    assert result.error is None, result.error
    s = summarize(result)
    assert (s["fills"], s["orders_placed"], s["cancels_sent"], s["mass_cancels_sent"]) == (1, 2, 0, 1)
    assert s["order_to_trade"] == 3.0
    assert "orders 2, cancels 0, mass cancels 1, replaces 0" in terminal_summary(result)


class RaisesAfterPlacing(Scripted):
    """The plan's orders, then a callback that raises at `at`: the runner's clean-up pulls them."""

    def __init__(self, plan: dict[int, list[tuple[int, int, int]]], at: int) -> None:
        super().__init__(plan)
        self.at = at

    def on_timer(self, ctx: Context) -> None:
        super().on_timer(ctx)
        if ctx.now >= self.at:
            raise RuntimeError("boom")


def test_the_runners_clean_up_mass_cancel_is_reported_apart_not_as_the_strategys() -> None:
    """A strategy that raised never decided the mass cancel its runner sends: it is printed on a
    line of its own and left out of the strategy's mass cancels and order messages per fill (RTS 9
    leaves kill-functionality cancellations out). Before, it counted as the strategy's own."""
    d = day([(T0, ADD, 1, 500, 10_000, BUY), (T0, ADD, 2, 500, 10_400, SELL),
             (T0 + 10 * MS, ADD, 3, 100, 10_200, SELL), (T0 + 50 * MS, ADD, 4, 100, 10_000, BUY)])
    result = replay(d, RaisesAfterPlacing({T0 + MS: [(BUY, 10_200, 100), (BUY, 10_100, 100)]}, T0 + 20 * MS))
    assert result.error is not None and "boom" in result.error
    s = summarize(result)
    assert (s["fills"], s["orders_placed"], s["mass_cancels_sent"], s["runtime_mass_cancels_sent"]) == (1, 2, 0, 1)
    assert s["order_to_trade"] == 2.0
    text = terminal_summary(result)
    assert "mass cancels 0" in text and "the runner's clean-up mass cancels (a failure, stop or pause; not counted above): 1" in text
    assert "order messages per fill 2.0" in text
