"""Bad input through the Python API becomes REJECTED events with the ENGINE.md reason, never a
crash or an exception, and leaves the engine's state unchanged."""
from __future__ import annotations

import pytest

from native.engine import Engine
from native.messages import RejectedEvent
from native.records import OrdType, Phase, Reason, Side, Tif, command_from_dict

OPEN = [
    {"type": "ADD_INSTRUMENT", "instrument_id": 1, "seq": 1, "tick_size": 100, "lot_size": 10,
     "reference_price": 10_000},
    {"type": "SET_PHASE", "instrument_id": 1, "seq": 2, "phase": Phase.PRE_OPEN},
    {"type": "SET_PHASE", "instrument_id": 1, "seq": 3, "phase": Phase.CONTINUOUS},
    {"type": "NEW_ORDER", "instrument_id": 1, "seq": 4, "order_id": 1, "side": Side.BUY, "price": 9_900, "qty": 10,
     "ord_type": OrdType.LIMIT, "tif": Tif.GTC},
]
GOOD = {"type": "NEW_ORDER", "instrument_id": 1, "seq": 10, "order_id": 2, "side": Side.SELL, "price": 10_100,
        "qty": 10, "ord_type": OrdType.LIMIT, "tif": Tif.GTC, "account_id": 1}

CASES = [
    ({"instrument_id": 9}, Reason.REJ_UNKNOWN_INSTRUMENT),
    ({"account_id": 4}, Reason.REJ_BAD_ACCOUNT),
    ({"side": 3}, Reason.REJ_BAD_SIDE),
    ({"ord_type": 9}, Reason.REJ_BAD_ORDER_TYPE),
    ({"tif": 0}, Reason.REJ_BAD_TIF),
    ({"flags": 8}, Reason.REJ_BAD_FLAGS),
    ({"qty": 0}, Reason.REJ_BAD_QTY),
    ({"qty": -10}, Reason.REJ_BAD_QTY),
    ({"qty": 15}, Reason.REJ_OFF_LOT),
    ({"price": 0}, Reason.REJ_BAD_PRICE),
    ({"price": 10_150}, Reason.REJ_OFF_TICK),
    ({"stop_price": 100}, Reason.REJ_BAD_STOP_PRICE),
    ({"display_qty": 5}, Reason.REJ_BAD_DISPLAY_QTY),
    ({"expire_ts_ns": 5}, Reason.REJ_BAD_EXPIRY),
    ({"stp_mode": 5}, Reason.REJ_BAD_STP_MODE),
    ({"order_id": 0}, Reason.REJ_DUPLICATE_ORDER_ID),
    ({"order_id": 1}, Reason.REJ_DUPLICATE_ORDER_ID),
    ({"seq": 4}, Reason.REJ_BAD_SEQUENCE),
    ({"type": "CANCEL", "order_id": 42, **{k: 0 for k in ()}}, Reason.REJ_UNKNOWN_ORDER),
]


@pytest.mark.parametrize(("change", "reason"), CASES, ids=[r.name for _, r in CASES])
def test_bad_command_is_one_rejected_event_and_changes_nothing(change: dict, reason: int) -> None:
    fields = {**GOOD, **change}
    if fields["type"] == "CANCEL":
        fields = {k: fields[k] for k in ("type", "instrument_id", "seq", "order_id")}
    cmd = command_from_dict(fields)
    with Engine(max_orders=16, max_levels=16, max_instruments=2, max_accounts=4) as eng:
        eng.submit([command_from_dict(c) for c in OPEN])
        before = eng.state_hash()
        events = eng.submit([cmd])
        eng.check()
        assert len(events) == 1 and isinstance(events[0], RejectedEvent), events
        assert events[0].reason == reason
        if reason != Reason.REJ_BAD_SEQUENCE:
            # only the sequence number and the clock moved
            eng.submit([command_from_dict({"type": "TIME", "seq": 1_000, "ts_ns": 0})])
            with Engine(max_orders=16, max_levels=16, max_instruments=2, max_accounts=4) as ref:
                ref.submit([command_from_dict(c) for c in OPEN + [{"type": "TIME", "seq": 1_000, "ts_ns": 0}]])
                assert eng.state_hash() == ref.state_hash()
        else:
            assert eng.state_hash() == before


def test_queries_on_unknown_things_answer_none_or_raise_typed_errors() -> None:
    with Engine(max_orders=4, max_levels=4, max_instruments=1, max_accounts=1) as eng:
        assert eng.order(123) is None and eng.instrument(1) is None
        with pytest.raises(LookupError):
            eng.depth(1, Side.BUY)
