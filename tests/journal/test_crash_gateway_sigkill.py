"""Gateway SIGKILL campaign (issue #16, point 6): the engine stays up, the order-entry gateway is
SIGKILLed at random moments (KILLS times, env CRASH_GWK_KILLS for more) while two clients send
crossing orders and cancels, one session with cancel-on-disconnect (101, account 1) and one
without (202, account 3), and restarted each time with the same --state-file
(native/gateway/gw_store.c, gw_restore.c). After each restart both clients reconnect with
Establish, ask for retransmission of what they missed and resend the request they had open only
if no answer to it came (FIXP Idempotent flow).

Checked after every restart: every order a client saw acknowledged is in the journal, live with
the leaves the journal says or in a terminal state; no clOrdID of a session was executed twice
(each gateway NEW in the journal carries its session's tag and a clOrdID seen once per session);
every fill a client saw is a journal trade of that order, seen once. Checked throughout: each
session's outbound seqNums, live and retransmitted, run 1, 2, 3 ... with no gap and no repeat,
across every restart; every request gets exactly one answer (a resend is never refused as a
duplicate, which would mean a lost answer). At the end: each client's live orders are exactly its
account's live orders per the journal; every journal trade of a client's order was reported to
it (no unreported fill); and the session without cancel-on-disconnect can cancel every order it
entered before the kills (no orphan).

The no-unreported-fill check waits for the right event, not a time: a report the client has not
read yet is not a lost one. The live orders converging to the journal's says nothing of a partial
fill (it leaves the order live), so after the convergence the journal's trades are read, then
each client sends a barrier (an order that cannot cross, then its cancel): the engine sequences it
after every one of those trades and the gateway reports the event log in order, so its answer
comes after their reports on the same connection (Session.barrier). Then each client's position,
from the fills it was told of, must be its account's per the journal. A fill the gateway never logged fails the check."""
from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from gateway.client import ClientTimeout, ConnectionClosed, ExecType, ExecutionReport, Terminate
from tests.gateway.gw_venue import CONFIG

from .test_crash_recovery_gateway import (GatewayProc, Seen, Session, _journal_live_by_account,
                                          _journal_state, check_positions)
from .test_gateway_power_loss import _journal_news_once

KILLS = int(os.environ.get("CRASH_GWK_KILLS", "10"))
SEED = int(os.environ.get("CRASH_GWK_SEED", "2028"))
SESSIONS = ((101, 1), (202, 3))
TAG = {s["session_id"]: i + 1 for i, s in enumerate(CONFIG["sessions"])}


class KilledGatewaySession(Session):
    """A session whose gateway dies without a word: the connection just closes."""

    def _record(self, m: object) -> None:
        if os.environ.get("GWK_DEBUG"):
            print("DBG", self.session_id, m)
        super()._record(m)

    def _take(self, m: object) -> bool:
        assert not isinstance(m, Terminate), f"session {self.session_id}: terminated with {m}"
        self._record(m)
        self._answers(m)
        return False

    def request(self, rng: random.Random) -> None:
        try:
            super().request(rng)
        except (AssertionError, ConnectionClosed, OSError) as exc:
            if isinstance(exc, AssertionError) and "connection closed" not in str(exc):
                raise
            self.ended = True       # the gateway died under the request (or between two)

    def drain_to_close(self) -> None:
        """Everything the dead gateway had sent before its socket closed."""
        assert self.c is not None
        try:
            while True:
                self._take(self.c.recv(10.0))
        except (ConnectionClosed, OSError):
            pass
        self.c.close()
        self.ended = True
        self.check_seqs()


def _check_journal(d: str, seen: Seen) -> None:
    leaves, trades = _journal_state(d)
    for oid, tid in seen.fills:
        assert tid in trades.get(oid, ()), f"fill {tid} of order {oid} is not in the journal"
    for oid in seen.accepted:
        assert oid in leaves, f"acknowledged order {oid} is not in the journal"
    for oid in seen.cancelled:
        assert leaves.get(oid) == 0, f"cancelled order {oid} has leaves per the journal"
    _journal_news_once(d)


def _converge(s: KilledGatewaySession, d: str, deadline_s: float = 30.0) -> None:
    """Reads live messages until the client's live orders are its account's per the journal."""
    assert s.c is not None
    end = time.monotonic() + deadline_s
    while set(s.live) != _journal_live_by_account(d).get(s.account, set()):
        assert time.monotonic() < end, \
            f"session {s.session_id}: the client's live orders differ from the journal's"
        try:
            s._take(s.c.recv(0.2))
        except ClientTimeout:
            pass
    s.check_seqs()


def _unreported_fills(trades: dict[int, set[int]], seen: Seen) -> None:
    for oid in seen.accepted:
        for tid in trades.get(oid, ()):
            assert (oid, tid) in seen.fills, f"fill {tid} of order {oid} never reached its owner"


def test_gateway_sigkills_lose_no_order_fill_or_answer(engine_proc, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    print(f"seed {SEED}, {KILLS} gateway kills")
    eng = engine_proc(["--durability", "group", "--group-us", "300"])
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    gw.extra = ["--state-file", str(tmp_path / "gateway.state")]
    seen = Seen()
    sessions = [KilledGatewaySession(sid, acct, seen) for sid, acct in SESSIONS]
    d = str(eng.journal_dir)
    try:
        gw.start()
        for _ in range(KILLS):
            for s in sessions:
                s.connect(gw.port)
            victim = gw.role
            killer = threading.Timer(rng.uniform(0.02, 0.3), gw.venue.kill, (victim,))
            killer.start()
            while not all(s.ended for s in sessions):
                for s in sessions:
                    if not s.ended:
                        s.request(rng)
            killer.join()
            for s in sessions:
                s.drain_to_close()
                if s.open is not None:
                    seen.cut_by_959 += 1        # cut by the kill: answered after the restart
            gw.start()
            _check_journal(d, seen)
        for s in sessions:
            s.connect(gw.port)
            s.check_seqs()
        # Cancel-on-disconnect takes 101's orders at the last restart; its reports may come after
        # the Establish, live: each client's view converges to the journal's.
        for s in sessions:
            _converge(s, d)
        _, trades = _journal_state(d)       # then a barrier: all of these are reported before it
        for s in sessions:
            s.barrier()
        _unreported_fills(trades, seen)
        check_positions(d, sessions)        # the clients' positions are the journal's
        # No orphan: the session without cancel-on-disconnect cancels every order it has live.
        keeper = sessions[1]
        assert keeper.c is not None
        for oid, instrument in sorted(keeper.live.items()):
            keeper.c.cancel(oid, instrument)
            m = keeper.c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.order_id == oid,
                                    30.0)[0]
            assert isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED, m
        for s in sessions:
            assert s.c is not None
            s.c.terminate()
        log = "".join((tmp_path / f"gateway-{i}.log").read_text() for i in range(2, KILLS + 2))
        assert log.count("restored from") == KILLS, log
    finally:
        gw.close()
    print(f"{len(seen.accepted)} orders accepted, {len(seen.fills)} fills seen, "
          f"{len(seen.cancelled)} cancels, {seen.answered} requests answered, "
          f"{seen.cut_by_959} open at a kill, {seen.answered_by_retransmission} answered by "
          f"retransmission, {seen.not_executed} rejected 959 (never executed), "
          f"{seen.retransmitted} messages retransmitted, {seen.resent} resent")
    assert len(seen.accepted) > 30, "too few orders were accepted"
    assert seen.fills, "no order crossed"
    assert seen.cut_by_959 >= 1, "no kill landed on an open request"
    assert eng.stop() == 0
