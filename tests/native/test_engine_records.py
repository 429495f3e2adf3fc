"""native.records derives every record shape and enum from cffi, encodes and decodes the typed
Structs of native.messages, and converts them to and from the dict form the Python oracle speaks."""
from __future__ import annotations

import numpy as np
import pytest

from native.messages import (AddInstrument, Cancel, NewOrder, PhaseEvent, RejectedEvent, SetPhase, Time,
                             UnknownCommand)
from native._venue import ffi, lib
from native.engine import Engine
from native.records import (CMD_DTYPES, EVT_DTYPES, RECORD_DTYPE, CmdType, EvtType, Reason, command_from_dict,
                            decode_commands, decode_events, dtype_of, encode_command, encode_commands,
                            event_from_dict, to_dict, type_name)


def test_dtypes_use_the_compiler_offsets_and_fill_a_96_byte_record() -> None:
    dt = dtype_of("eng_new_order_t")
    assert dt.itemsize == 96
    assert dt.fields["order_id"][1] == ffi.offsetof("eng_new_order_t", "order_id")
    assert dt.fields["flags"][1] == ffi.offsetof("eng_new_order_t", "flags")
    assert dt.fields["ts_ns"][1] == ffi.offsetof("eng_cmd_hdr_t", "ts_ns")
    assert not [n for n in dt.names if n.startswith("_pad")]
    assert set(CMD_DTYPES) == {int(c) for c in CmdType} and set(EVT_DTYPES) == {int(e) for e in EvtType}


def test_enums_come_from_the_lib_constants() -> None:
    assert CmdType.NEW_ORDER == lib.ENG_CMD_NEW_ORDER and EvtType.TRADE == lib.ENG_EVT_TRADE
    assert Reason.REJ_OFF_TICK == lib.ENG_REJ_OFF_TICK and Reason.OK == 0
    assert Reason.CXL_STP == lib.ENG_CXL_STP and Reason.EXP_GTD == lib.ENG_EXP_GTD


def test_command_encodes_field_by_field_and_zero_elsewhere() -> None:
    raw = encode_command(Cancel(instrument_id=3, seq=9, ts_ns=5, order_id=77))
    assert len(raw) == 96
    c = ffi.from_buffer("eng_cmd_t *", bytearray(raw))
    assert (c.hdr.type, c.hdr.instrument_id, c.hdr.seq, c.hdr.ts_ns, c.cancel.order_id) == (2, 3, 9, 5, 77)
    assert raw[32:] == bytes(64)


def test_dict_form_converts_both_ways_and_an_unknown_key_is_a_value_error_naming_it() -> None:
    cmd = command_from_dict({"type": "CANCEL", "instrument_id": 3, "seq": 9, "order_id": 77})
    assert cmd == Cancel(instrument_id=3, seq=9, order_id=77)
    assert to_dict(cmd) == {"type": "CANCEL", "session": 0, "instrument_id": 3, "seq": 9, "ts_ns": 0,
                            "order_id": 77, "client_order_id": 0}
    assert command_from_dict({"type": 99, "seq": 1}) == UnknownCommand(code=99, seq=1)
    with pytest.raises(ValueError, match="bogus"):
        command_from_dict({"type": "CANCEL", "seq": 1, "bogus": 1})
    with pytest.raises(ValueError, match="_pad1"):
        command_from_dict({"type": "NEW_ORDER", "seq": 1, "_pad1": 0})
    with pytest.raises(ValueError, match="NOT_A_COMMAND"):
        command_from_dict({"type": "NOT_A_COMMAND"})
    with pytest.raises(ValueError, match="without 'type'"):
        command_from_dict({"seq": 1})
    with pytest.raises(ValueError, match="no_such"):
        event_from_dict({"type": "TRADE", "no_such": 1})


def test_bad_values_are_refused_at_encoding() -> None:
    with pytest.raises(OverflowError):
        encode_commands([Cancel(seq=-1)])
    with pytest.raises(OverflowError):
        encode_commands([UnknownCommand(code=1 << 16)])
    with pytest.raises(ValueError, match="order_id"):
        encode_commands([Cancel(seq=1, order_id=1.5)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_commands([{"type": "CANCEL", "seq": 1}])  # type: ignore[list-item]


def test_numeric_unknown_command_type_encodes_and_is_rejected_by_the_engine() -> None:
    with Engine(max_orders=4, max_levels=4, max_instruments=1, max_accounts=1) as eng:
        (ev,) = eng.submit([UnknownCommand(code=99, instrument_id=0, seq=1, ts_ns=1)])
    assert ev == RejectedEvent(reason=int(Reason.REJ_UNKNOWN_COMMAND), instrument_id=0, seq=1, ts_ns=1,
                               order_id=0, client_order_id=0, account_id=0, cmd_type=99)


def test_records_round_trip_through_structs() -> None:
    cmds = [AddInstrument(instrument_id=1, seq=1, tick_size=1, lot_size=1, reference_price=5),
            NewOrder(instrument_id=1, seq=2, order_id=(1 << 64) - 1, price=-(1 << 63), side=2),
            UnknownCommand(code=4242, seq=3)]
    assert decode_commands(encode_commands(cmds)) == cmds


def test_events_decode_to_plain_ints_without_pad_fields() -> None:
    with Engine(max_orders=4, max_levels=4, max_instruments=1, max_accounts=1) as eng:
        events = eng.submit([AddInstrument(instrument_id=1, seq=1, ts_ns=10,
                                           tick_size=1, lot_size=1, reference_price=5),
                             SetPhase(instrument_id=1, seq=2, ts_ns=11, phase=1)])
    assert [type_name(e) for e in events] == ["CMD_ACK", "PHASE", "CMD_ACK"]
    assert events[1] == PhaseEvent(reason=0, instrument_id=1, seq=2, ts_ns=11, phase=1, prev_phase=0)
    assert to_dict(events[1]) == {"type": "PHASE", "reason": 0, "instrument_id": 1, "seq": 2, "ts_ns": 11,
                                  "phase": 1, "prev_phase": 0}
    for e in events:
        assert all(type(v) is int for k, v in to_dict(e).items() if k != "type")


def test_bulk_path_takes_and_returns_raw_records() -> None:
    cmds = encode_commands([Time(seq=s, ts_ns=s) for s in range(1, 101)])
    with Engine(max_orders=4, max_levels=4, max_instruments=1, max_accounts=1) as eng:
        out = eng.submit_records(cmds.view(CMD_DTYPES[CmdType.TIME]))
    assert out.dtype == RECORD_DTYPE and len(out) == 100
    acks = out.view(EVT_DTYPES[EvtType.CMD_ACK])
    assert np.all(acks["type"] == EvtType.CMD_ACK) and np.all(acks["cmd_type"] == CmdType.TIME)
    assert decode_events(out[:1])[0].seq == 1
