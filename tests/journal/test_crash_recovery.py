"""Crash test with real processes: the engine process (journal, group commit) under load from a
producer slot is SIGKILLed at random moments 20 times and restarted; the producer re-attaches
after each restart. After every restart: every acknowledged command is in the command journal
with the seq its reply gave, its reply matches the journaled events, every acknowledged order is
live with the leaves the journal says or was filled/cancelled according to it, no trade id is
repeated or skipped, command seqs have no gap, and the hash the recovering engine printed equals
a clean replay of the journal from scratch. (The gateway-level part, TCP clients asking for
retransmission, waits for the TCP gateway.) Snapshots are on (every 3000 commands), so restarts
also recover from a snapshot plus the journal after it."""
from __future__ import annotations

import random
import threading

import numpy as np

from gateway.enginehost import journal
from native.records import type_name
from native import records
from shm.client import EngineClient, decode_replies

from .conftest import order_stream, submit_partial, wait_for

KILLS = 20
SEED = 2026


class Ledger:
    """What the producer was told (acknowledgements), and what the journal says since."""

    def __init__(self) -> None:
        self.acked: dict[int, tuple[bytes, dict, int]] = {}   # seq -> (cmd bytes, first, count)
        self.leaves: dict[int, int] = {}                      # order id -> leaves per journal
        self.events_seen = 0
        self.trade_ids: list[int] = []

    def ack(self, cmds: np.ndarray, raw_replies: np.ndarray, done: int) -> None:
        for cmd, rep in zip(cmds[:done], decode_replies(raw_replies[:done])):
            assert rep.seq > 0, "a well-formed command was answered as malformed"
            assert rep.seq not in self.acked, f"seq {rep.seq} acknowledged twice"
            self.acked[rep.seq] = (cmd.tobytes(), rep.first_event, rep.event_count)

    def follow_journal(self, evt_payload: np.ndarray) -> None:
        new = records.decode_events(evt_payload[self.events_seen:])
        self.events_seen = len(evt_payload)
        for ev in new:
            t = type_name(ev)
            if t == "ACCEPTED":
                self.leaves[ev.order_id] = ev.qty
            elif t == "TRADE":
                self.trade_ids.append(ev.trade_id)
                self.leaves[ev.buy_order_id] = ev.buy_leaves_qty
                self.leaves[ev.sell_order_id] = ev.sell_leaves_qty
            elif t in ("CANCELLED", "EXPIRED"):
                self.leaves[ev.order_id] = getattr(ev, "leaves_qty", 0)


def _check_after_restart(eng, ledger: Ledger) -> None:
    d = str(eng.journal_dir)
    cmd_seqs, _, cmd_pay = journal.read_records(d, journal.KIND_CMD)
    assert np.array_equal(cmd_seqs, np.arange(1, len(cmd_seqs) + 1, dtype=np.uint64)), \
        "command seqs have a gap"
    evt_seqs, _, evt_pay = journal.read_records(d, journal.KIND_EVT)
    ledger.follow_journal(evt_pay)
    assert ledger.trade_ids == list(range(1, len(ledger.trade_ids) + 1)), "a fill is duplicated"

    starts = np.searchsorted(evt_seqs, np.array(sorted(ledger.acked), dtype=np.uint64))
    per_seq = np.bincount(evt_seqs.astype(np.int64), minlength=len(cmd_seqs) + 1)
    for (seq, (cmd, first, count)), at in zip(sorted(ledger.acked.items()), starts):
        assert seq <= len(cmd_seqs), f"acknowledged seq {seq} is not in the command journal"
        journaled = cmd_pay[seq - 1].tobytes()
        assert journaled[:2] == cmd[:2] and journaled[24:] == cmd[24:], \
            f"journal record of acknowledged seq {seq} is not the command that was sent"
        assert int(per_seq[seq]) == count, f"seq {seq}: event count"
        assert records.decode_events(evt_pay[at:at + 1])[0] == first, \
            f"seq {seq}: reply's first event differs from the journal's"

    ref, replayed = journal.verify(d)
    try:
        assert ref.state_hash == eng.recovered_hash(), "recovered state differs from a clean replay"
        for seq, (cmd, first, _) in ledger.acked.items():
            if type_name(first) != "ACCEPTED":
                continue
            oid = first.order_id
            live = replayed.order(oid)
            leaves = ledger.leaves[oid]
            if live is None:
                assert leaves == 0, f"acknowledged order {oid} vanished with {leaves} leaves"
            else:
                assert live["leaves_qty"] == leaves, f"order {oid}: leaves differ from journal"
    finally:
        replayed.close()


def test_sigkill_at_random_moments_loses_no_acknowledged_order(engine_proc) -> None:
    rng = random.Random(SEED)
    print(f"seed {SEED}")
    eng = engine_proc(["--durability", "group", "--group-us", "300", "--snapshot-every", "3000"])
    eng.start()
    ledger = Ledger()
    next_oid = 1
    for kill in range(KILLS):
        client = EngineClient(eng.name, timeout_ns=2_000_000_000)
        killer = threading.Timer(rng.uniform(0.02, 0.4), eng.kill)
        killer.start()
        while eng.proc.poll() is None:
            cmds = records.encode_commands(order_stream(rng, 200, next_oid))
            next_oid += 200
            client.timeout_ns = 300_000_000
            raw, done = submit_partial(client, cmds, 300_000_000)
            ledger.ack(cmds, raw, done)
            if done < len(cmds):
                break
        killer.join()
        wait_for(lambda: eng.proc.poll() is not None, "the SIGKILLed engine to exit")
        client.close()
        eng.start()
        _check_after_restart(eng, ledger)
    assert len(ledger.acked) > 1000, "the load generator got too few acknowledgements"
    logs = [p.read_text() for p in eng.log_dir.glob("engine-*.log")]
    print(f"{len(ledger.acked)} acknowledged commands; "
          f"{sum('recovery: snapshot of seq' in t for t in logs)} restarts from a snapshot, "
          f"{sum('torn last record' in t for t in logs)} torn tails truncated")
    assert eng.stop() == 0
