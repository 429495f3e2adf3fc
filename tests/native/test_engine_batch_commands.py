"""native.batch builds the same 96-byte records as the Struct path (records.encode_commands), one
command at a time (CommandBuffer) or from numpy columns (encode_columns), and the engine gives the
same events for them; unknown names are refused."""
from __future__ import annotations

import numpy as np
import pytest

from native import records
from native.batch import CommandBuffer, encode_columns
from native.engine import Engine
from native.messages import Cancel, Execute, NewOrder, Replace, UnknownCommand
from tests.native.streams import seeded_stream


def test_command_buffer_records_equal_the_struct_encoding_for_every_command_type():
    cmds = seeded_stream(11, 3_000, outside_flow=True)
    buf = CommandBuffer(capacity=16)   # grows while appending
    known = [c for c in cmds if not isinstance(c, UnknownCommand)]
    for c in known:
        fields = records.to_dict(c)
        buf.append(str(fields.pop("type")), **fields)  # type: ignore[arg-type]
    want = records.encode_commands(known)
    assert buf.records().tobytes() == want.tobytes()
    with Engine(1000, 1000, 3, 4) as a, Engine(1000, 1000, 3, 4) as b:
        assert a.submit_records(buf.records()).tobytes() == b.submit_records(want).tobytes()


def test_fast_paths_equal_the_struct_encoding():
    buf = CommandBuffer()
    buf.new_limit(1, 5, 50, 7, 2, 10_010, 30, 3, 4, client_order_id=9, stp_group=1, stp_mode=2, flags=0)
    buf.cancel(1, 6, 60, 7)
    buf.replace(2, 7, 70, 8, 9_990, 12)
    want = records.encode_commands([
        NewOrder(instrument_id=1, seq=5, ts_ns=50, order_id=7, side=2, price=10_010, qty=30, account_id=3,
                 tif=4, ord_type=1, client_order_id=9, stp_group=1, stp_mode=2),
        Cancel(instrument_id=1, seq=6, ts_ns=60, order_id=7),
        Replace(instrument_id=2, seq=7, ts_ns=70, order_id=8, price=9_990, qty=12)])
    assert buf.records().tobytes() == want.tobytes()
    buf.clear()
    assert len(buf) == 0 and buf.records().shape == (0,)


def test_encode_columns_equals_the_struct_encoding():
    n = 5
    got = encode_columns("EXECUTE", n, instrument_id=1, seq=np.arange(1, n + 1), ts_ns=np.arange(n) * 10,
                         order_id=np.arange(100, 100 + n), qty=7, contra_account_id=2)
    want = records.encode_commands([Execute(instrument_id=1, seq=i + 1, ts_ns=i * 10, order_id=100 + i, qty=7,
                                            contra_account_id=2) for i in range(n)])
    assert got.tobytes() == want.tobytes()


def test_unknown_names_are_refused():
    buf = CommandBuffer()
    with pytest.raises(ValueError, match="unknown command type"):
        buf.append("NOPE", seq=1)
    with pytest.raises(ValueError, match="unknown field"):
        buf.append("CANCEL", seq=1, price=3)
    with pytest.raises(ValueError, match="unknown field"):
        encode_columns("CANCEL", 2, price=3)
    with pytest.raises(ValueError, match="unknown command type"):
        encode_columns("NOPE", 2)
    assert len(buf) == 0
