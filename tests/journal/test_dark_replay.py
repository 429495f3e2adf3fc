"""Determinism of a dark midpoint venue: an engine process started with --dark journals NBBO
commands and midpoint pegs like any other command; the journal replayed twice from scratch gives
the hash the process printed when it stopped and the event journal it wrote, byte for byte,
stale-quote refusals included (staleness is judged on the journaled timestamps, never the clock).
"""
from __future__ import annotations

import random
import re
import time

import numpy as np

from gateway.enginehost import journal
from native import records
from native.messages import Cancel, Command, NewOrder, Nbbo, OrdType, Reason, Side, Tif
from shm.client import EngineClient

from .conftest import wait_for

MAX_AGE_NS = 200_000_000  # 200 ms: a batch's own quotes are fresh, the previous batch's are not


def _dark_stream(rng: random.Random, n: int, first_oid: int) -> list[Command]:
    """Pegs (limits, MAQs, IOCs) and cancels on instruments 1 and 2 (tick 2), with NBBOs around
    10000 (sometimes locked or crossed) stamped now; the first 20 commands are pegs, which meet
    the quotes of the previous batch, stale by the time they run (the test sleeps in between)."""
    cmds: list[Command] = []
    for i in range(n):
        oid, iid = first_oid + i, 1 + i % 2
        roll = rng.random() if i >= 20 else 1.0
        if roll < 0.2:
            bid = 10_000 + 2 * rng.randrange(-3, 4)
            ask = bid + 2 * rng.choice((1, 1, 2, 0, -1))  # one-tick spreads: half-tick midpoints
            cmds.append(Nbbo(instrument_id=iid, bid_price=bid, ask_price=ask, bid_qty=100, ask_qty=100,
                             quote_ts_ns=time.monotonic_ns()))
        elif roll < 0.3:
            cmds.append(Cancel(instrument_id=iid, order_id=rng.randrange(max(first_oid, oid - 40), oid)))
        else:
            qty = rng.randrange(1, 30)
            cmds.append(NewOrder(
                instrument_id=iid, order_id=oid, client_order_id=oid, qty=qty,
                price=rng.choice((0, 0, 10_000 + 2 * rng.randrange(-4, 5))),
                display_qty=rng.choice((0, 0, rng.randrange(0, qty + 1))), side=rng.choice((1, 2)),
                ord_type=int(OrdType.MIDPOINT_PEG), tif=int(rng.choice((Tif.GTC, Tif.IOC))),
                account_id=rng.randrange(16)))
    return cmds


def test_dark_venue_journal_replays_to_identical_hash_and_events(engine_proc) -> None:
    rng = random.Random(21)
    eng = engine_proc(["--instruments", "1:2,2:2", "--dark", str(MAX_AGE_NS)])
    eng.start()
    with EngineClient(eng.name) as client:
        for start in range(1, 4001, 500):
            time.sleep(1.5 * MAX_AGE_NS / 1e9)
            client.submit_many(_dark_stream(rng, 500, start))
    assert eng.stop() == 0
    stopped_hash = int(eng.log().rsplit("state hash ", 1)[1].split()[0], 16)

    first, e1 = journal.verify(str(eng.journal_dir))
    second, e2 = journal.verify(str(eng.journal_dir))
    e1.close()
    e2.close()
    assert first.commands == second.commands == 4000 + 6  # boot: 2 x (ADD, PRE_OPEN, CONTINUOUS)
    assert first.state_hash == second.state_hash == stopped_hash
    assert first.events_crc == second.events_crc and first.events == second.events

    _, _, payload = journal.read_records(str(eng.journal_dir), journal.KIND_EVT)
    events = records.decode_events(np.ascontiguousarray(payload).view(records.RECORD_DTYPE).ravel())
    trades = [e for e in events if type(e).__name__ == "TradeEvent"]
    reasons = {e.reason for e in events}
    assert any(t.price % 2 for t in trades), "no half-tick midpoint trade in the journal"
    assert {Reason.CXL_NBBO_STALE, Reason.CXL_NBBO_LOCKED, Reason.CXL_NBBO_CROSSED} <= reasons
    assert all(e.reason != Reason.REJ_DARK_ORDER_TYPE for e in events)
    assert not any(type(e).__name__ == "BookLevelEvent" for e in events), "a dark venue displays nothing"
    assert {t.aggressor_side for t in trades} >= {int(Side.BUY), int(Side.SELL)}


def test_dark_venue_recovers_from_a_snapshot_to_the_replay_hash(engine_proc) -> None:
    """The snapshot holds the dark queues and the NBBO (instrument records are part of its image):
    recovery from it replays the journal tail with events equal to the event journal, to the hash
    of a replay from scratch."""
    rng = random.Random(22)
    eng = engine_proc(["--instruments", "1:2,2:2", "--dark", str(MAX_AGE_NS), "--snapshot-every", "700"])
    eng.start()
    with EngineClient(eng.name) as client:
        for start in range(1, 3001, 500):
            time.sleep(1.5 * MAX_AGE_NS / 1e9)
            client.submit_many(_dark_stream(rng, 500, start))
    wait_for(lambda: len(journal.snapshots(str(eng.journal_dir))) >= 2, "two snapshots on disk")
    eng.kill()
    eng.start()
    assert re.search(r"recovery: snapshot of seq \d+ \+ replayed \d+ commands", eng.log()), eng.log()
    ref, e = journal.verify(str(eng.journal_dir))
    e.close()
    assert ref.state_hash == eng.recovered_hash()
    eng.kill()
