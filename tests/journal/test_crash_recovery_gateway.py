"""Crash test at the gateway level, with real processes: an engine with a journal (group commit),
the order-entry gateway in front of it, and two FIXP clients over TCP sending crossing orders and
cancels. The engine is SIGKILLed at random moments (KILLS times, env CRASH_GW_KILLS for more) and
restarted from its journal. The gateway outlives it: it terminates the connections with 959
ENG_GW_ENGINE_GONE, keeps its sessions and orders, attaches the restarted engine and reads from
its journal what became of everything it had in flight (native/gateway/gw_resume.c). The clients
reconnect to the same sessions and ask for retransmission of what they missed.

After every restart: every order a client saw accepted is in the journal and live with the leaves
the journal says, or was filled/cancelled according to it; every fill a client saw is a journal
trade of that order, seen once; every cancel a client saw acknowledged left no leaves; no trade id
is repeated or skipped; command seqs have no gap; and the recovered state hash equals a clean
replay of the journal. After every reconnect: each session's outbound sequence numbers, live and
retransmitted, run 1, 2, 3 ... with no gap; every request got exactly one answer (a request cut
by the Terminate is answered in the retransmission: its outcome per the journal, or a reject with
959 when the dead engine never sequenced it); and the orders a client believes live are exactly
its account's live orders per the journal."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gateway import launcher
from gateway.enginehost import journal
from gateway.client import (BusinessMessageReject, Client, ConnectionClosed, ExecType,
                            ExecutionReport, OrderCancelReject, OrderRequest, Retransmission,
                            Side, Terminate)
from gateway.reasons import Reason
from native.records import type_name
from native import records
from tests.gateway.gw_venue import CONFIG, KEYS

from .conftest import wait_for

KILLS = int(os.environ.get("CRASH_GW_KILLS", "20"))
SEED = int(os.environ.get("CRASH_GW_SEED", "2027"))
# Sessions without cancel-on-disconnect, in two firms, so their orders cross: firm 1 account 1,
# firm 2 account 3.
SESSIONS = ((102, 1), (202, 3))
ENGINE_GONE = int(Reason.ENG_GW_ENGINE_GONE)
RETRANSMIT_CHUNK = 1000
BARRIER_BID = 9000          # below every price the campaigns send (10000 +- 3): never crosses


class GatewayProc:
    """One `python -m gateway gateway` process at a time in front of the engine; restartable."""

    def __init__(self, engine_name: str, tmp: Path) -> None:
        # The engine's segments belong to its own venue (EngineProc): closing this one leaves them.
        self.venue = launcher.Venue(name=engine_name, log_dir=tmp, owns_segments=False)
        self.tmp = tmp
        self.cfg = tmp / "gateway.json"
        self.cfg.write_text(json.dumps(CONFIG))
        self.starts = 0
        self.port = 0
        self.extra: list[str] = []
        self.env: dict[str, str] | None = None      # the whole environment of the next start

    @property
    def role(self) -> str:
        return f"gateway-{self.starts}"

    @property
    def proc(self) -> subprocess.Popen[str] | None:
        return self.venue.procs.get(self.role)

    @property
    def log_path(self) -> Path:
        return self.tmp / f"{self.role}.log"

    def start(self) -> None:
        self.starts += 1
        _, self.port = self.venue.start_gateway(
            self.tmp / f"gw-port-{self.starts}", "--listen", "127.0.0.1:0", "--config", str(self.cfg),
            "--no-latency", "--order-capacity", "65536", "--out-log-msgs", "65536", *self.extra,
            role=self.role, deadline_s=60, stdout=subprocess.DEVNULL, env=self.env)

    def wait_exit(self) -> int:
        assert self.proc is not None
        rc = self.proc.wait(60)
        self.venue.stop(self.role)
        return rc

    def close(self) -> None:
        self.venue.close()


@dataclass
class Seen:
    """What the clients were told, over every engine run."""
    accepted: set[int] = field(default_factory=set)             # engine order ids (ER NEW)
    cancelled: set[int] = field(default_factory=set)            # ER CANCELED to a cancel request
    fills: set[tuple[int, int]] = field(default_factory=set)    # (order id, trade id)
    exec_ids: set[int] = field(default_factory=set)
    answered = 0
    cut_by_959 = 0              # requests pending when the Terminate came
    answered_by_retransmission = 0
    not_executed = 0            # answered with 959: the dead engine never sequenced them
    bmrs = 0
    retransmitted = 0
    resent = 0                  # requests resent after a reconnect (they crossed the Terminate)
    terminate_queued = 0        # Terminates read in one recv() with the answer before them


class Session:
    """One FIXP session across connections: a request at a time, every message recorded."""

    def __init__(self, session_id: int, account: int, seen: Seen) -> None:
        self.session_id = session_id
        self.account = account
        self.seen = seen
        self.seqs: list[int] = []               # outbound seqNums received, live or resent
        self.live: dict[int, int] = {}          # order id -> instrument, as this client knows
        self.open: tuple[int, int | None] | None = None  # (clOrdID, order cancelled) unanswered
        self.c: Client | None = None
        self.ended = True
        self.next_seq = 1                       # FIXP Idempotent flow: seqNums go on across
        self.next_cl_ord_id = 1                 # connections (the gateway never lowers them)
        self.open_frame = b""                   # the open request as sent, for a resend
        self.open_seq = 0
        self.position: dict[int, int] = {}      # instrument -> signed qty, from the fills told

    def connect(self, port: int) -> None:
        """Reconnects, then asks for every message it missed and checks the one it had open
        was answered."""
        firm, key = KEYS[self.session_id]
        if self.c is not None:
            self.next_seq = self.c.core.next_seq_out
            self.next_cl_ord_id = self.c.core.next_cl_ord_id
        # With a request open, the flow goes on from it: it may be resent below.
        self.c = Client.connect("127.0.0.1", port, self.session_id, firm, key, keepalive_ms=1000,
                                timeout_s=30.0,
                                next_seq_no=self.open_seq if self.open else self.next_seq)
        self.c.core.next_cl_ord_id = self.next_cl_ord_id
        self.ended = False
        last = self.seqs[-1] if self.seqs else 0
        missed = self.c.core.server_next_seq - 1 - last
        assert missed >= 0, f"session {self.session_id}: gateway's nextSeqNo went back"
        first = last + 1
        while missed > 0:
            n = min(missed, RETRANSMIT_CHUNK)
            self.c.request_retransmission(first, n)
            head, live = self.c.recv_until(lambda m: isinstance(m, Retransmission), 30.0)
            assert head.next_seq_no == first and head.count == n, head  # type: ignore[attr-defined]
            for m in self.c.recv_n(n, 30.0):
                self.seen.retransmitted += 1
                self._record(m)
                self._answers(m, by_retransmission=True)
            self.c.inbox[0:0] = live            # newer live messages, after the resent ones
            first += n
            missed -= n
        if self.open is not None:
            self._resend_open()
        else:
            self.c.core.next_seq_out = max(self.c.core.next_seq_out, self.next_seq)
        assert self.open is None, \
            f"session {self.session_id}: request clOrdID {self.open[0]} was never answered"

    def _resend_open(self) -> None:
        """The open request has no answer in the flow: it crossed the Terminate on the wire and
        the gateway never read it (a request the gateway read is answered, by its outcome or
        959). FIXP Idempotent flow: the client resends it with the same seqNum; the gateway
        executes it now, or, had it processed it, refuses it as a duplicate (950), which here
        means an answer was lost: a failure."""
        assert self.c is not None
        self.seen.resent += 1
        self.c.send_raw(self.open_frame)
        self.c.core.next_seq_out = self.open_seq + 1
        cid = self.open[0] if self.open else 0
        while self.open is not None:
            m = self.c.recv(10.0)
            assert not (isinstance(m, BusinessMessageReject) and m.business_reject_ref_id == cid
                        and m.reason_code == Reason.ENG_GW_SEQ_TOO_LOW), \
                f"session {self.session_id}: clOrdID {cid} was processed but never answered"
            if self._take(m):
                raise AssertionError(f"session {self.session_id}: terminated during a resend")

    def _record(self, m: object) -> None:
        seq = getattr(m, "seq_num", None)
        if seq is not None:
            self.seqs.append(seq)
        if isinstance(m, ExecutionReport):
            assert m.reason_code != 110, f"order id reused after a restart: {m}"
            assert m.exec_id not in self.seen.exec_ids, f"execID repeated: {m}"
            self.seen.exec_ids.add(m.exec_id)
            if m.exec_type == ExecType.NEW:
                self.seen.accepted.add(m.order_id)
                self.live[m.order_id] = m.instrument_id
            elif m.exec_type == ExecType.TRADE:
                key = (m.order_id, m.trade_id)
                assert key not in self.seen.fills, f"fill reported twice: {m}"
                self.seen.fills.add(key)
                signed = m.last_qty if m.side == Side.BUY else -m.last_qty  # type: ignore[operator]
                self.position[m.instrument_id] = self.position.get(m.instrument_id, 0) + signed
            if m.leaves_qty == 0 and m.exec_type != ExecType.NEW:
                self.live.pop(m.order_id, None)

    def _answers(self, m: object, by_retransmission: bool = False) -> bool:
        """True if m answers the open request (and closes it)."""
        if self.open is None:
            return False
        cid, cancel_of = self.open
        if getattr(m, "cl_ord_id", getattr(m, "business_reject_ref_id", None)) != cid:
            return False
        if isinstance(m, BusinessMessageReject):
            self.seen.bmrs += 1
        elif not isinstance(m, (ExecutionReport, OrderCancelReject)):
            return False
        if cancel_of is not None and isinstance(m, ExecutionReport) \
                and m.exec_type == ExecType.CANCELED:
            self.seen.cancelled.add(cancel_of)
        if getattr(m, "reason_code", 0) == ENGINE_GONE:
            assert by_retransmission, f"959 answer outside a resume: {m}"
            self.seen.not_executed += 1
        self.seen.answered += 1
        self.seen.answered_by_retransmission += by_retransmission
        self.open = None
        return True

    def _take(self, m: object) -> bool:
        """Records m; True if it is the Terminate (with 959) that ends this connection."""
        if isinstance(m, Terminate):
            assert m.reason_code == ENGINE_GONE, f"terminated with {m}"
            self.ended = True
            return True
        self._record(m)
        self._answers(m)
        return False

    def _take_inbox(self, queued: bool) -> bool:
        """Takes what the client has read; True once the Terminate is among it (queued: it was
        read with an earlier message, counted in Seen.terminate_queued)."""
        assert self.c is not None
        while self.c.inbox:
            if self._take(self.c.inbox.pop(0)):
                self.seen.terminate_queued += queued
                return True
        return False

    def request(self, rng: random.Random) -> None:
        """Sends one request and waits for its answer, or for Terminate 959 while it is pending."""
        assert self.c is not None
        # A connection terminated between requests. The inbox first: a Terminate read in one
        # recv() with the previous answer waits there, and the gateway may have closed the socket
        # since, so reading the socket first would find its end and lose the Terminate. The
        # socket's end is seen only once every byte before it was read, so a Terminate sent
        # before the close is in the inbox by then: an end without one is a real failure.
        if self._take_inbox(queued=True):
            return
        try:
            self.c._pump(0)
        except ConnectionClosed:
            raise AssertionError(f"session {self.session_id}: connection closed without a "
                                 f"Terminate between two requests") from None
        if self._take_inbox(queued=False):
            return
        core = self.c.core
        self.open_seq = core.next_seq_out
        cid = core.cl_ord_id(None)
        if self.live and rng.random() < 0.25:
            oid = rng.choice(sorted(self.live))
            self.open_frame = core.cancel(oid, self.live[oid], cid)
            self.open = (cid, oid)
        else:
            self.open_frame = core.new_order(OrderRequest(
                instrument_id=1 + rng.randrange(2), side=rng.choice((Side.BUY, Side.SELL)),
                order_qty=rng.randrange(1, 20), account_id=self.account,
                price=10000 + rng.randrange(-3, 4)), cid)
            self.open = (cid, None)
        self.c.send_raw(self.open_frame)
        try:
            while self.open is not None:
                if self._take(self.c.recv(10.0)):
                    self.seen.cut_by_959 += 1
                    return
        except ConnectionClosed:
            raise AssertionError(f"session {self.session_id}: connection closed without an "
                                 f"answer or a Terminate (a silently dropped request)")

    def barrier(self) -> None:
        """An order that cannot cross (a bid far below the prices the tests send), then its
        cancel, each waited for: the engine sequences it after every command before it and the
        gateway reports the event log in order on one connection, so once its answers are read,
        every report of an event sequenced before it has been read too (waiting for that event,
        not for a time: the live orders matching the journal's says nothing of a partial fill)."""
        assert self.c is not None
        cid = self.c.new_order(1, Side.BUY, 1, self.account, price=BARRIER_BID)
        oid = self._answer_to(cid, ExecType.NEW).order_id
        self._answer_to(self.c.cancel(oid, 1), ExecType.CANCELED)
        self.check_seqs()

    def _answer_to(self, cid: int, want: ExecType) -> ExecutionReport:
        assert self.c is not None
        while True:
            m = self.c.recv(30.0)
            assert not self._take(m), f"session {self.session_id}: terminated during a barrier"
            if isinstance(m, ExecutionReport) and m.cl_ord_id == cid:
                assert m.exec_type == want, f"session {self.session_id}: barrier answered {m}"
                return m

    def drain_to_terminate(self) -> None:
        """After the kill: what is left before the Terminate (passive fills), then Terminate."""
        assert self.c is not None
        while not self.ended:
            self._take(self.c.recv(10.0))
        self.c.close()
        self.check_seqs()

    def check_seqs(self) -> None:
        assert self.seqs == list(range(1, len(self.seqs) + 1)), \
            f"session {self.session_id}: outbound sequence numbers have a gap or repeat"


def _journal_state(d: str) -> tuple[dict[int, int], dict[int, set[int]]]:
    """(order id -> leaves per the journal, order id -> its trade ids); checks the command seqs
    and the trade ids."""
    cmd_seqs, _, _ = journal.read_records(d, journal.KIND_CMD)
    assert np.array_equal(cmd_seqs, np.arange(1, len(cmd_seqs) + 1, dtype=np.uint64)), \
        "command seqs have a gap"
    _, _, evt_pay = journal.read_records(d, journal.KIND_EVT)
    leaves: dict[int, int] = {}
    trades: dict[int, set[int]] = {}
    trade_ids: list[int] = []
    for ev in records.decode_events(evt_pay):
        t = type_name(ev)
        if t == "ACCEPTED":
            leaves[ev.order_id] = ev.qty
        elif t == "TRADE":
            trade_ids.append(ev.trade_id)
            for side in ("buy", "sell"):
                leaves[getattr(ev, f"{side}_order_id")] = getattr(ev, f"{side}_leaves_qty")
                trades.setdefault(getattr(ev, f"{side}_order_id"), set()).add(ev.trade_id)
        elif t in ("CANCELLED", "EXPIRED"):
            leaves[ev.order_id] = getattr(ev, "leaves_qty", 0)
    assert trade_ids == list(range(1, len(trade_ids) + 1)), "a fill is duplicated or skipped"
    return leaves, trades


def journal_positions(d: str) -> dict[int, dict[int, int]]:
    """account -> instrument -> signed position (non-zero only), from the journal's trades."""
    pos: dict[int, dict[int, int]] = {}
    _, _, evt_pay = journal.read_records(d, journal.KIND_EVT)
    for ev in records.decode_events(evt_pay):
        if type_name(ev) == "TRADE":
            for account, signed in ((ev.buy_account_id, ev.qty), (ev.sell_account_id, -ev.qty)):
                per = pos.setdefault(account, {})
                per[ev.instrument_id] = per.get(ev.instrument_id, 0) + signed
    return {a: {i: q for i, q in per.items() if q} for a, per in pos.items()}


def check_positions(d: str, sessions: list[Session]) -> None:
    """Each client's position, from the fills it was told of, is its account's per the journal
    (each session trades its own account here)."""
    pos = journal_positions(d)
    for s in sessions:
        told = {i: q for i, q in s.position.items() if q}
        assert told == pos.get(s.account, {}), \
            f"session {s.session_id}: position {told} from its fills, {pos.get(s.account)} per the journal"


def _check_after_restart(eng, seen: Seen) -> None:
    d = str(eng.journal_dir)
    leaves, trades = _journal_state(d)
    for oid, tid in seen.fills:
        assert tid in trades.get(oid, ()), f"fill {tid} of order {oid} is not in the journal"
    for oid in seen.cancelled:
        assert leaves.get(oid) == 0, f"cancelled order {oid} has leaves per the journal"
    ref, replayed = journal.verify(d)
    try:
        assert ref.state_hash == eng.recovered_hash(), "recovered state differs from a clean replay"
        for oid in seen.accepted:
            assert oid in leaves, f"acknowledged order {oid} is not in the journal"
            live = replayed.order(oid)
            if live is None:
                assert leaves[oid] == 0, f"acknowledged order {oid} vanished with {leaves[oid]}"
            else:
                assert live["leaves_qty"] == leaves[oid], f"order {oid}: leaves differ"
    finally:
        replayed.close()


def _journal_live_by_account(d: str) -> dict[int, set[int]]:
    """account -> its orders with leaves > 0, per the journal's events."""
    leaves: dict[int, int] = {}
    account: dict[int, int] = {}
    _, _, evt_pay = journal.read_records(d, journal.KIND_EVT)
    for ev in records.decode_events(evt_pay):
        t = type_name(ev)
        if t == "ACCEPTED":
            leaves[ev.order_id] = ev.qty
            account[ev.order_id] = ev.account_id
        elif t == "TRADE":
            for side in ("buy", "sell"):
                leaves[getattr(ev, f"{side}_order_id")] = getattr(ev, f"{side}_leaves_qty")
        elif t in ("CANCELLED", "EXPIRED"):
            leaves[ev.order_id] = getattr(ev, "leaves_qty", 0)
    live: dict[int, set[int]] = {}
    for oid, q in leaves.items():
        if q > 0:
            live.setdefault(account[oid], set()).add(oid)
    return live


def test_gateway_outlives_engine_sigkills_and_clients_recover_by_retransmission(
        engine_proc, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    print(f"seed {SEED}, {KILLS} kills")
    eng = engine_proc(["--durability", "group", "--group-us", "300", "--snapshot-every", "2000"])
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    seen = Seen()
    sessions = [Session(sid, acct, seen) for sid, acct in SESSIONS]
    try:
        gw.start()
        for kill in range(KILLS):
            for s in sessions:
                s.connect(gw.port)
            killer = threading.Timer(rng.uniform(0.05, 0.4), eng.kill)
            killer.start()
            while not all(s.ended for s in sessions):
                for s in sessions:
                    if not s.ended:
                        s.request(rng)
            killer.join()
            for s in sessions:
                s.drain_to_terminate()
            assert gw.proc is not None and gw.proc.poll() is None, gw.log_path.read_text()
            eng.start()
            _check_after_restart(eng, seen)
        # After the last restart: every session catches up, then knows exactly its live orders.
        for s in sessions:
            s.connect(gw.port)
            s.check_seqs()
        # A resent request may trade with the other session's order: its report comes live.
        for s in sessions:
            s.barrier()
        check_positions(str(eng.journal_dir), sessions)
        live = _journal_live_by_account(str(eng.journal_dir))
        for s in sessions:
            assert set(s.live) == live.get(s.account, set()), \
                f"session {s.session_id}: the client's live orders differ from the journal's"
        # Orders acknowledged before the crashes are still the gateway's: they can be cancelled.
        s = sessions[0]
        for _ in range(20):
            s.request(rng)
        assert not s.ended
        for s in sessions:
            assert s.c is not None
            s.c.terminate()
        log = gw.log_path.read_text()
        assert log.count("resumed on engine") == KILLS, log
    finally:
        gw.close()
    print(f"{len(seen.accepted)} orders accepted, {len(seen.fills)} fills seen, "
          f"{len(seen.cancelled)} cancels, {seen.answered} requests answered, "
          f"{seen.cut_by_959} cut by Terminate 959 and answered by retransmission "
          f"({seen.not_executed} of them never sequenced: rejected with 959), "
          f"{seen.retransmitted} messages retransmitted, {seen.bmrs} business rejects, "
          f"{seen.resent} resent after crossing the Terminate, {seen.terminate_queued} "
          f"Terminates read with the answer before them")
    # A kill can land between two requests of both sessions; most land on a pending one.
    assert seen.cut_by_959 >= KILLS // 2, "kills did not end pending requests with 959"
    assert seen.answered_by_retransmission + seen.resent >= seen.cut_by_959
    assert len(seen.accepted) > 50, "too few orders were accepted"
    assert seen.fills, "no order crossed"
    assert eng.stop() == 0


def test_a_frozen_engine_is_declared_gone_by_its_stale_heartbeat(engine_proc,
                                                                 tmp_path: Path) -> None:
    """SIGSTOP: the engine process still exists (as a SIGKILLed one not yet reaped by its parent
    does) but its heartbeat stops; the gateway ends the sessions with 959 and, with
    --engine-wait-s 0, exits 3."""
    eng = engine_proc()
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    gw.extra = ["--engine-stale-ms", "300", "--engine-wait-s", "0"]
    seen = Seen()
    try:
        gw.start()
        s = Session(*SESSIONS[0], seen)
        s.connect(gw.port)
        s.request(random.Random(SEED))
        assert not s.ended and seen.answered == 1
        assert eng.proc is not None
        eng.proc.send_signal(signal.SIGSTOP)
        s.drain_to_terminate()
        assert gw.wait_exit() == 3
        assert "heartbeat is older than 300 ms" in gw.log_path.read_text()
    finally:
        gw.close()
        if eng.proc is not None:
            eng.proc.send_signal(signal.SIGCONT)


def test_after_a_resume_pre_crash_orders_are_cancellable_and_owed_cancels_are_sent(
        engine_proc, tmp_path: Path) -> None:
    """Session 101 has cancel-on-disconnect, 102 does not. Both rest an order; the engine is
    SIGKILLed and restarted. 101's order is cancelled by its cancel-on-disconnect (owed since the
    engine died, sent to the new engine on resume) and 101 learns it by retransmission; 102's
    order, acknowledged before the crash, is still the gateway's and 102 cancels it."""
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    try:
        gw.start()
        firm, key = KEYS[101]
        c101 = Client.connect("127.0.0.1", gw.port, 101, firm, key)
        firm, key = KEYS[102]
        c102 = Client.connect("127.0.0.1", gw.port, 102, firm, key)
        c101.new_order(1, Side.BUY, 5, 1, price=9000)
        ack101 = c101.recv(10.0)
        c102.new_order(1, Side.SELL, 7, 2, price=11000)
        ack102 = c102.recv(10.0)
        assert isinstance(ack101, ExecutionReport) and ack101.exec_type == ExecType.NEW
        assert isinstance(ack102, ExecutionReport) and ack102.exec_type == ExecType.NEW
        eng.kill()
        for c in (c101, c102):
            msg = c.recv(10.0)
            assert isinstance(msg, Terminate) and msg.reason_code == ENGINE_GONE, msg
            c.close()
        eng.start()
        # The cancel-on-disconnect report is sequenced once the new engine answered it.
        wait_for(lambda: _next_seq(gw.port, 101) == 3, "the owed cancel-on-disconnect report")
        firm, key = KEYS[101]
        c101 = Client.connect("127.0.0.1", gw.port, 101, firm, key, timeout_s=30.0)
        got = c101.retransmit(2, 1, 10.0)
        assert len(got) == 1 and isinstance(got[0], ExecutionReport), got
        assert got[0].exec_type == ExecType.CANCELED and got[0].order_id == ack101.order_id
        assert got[0].leaves_qty == 0
        firm, key = KEYS[102]
        c102 = Client.connect("127.0.0.1", gw.port, 102, firm, key, timeout_s=30.0,
                              next_seq_no=2)           # its seqNums go on from before
        assert c102.core.server_next_seq == 2          # nothing happened to its order meanwhile
        cid = c102.cancel(ack102.order_id, 1)
        done = c102.recv(10.0)
        assert isinstance(done, ExecutionReport) and done.cl_ord_id == cid, done
        assert done.exec_type == ExecType.CANCELED and done.leaves_qty == 0
        c101.terminate()
        c102.terminate()
    finally:
        gw.close()
    live = _journal_live_by_account(str(eng.journal_dir))
    assert ack101.order_id not in live.get(1, set()) and ack102.order_id not in live.get(2, set())
    assert eng.stop() == 0


def _next_seq(port: int, session_id: int) -> int:
    """The gateway's next outbound seqNum for a session (a connection that only establishes)."""
    firm, key = KEYS[session_id]
    c = Client.connect("127.0.0.1", port, session_id, firm, key, timeout_s=30.0)
    try:
        return c.core.server_next_seq
    finally:
        c.terminate()


def test_a_request_the_dead_engine_never_sequenced_is_answered_with_959(engine_proc,
                                                                         tmp_path: Path) -> None:
    """The engine is frozen (SIGSTOP) so an order stays in its ring; the gateway declares it gone
    by its heartbeat; it is SIGKILLed and restarted. The order is not in the journal, so the
    client, reconnecting, gets by retransmission a reject with reason 959 for it."""
    eng = engine_proc()
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    gw.extra = ["--engine-stale-ms", "300"]
    try:
        gw.start()
        firm, key = KEYS[102]
        c = Client.connect("127.0.0.1", gw.port, 102, firm, key)
        assert eng.proc is not None
        eng.proc.send_signal(signal.SIGSTOP)
        cid = c.new_order(1, Side.BUY, 5, 1, price=9000)
        msg = c.recv(10.0)
        assert isinstance(msg, Terminate) and msg.reason_code == ENGINE_GONE, msg
        c.close()
        eng.kill()
        eng.start()
        c = Client.connect("127.0.0.1", gw.port, 102, firm, key, timeout_s=30.0)
        assert c.core.server_next_seq == 2
        got = c.retransmit(1, 1, 10.0)
        assert len(got) == 1 and isinstance(got[0], ExecutionReport), got
        er = got[0]
        assert er.cl_ord_id == cid and er.exec_type == ExecType.REJECTED
        assert er.reason_code == ENGINE_GONE
        c.terminate()
        assert "resumed on engine" in gw.log_path.read_text()
    finally:
        gw.close()
    assert eng.stop() == 0
