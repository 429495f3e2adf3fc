"""The order-velocity value operators write ("N/DURATION" or "none", gateway/control/order_velocity.py):
exact whole nanoseconds, every malformed value refused with a message, and the round trip through
describe()."""
from __future__ import annotations

import pytest

from gateway.control.order_velocity import NO_LIMIT, OrderVelocity, VelocityError, parse_order_velocity


@pytest.mark.parametrize("text, max_orders, window_ns", [
    ("100/1s", 100, 1_000_000_000), ("20/250ms", 20, 250_000_000), ("5/500us", 5, 500_000),
    ("1/7ns", 1, 7), (" 3 / 1.5s ", 3, 1_500_000_000), ("1_000/0.001ms", 1000, 1_000),
    ("4294967295/1s", 2**32 - 1, 1_000_000_000),
])
def test_values_become_exact_whole_numbers(text: str, max_orders: int, window_ns: int) -> None:
    v = parse_order_velocity(text)
    assert (v.max_orders, v.window_ns) == (max_orders, window_ns)
    assert parse_order_velocity(v.describe()) == v


@pytest.mark.parametrize("text", ["none", "NONE", "off", "unlimited"])
def test_no_limit_words(text: str) -> None:
    assert parse_order_velocity(text) == NO_LIMIT and NO_LIMIT.describe() == "none" and not NO_LIMIT.limited


@pytest.mark.parametrize("text, message", [
    ("100", "expected N/DURATION"), ("100/1", "expected N/DURATION"), ("100/1h", "expected N/DURATION"),
    ("-1/1s", "expected N/DURATION"), ("0/1s", "the order count must be 1.."),
    ("4294967296/1s", "the order count must be 1.."), ("5/0s", "the window must be > 0"),
    ("5/1.5ns", "not a whole number of nanoseconds"), ("5/10000000000s", "the window must be > 0 and at most"),
    ("", "expected N/DURATION"),
])
def test_malformed_values_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(VelocityError, match=message):
        parse_order_velocity(text)


def test_a_value_that_is_not_text_is_refused() -> None:
    with pytest.raises(VelocityError, match="expected a string"):
        parse_order_velocity(100)  # type: ignore[arg-type]


def test_describe_picks_the_largest_whole_unit() -> None:
    assert OrderVelocity(3, 2_000_000_000).describe() == "3/2s"
    assert OrderVelocity(3, 1_500_000_000).describe() == "3/1500ms"
    assert OrderVelocity(3, 1_001).describe() == "3/1001ns"
