"""Bad parent orders are refused with the field named and nothing sent: end before start, a
quantity off the lot, a participation above 100 %, an unknown instrument (and the rest of the
checks); through the strategy, the refusal comes before any order."""
from __future__ import annotations

import pytest

from trading.execution.parent import InstrumentRules, ParentOrder, ParentOrderRefused, validate
from trading.execution.strategy import ExecutionStrategy
from trading.strategy.context import Context

RULES = {7: InstrumentRules(lot_size=100, tick_size=100)}
GOOD = ParentOrder(instrument_id=7, side=1, qty=1000, algo="TWAP", start_ns=10, end_ns=20)


def test_a_good_order_passes() -> None:
    assert validate(GOOD, RULES) is GOOD


@pytest.mark.parametrize("changes, field, words", [
    ({"end_ns": 5}, "end_ns", "after the start"),
    ({"end_ns": 10}, "end_ns", "after the start"),
    ({"qty": 1050}, "qty", "lot"),
    ({"qty": 0}, "qty", "positive"),
    ({"max_participation": 1.5}, "max_participation", "between 0 and 1"),
    ({"target_participation": 2.0}, "target_participation", "between 0 and 1"),
    ({"max_participation": 0.0}, "max_participation", "above 0"),
    ({"instrument_id": 8}, "instrument_id", "unknown instrument"),
    ({"algo": "SNIPER"}, "algo", "one of"),
    ({"side": 3}, "side", "buy"),
    ({"limit_price": 150}, "limit_price", "tick"),
    ({"risk_aversion": -1.0}, "risk_aversion", "negative"),
    ({"min_participation": 0.5, "max_participation": 0.2}, "min_participation", "above max"),
])
def test_bad_orders_are_refused_naming_the_field(changes: dict[str, object], field: str, words: str) -> None:
    bad = ParentOrder(**{**GOOD.__dict__, **changes})  # type: ignore[arg-type]
    with pytest.raises(ParentOrderRefused) as err:
        validate(bad, RULES)
    assert err.value.field == field
    assert words in str(err.value)


@pytest.mark.parametrize("params, field", [
    ({"duration_s": -60.0}, "end_ns"),
    ({"qty": 150, "lot_size": 100}, "qty"),
    ({"max_participation": 1.01}, "max_participation"),
    ({"algo": "VWAP"}, "profile"),
    ({"algo": "IS"}, "impact_y"),
    ({"decision_ms": 0}, "decision_ms"),
])
def test_strategy_refuses_before_any_order(params: dict[str, object], field: str) -> None:
    strategy = ExecutionStrategy(**{"qty": 1000, **params})
    ctx = Context(instrument_id=1, account_id=2, tick_size=100)
    with pytest.raises(ParentOrderRefused) as err:
        strategy.on_start(ctx)
    assert err.value.field == field
    assert ctx.outbox == [] and ctx.timers == []


def test_amendment_is_validated_and_a_refused_one_changes_nothing() -> None:
    strategy = ExecutionStrategy(qty=1000, duration_s=60.0)
    ctx = Context(instrument_id=1, account_id=2, tick_size=100)
    strategy.on_start(ctx)
    before = strategy.order
    with pytest.raises(ParentOrderRefused):
        strategy.amend(ctx, max_participation=3.0)
    with pytest.raises(ParentOrderRefused, match="cannot be amended"):
        strategy.amend(ctx, side=2)
    assert strategy.order is before
    strategy.amend(ctx, qty=500)
    assert strategy.order is not None and strategy.order.qty == 500
