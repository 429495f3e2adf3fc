"""A fuzz of the FIXP session state machine through real TCP against a real engine and gateway
(issue #16): not malformed bytes but valid session messages in random order with random sequence
numbers: Negotiate, Establish with a lower, higher, absent or last nextSeqNo, application
messages with fresh, repeated, skipped-ahead and top-of-range seqNums, resends of earlier frames,
RetransmitRequests over any range (wrapping ones too), heartbeats, Terminate and dropped sockets,
and application messages before the handshake.

An invariant checker follows every answer, live and retransmitted:
- no application message is executed twice: each clOrdId gets at most one executing answer
  (ExecutionReport New/Rejected, Canceled to its cancel, OrderCancelReject, mass-cancel report,
  or a BusinessMessageReject other than the duplicate 950 and the out-of-range 910);
- every request gets exactly one answer: each transmission on an established connection is
  answered once (the first processing by its outcome, a resend of a processed one by 950);
- the outbound flow has no gap and a seqNum always names the same message, live or resent; a
  Retransmission announcing n messages is followed by exactly those n.
Seeded; FIXP_FUZZ_STEPS and FIXP_FUZZ_SEED run it longer or otherwise."""
from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass, field

from gateway.client.session import SessionCore
from gateway.orderentry.sbe_codec import (BusinessMessageReject, Establish, EstablishmentAck,
                                          EstablishmentReject, ExecType, ExecutionReport,
                                          FlowType, Message, Negotiate, NegotiationResponse,
                                          OrderCancelReject, OrderCancelRequest,
                                          OrderMassCancelReport, OrderMassCancelRequest,
                                          Retransmission, RetransmitReject, RetransmitRequest,
                                          Sequence, Side, Terminate, TerminationCode)
from gateway.client.orders import OrderRequest
from gateway.reasons import Reason

from .gw_venue import KEYS, Venue, venue  # noqa: F401  (fixture)

STEPS = int(os.environ.get("FIXP_FUZZ_STEPS", "400"))
SEED = int(os.environ.get("FIXP_FUZZ_SEED", "16"))
SESSION = 102                                   # no cancel-on-disconnect, no throttle
U64_MAX = (1 << 64) - 1
NOT_EXECUTING = {Reason.ENG_GW_SEQ_TOO_LOW, Reason.ENG_GW_VALUE_RANGE}
APP_OUT = (ExecutionReport, OrderCancelReject, OrderMassCancelReport, BusinessMessageReject)


@dataclass
class Sent:
    kind: str                                   # "new", "cancel", "mass"
    frame: bytes
    seq: int


@dataclass
class Checker:
    sent: dict[int, Sent] = field(default_factory=dict)        # clOrdId -> message
    executing: dict[int, list[object]] = field(default_factory=dict)
    flow: dict[int, object] = field(default_factory=dict)      # outbound seqNum -> message
    live_orders: set[int] = field(default_factory=set)

    def answer_of(self, m: object) -> int | None:
        """The clOrdId of the request m answers, or None (a report not answering a request)."""
        if isinstance(m, BusinessMessageReject):
            return m.business_reject_ref_id
        if isinstance(m, (OrderCancelReject, OrderMassCancelReport)):
            return m.cl_ord_id
        if isinstance(m, ExecutionReport):
            x = self.sent.get(m.cl_ord_id)
            if x is None:
                return None
            if m.exec_type in (ExecType.NEW, ExecType.REJECTED) and x.kind == "new":
                return m.cl_ord_id
            if m.exec_type == ExecType.CANCELED and x.kind == "cancel":
                return m.cl_ord_id
        return None

    def outbound(self, m: object) -> None:
        """Every application message from the gateway, live or retransmitted, once per seqNum."""
        seq = m.seq_num  # type: ignore[attr-defined]
        if seq in self.flow:
            assert _same(self.flow[seq], m), f"seqNum {seq} names two messages: {self.flow[seq]} / {m}"
            return
        self.flow[seq] = m
        if isinstance(m, ExecutionReport):
            if m.exec_type == ExecType.NEW:
                self.live_orders.add(m.order_id)
            elif m.leaves_qty == 0:
                self.live_orders.discard(m.order_id)
        cid = self.answer_of(m)
        if cid is None or cid not in self.sent:
            return
        if isinstance(m, BusinessMessageReject) and m.reason_code in NOT_EXECUTING:
            return
        got = self.executing.setdefault(cid, [])
        got.append(m)
        assert len(got) == 1, f"clOrdId {cid} executed twice: {got}"

    def final(self) -> None:
        seqs = sorted(self.flow)
        assert seqs == list(range(1, len(seqs) + 1)), "the outbound flow has a gap"


def _same(a: object, b: object) -> bool:
    """The same message, field for field (a retransmission is the logged frame itself)."""
    return type(a) is type(b) and all(getattr(a, f) == getattr(b, f)
                                      for f in a.__struct_fields__)  # type: ignore[attr-defined]


class Conn:
    """One raw TCP connection speaking the session's messages as the fuzz says."""

    def __init__(self, venue: Venue, core: SessionCore) -> None:
        self.sock = socket.create_connection(("127.0.0.1", venue.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.core = core
        self.inbox: list[Message] = []
        self.state = "new"                      # new, negotiated, established, closed

    def send(self, frame: bytes) -> None:
        try:
            self.sock.sendall(frame)
        except OSError:
            self.state = "closed"

    def recv(self) -> Message | None:
        while not self.inbox:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                self.state = "closed"
                return None
            self.inbox.extend(self.core.feed(data))
        return self.inbox.pop(0)

    def close(self) -> None:
        self.state = "closed"
        self.sock.close()


class Fuzz:
    def __init__(self, venue: Venue, rng: random.Random) -> None:
        self.venue = venue
        self.rng = rng
        firm, key = KEYS[SESSION]
        self.firm, self.key = firm, key.encode()
        self.core = SessionCore(SESSION, firm, self.key, 5000)
        self.check = Checker()
        self.conn: Conn | None = None
        self.next_seq = 1                       # the client's own next seqNum
        self.next_cl = 1

    # -- session messages --------------------------------------------------------------------
    def _open(self) -> Conn:
        if self.conn is None or self.conn.state == "closed":
            self.conn = Conn(self.venue, SessionCore(SESSION, self.firm, self.key, 5000))
        return self.conn

    def negotiate(self) -> None:
        c = self._open()
        c.send(c.core.encoder.encode(Negotiate(session_id=SESSION, timestamp_ns=1,
                                               firm_id=self.firm, client_flow=FlowType.IDEMPOTENT,
                                               credentials=self.key)))
        m = self._session_answer(c)
        if isinstance(m, NegotiationResponse):
            c.state = "negotiated"

    def establish(self) -> None:
        c = self._open()
        nxt = self.rng.choice([None, 1, max(1, self.next_seq - self.rng.randrange(1, 5)),
                               self.next_seq, self.next_seq + self.rng.randrange(1, 4)])
        c.send(c.core.encoder.encode(Establish(session_id=SESSION, timestamp_ns=2,
                                               next_seq_no=nxt, keepalive_interval_ms=5000,
                                               credentials=self.key)))
        m = self._session_answer(c)
        if isinstance(m, EstablishmentAck):
            c.state = "established"
            if nxt is not None and nxt > self.next_seq:
                self.next_seq = nxt

    def _session_answer(self, c: Conn) -> Message | None:
        while True:
            m = c.recv()
            if m is None or not isinstance(m, APP_OUT):
                if isinstance(m, Terminate):
                    c.close()
                return m
            self.check.outbound(m)              # a report sequenced meanwhile

    # -- application messages ----------------------------------------------------------------
    def _seq(self) -> int:
        r = self.rng.random()
        if r < 0.05:
            return U64_MAX
        if r < 0.15 and self.next_seq > 1:
            return self.rng.randrange(1, self.next_seq)     # an old one: a duplicate
        seq = self.next_seq + (self.rng.randrange(1, 3) if r > 0.9 else 0)
        self.next_seq = seq + 1
        return seq

    def app(self) -> None:
        c = self._open()
        cid = self.next_cl
        self.next_cl += 1
        seq = self._seq()
        kind = self.rng.choice(["new", "new", "new", "cancel", "mass"])
        enc = c.core.encoder
        if kind == "new":
            frame = enc.encode(OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1,
                                            account_id=1, price=9000 + 5 * self.rng.randrange(20)
                                            ).message(seq, 3, cid))
        elif kind == "cancel":
            live = sorted(self.check.live_orders)
            oid = self.rng.choice(live) if live and self.rng.random() < 0.8 else 1 + cid
            frame = enc.encode(OrderCancelRequest(seq_num=seq, sending_time_ns=3, cl_ord_id=cid,
                                                  order_id=oid, instrument_id=1))
        else:
            frame = enc.encode(OrderMassCancelRequest(seq_num=seq, sending_time_ns=3,
                                                      cl_ord_id=cid, instrument_id=None,
                                                      account_id=None))
        self.check.sent[cid] = Sent(kind, frame, seq)
        self._transmit(c, cid)

    def resend(self) -> None:
        if self.check.sent:
            self._transmit(self._open(), self.rng.choice(sorted(self.check.sent)))

    def _transmit(self, c: Conn, cid: int) -> None:
        """Sends a request's frame; on an established connection waits for its one answer."""
        was = c.state
        c.send(self.check.sent[cid].frame)
        if was != "established":
            m = c.recv()                        # Terminate: not established
            assert m is None or isinstance(m, Terminate), m
            assert m is None or m.reason_code == Reason.ENG_GW_NOT_ESTABLISHED, m
            c.close()
            return
        answers = 0
        while True:
            m = c.recv()
            assert m is not None, f"connection closed before clOrdId {cid} was answered"
            assert not isinstance(m, Terminate), m
            if not isinstance(m, APP_OUT):
                continue
            self.check.outbound(m)
            if self.check.answer_of(m) == cid:
                answers += 1
                break
        assert answers == 1

    def retransmit(self) -> None:
        c = self._open()
        top = max(self.check.flow, default=0)
        first = self.rng.choice([1, max(1, top - 3), top, top + 1, U64_MAX, U64_MAX - 1])
        count = self.rng.choice([0, 1, 2, 3, 5, 10001])
        c.send(c.core.encoder.encode(RetransmitRequest(session_id=SESSION, timestamp_ns=4,
                                                       from_seq_no=first, count=count)))
        if c.state != "established":
            c.recv()
            c.close()
            return
        while True:
            m = c.recv()
            assert m is not None and not isinstance(m, Terminate), m
            if isinstance(m, RetransmitReject):
                return
            if isinstance(m, Retransmission):
                assert (m.next_seq_no, m.count) == (first, count), m
                for q in range(first, first + count):
                    got = c.recv()
                    assert got is not None and getattr(got, "seq_num", None) == q, (q, got)
                    self.check.outbound(got)
                return
            if isinstance(m, APP_OUT):
                self.check.outbound(m)

    def heartbeat(self) -> None:
        c = self._open()
        c.send(c.core.encoder.encode(Sequence(next_seq_no=self.next_seq)))
        if c.state != "established":
            c.recv()
            c.close()

    def terminate(self) -> None:
        c = self._open()
        c.send(c.core.encoder.encode(Terminate(session_id=SESSION, reason_code=0,
                                               code=TerminationCode.FINISHED, reason=b"")))
        while c.state != "closed":
            m = c.recv()
            if isinstance(m, APP_OUT):
                self.check.outbound(m)
            elif m is None or isinstance(m, Terminate):
                c.close()

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def step(self) -> None:
        c = self.conn
        state = "closed" if c is None else c.state
        if state == "closed":
            choices = [self.negotiate] * 6 + [self.establish, self.app, self.retransmit]
        elif state == "new":
            choices = [self.negotiate] * 6 + [self.establish, self.app, self.heartbeat, self.drop]
        elif state == "negotiated":
            choices = [self.establish] * 6 + [self.negotiate, self.app, self.drop]
        else:
            choices = ([self.app] * 10 + [self.resend] * 4 + [self.retransmit] * 2 +
                       [self.heartbeat, self.establish, self.negotiate, self.terminate, self.drop])
        self.rng.choice(choices)()

    def finish(self) -> None:
        """A last connection reads the whole outbound flow again and checks it."""
        self.drop()
        self.conn = None
        while self.conn is None or self.conn.state != "established":
            self.negotiate()
            if self.conn is not None and self.conn.state == "negotiated":
                c = self.conn
                c.send(c.core.encoder.encode(Establish(session_id=SESSION, timestamp_ns=5,
                                                       next_seq_no=None, keepalive_interval_ms=5000,
                                                       credentials=self.key)))
                m = self._session_answer(c)
                assert isinstance(m, EstablishmentAck), m
                c.state = "established"
                top = m.next_seq_no - 1
        first = 1
        while first <= top:
            count = min(1000, top - first + 1)
            c.send(c.core.encoder.encode(RetransmitRequest(session_id=SESSION, timestamp_ns=6,
                                                           from_seq_no=first, count=count)))
            while not isinstance(m := c.recv(), Retransmission):
                assert m is not None and not isinstance(m, (RetransmitReject, Terminate)), m
            for q in range(first, first + count):
                got = c.recv()
                assert got is not None and got.seq_num == q  # type: ignore[attr-defined]
                self.check.outbound(got)
            first += count
        self.check.final()
        for cid, x in self.check.sent.items():
            assert len(self.check.executing.get(cid, [])) <= 1
        c.close()


def test_random_valid_session_messages_never_execute_twice_and_answer_once(venue: Venue) -> None:
    rng = random.Random(SEED)
    fuzz = Fuzz(venue, rng)
    for _ in range(STEPS):
        fuzz.step()
    fuzz.finish()
    executed = sum(1 for v in fuzz.check.executing.values() if v)
    assert executed > STEPS // 10, "the fuzz hardly reached the application layer"
    assert venue.alive()
