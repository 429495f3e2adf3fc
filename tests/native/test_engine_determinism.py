"""The engine is a pure function of its input: the same command stream gives the same event bytes
and state hash, and the state hash depends on logical state only, not on pool-slot history."""
from __future__ import annotations

import msgspec
import numpy as np

from native.messages import AddInstrument, Cancel, Command, NewOrder, Replace, SetPhase
from native.engine import Engine
from native.records import encode_commands
from tests.native.streams import seeded_stream

CAPS = dict(max_orders=1_000, max_levels=1_000, max_instruments=3, max_accounts=4)


def run(records: np.ndarray) -> tuple[bytes, int]:
    with Engine(**CAPS) as eng:
        out = eng.submit_records(records)
        eng.check()
        return out.tobytes(), eng.state_hash()


def test_same_stream_twice_gives_identical_event_bytes_and_state_hash() -> None:
    records = encode_commands(seeded_stream(seed=7, n_commands=3_000))
    first, second = run(records), run(records)
    assert len(first[0]) > 96 * 3_000
    assert first == second


def test_stream_split_into_batches_gives_the_same_bytes_as_one_batch() -> None:
    records = encode_commands(seeded_stream(seed=11, n_commands=2_000))
    whole = run(records)
    with Engine(**CAPS) as eng:
        parts = [eng.submit_records(chunk) for chunk in np.array_split(records, 7)]
        assert b"".join(p.tobytes() for p in parts) == whole[0]
        assert eng.state_hash() == whole[1]


def _stamp(cmds: list[Command]) -> list[Command]:
    return [msgspec.structs.replace(c, ts_ns=c.seq * 1_000) for c in cmds]


PREAMBLE = [
    AddInstrument(instrument_id=1, seq=1, tick_size=1, lot_size=1, reference_price=100),
    SetPhase(instrument_id=1, seq=2, phase=1),
    SetPhase(instrument_id=1, seq=3, phase=2),
]


def _order(seq: int, order_id: int, side: int, price: int) -> Command:
    return NewOrder(instrument_id=1, seq=seq, order_id=order_id, side=side, price=price,
                    qty=5, ord_type=1, tif=2)


def test_state_hash_ignores_which_pool_slots_hold_the_orders() -> None:
    direct = _stamp(PREAMBLE + [_order(10, 1, 1, 99), _order(11, 2, 2, 101)])
    # same final state, but orders 1 and 2 land in slots freed by earlier orders (LIFO free list)
    detour = _stamp(PREAMBLE + [_order(4, 7, 1, 50), _order(5, 8, 2, 150),
                                Cancel(instrument_id=1, seq=6, order_id=7),
                                Cancel(instrument_id=1, seq=7, order_id=8),
                                _order(10, 1, 1, 99), _order(11, 2, 2, 101)])
    hashes = []
    for cmds in (direct, detour):
        with Engine(**CAPS) as eng:
            eng.submit(cmds)
            eng.check()
            hashes.append(eng.state_hash())
    assert hashes[0] == hashes[1]


def test_state_hash_changes_when_the_book_changes() -> None:
    with Engine(**CAPS) as eng:
        eng.submit(_stamp(PREAMBLE + [_order(10, 1, 1, 99)]))
        before = eng.state_hash()
        eng.submit(_stamp([Replace(instrument_id=1, seq=11, order_id=1, price=99, qty=4)]))
        assert eng.state_hash() != before
