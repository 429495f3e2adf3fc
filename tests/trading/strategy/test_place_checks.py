"""Context.place's bad-input contract: each bad argument gets its own message (the first one's where
several are bad), a refused order uses no order id and sends nothing, and the common order (one
combined test, no int() calls) is booked exactly as the same order given through the detailed
checks (numpy integers, the primary instrument named)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trading.strategy.api import BUY, SELL
from trading.strategy.context import ICEBERG, POST_ONLY, TIFS, Context, Limits

PRIMARY = 7


def _ctx() -> Context:
    ctx = Context(PRIMARY, 3, limits=Limits(max_order_qty=1000), clock=lambda: 42)
    ctx.add_instrument(8)
    return ctx


@pytest.mark.parametrize("kwargs, error, message", [
    ({"side": 3}, ValueError, "side must be BUY (1) or SELL (2), got 3"),
    ({"side": "B"}, ValueError, "side must be BUY (1) or SELL (2), got 'B'"),
    ({"tif": "GTD"}, ValueError, "tif must be one of GTC, DAY, IOC, FOK, got 'GTD'"),
    ({"qty": 1001}, ValueError, "qty 1001 above the strategy's max_order_qty 1000"),
    ({"display_qty": 100}, ValueError, "display_qty must be in 1..qty-1 (99) on a GTC or DAY order, got 100 (GTC)"),
    ({"display_qty": 10, "tif": "IOC"}, ValueError, "display_qty must be in 1..qty-1 (99) on a GTC or DAY order"),
    ({"display_qty": -1}, ValueError, "display_qty must be in 1..qty-1"),
    ({"client_order_id": -1}, ValueError, "client_order_id must be in 0..2^64-1, got -1"),
    ({"client_order_id": 1 << 64}, ValueError, "client_order_id must be in 0..2^64-1"),
    ({"instrument": 9}, ValueError, "instrument 9 is not followed by this strategy (followed: 7, 8)"),
    # several bad: the first check's message, as before the combined test existed
    ({"side": 0, "tif": "GTD", "qty": 5000}, ValueError, "side must be BUY (1) or SELL (2), got 0"),
    ({"side": 0, "tif": ["GTC"]}, ValueError, "side must be BUY (1) or SELL (2), got 0"),
    ({"tif": "X", "qty": 5000}, ValueError, "tif must be one of"),
    ({"instrument": 9, "side": 0}, ValueError, "instrument 9 is not followed"),
])
def test_each_bad_argument_gets_its_message_and_nothing_is_sent(kwargs: dict[str, Any], error: type,
                                                                  message: str) -> None:
    ctx = _ctx()
    args: dict[str, Any] = {"side": BUY, "price": 100, "qty": 100, **kwargs}
    with pytest.raises(error) as exc:
        ctx.place(**args)
    assert message in str(exc.value)
    assert not ctx.outbox and not ctx.orders and ctx.sent["NEW"] == 0 and ctx.placed_qty == 0
    assert ctx.place(BUY, 100, 1) == ctx.id_base | 1      # the refused order used no id


def test_a_stopped_strategy_places_nothing() -> None:
    ctx = _ctx()
    ctx.stopped = True
    for kwargs in ({}, {"instrument": 8}, {"display_qty": 5}):
        with pytest.raises(RuntimeError, match="the strategy was stopped"):
            ctx.place(SELL, 100, 10, **kwargs)
    assert not ctx.outbox and not ctx.orders


def test_a_bad_argument_is_named_before_the_stop() -> None:
    ctx = _ctx()
    ctx.stopped = True
    with pytest.raises(ValueError, match="side must be"):
        ctx.place(0, 100, 10)


def test_the_common_order_is_booked_as_the_same_order_through_the_checks() -> None:
    """place(BUY, 100, 5) takes the combined test; the same order with numpy integers, the primary
    instrument named, or a zero client order id given as a numpy integer takes the detailed checks:
    the same OwnOrder, the same command (ints, not numpy), ids counting up."""
    variants: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((BUY, 100, 5), {}), ((BUY, np.int64(100), np.int32(5)), {}), ((BUY, 100, 5), {"instrument": PRIMARY}),
        ((BUY, 100, 5), {"client_order_id": np.uint64(0)}), ((BUY, 100.0, 5), {"display_qty": 0.0})]
    booked = []
    for n, (args, kwargs) in enumerate(variants, 1):
        ctx = _ctx()
        ctx.continue_order_ids_from(n)      # a different id each: the comparison below masks it
        order_id = ctx.place(*args, **kwargs)
        assert order_id == ctx.id_base | n
        order, out = ctx.orders[order_id], ctx.outbox[-1]
        assert all(type(v) is int for v in (order.price, order.qty, order.leaves_qty, out.price, out.qty,
                                             out.display_qty, out.client_order_id, out.instrument_id, out.tif))
        booked.append((order.side, order.price, order.qty, order.leaves_qty, order.tif, order.status,
                       order.sent_ns, order.display_qty, order.instrument_id, out._replace(order_id=0),
                       ctx.sent["NEW"], ctx.placed_qty))
    assert all(b == booked[0] for b in booked), booked
    assert booked[0][9] == (42, "NEW", 0, BUY, 100, 5, TIFS["GTC"], 0, 0, PRIMARY, 0)


def test_an_iceberg_post_only_order_on_another_instrument_keeps_its_fields() -> None:
    ctx = _ctx()
    order_id = ctx.place(SELL, 250, 300, tif="DAY", post_only=True, display_qty=100, instrument=8,
                         client_order_id=77)
    out = ctx.outbox[-1]
    assert out == (42, "NEW", order_id, SELL, 250, 300, TIFS["DAY"], POST_ONLY | ICEBERG, 100, 8, 77)
    assert ctx.orders[order_id].instrument_id == 8 and ctx.orders[order_id].display_qty == 100
