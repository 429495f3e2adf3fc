"""The transport-free half of a client session: FIXP handshake messages, application seqNums,
frame reassembly and the bookkeeping both the blocking and the asyncio client share.

No I/O here: callers feed received bytes in and send the frames this returns."""
from __future__ import annotations

import time
from typing import Iterator

from gateway.security.session_keys import SessionKey
from gateway.client.errors import ConnectionClosed, SessionRejected
from gateway.client.orders import DEFAULT_PRICE_SCALE, OrderBook, OrderRequest
from gateway.orderentry.sbe_codec import (BusinessMessageReject, Decoder, Encoder, Establish,
                               EstablishmentAck, EstablishmentReject, ExecutionReport,
                               FlowType, Message, Negotiate, NegotiationReject,
                               OrderCancelReject, OrderMassCancelReport,
                               NegotiationResponse, OrderCancelReplaceRequest, OrderCancelRequest,
                               OrderMassCancelRequest, RetransmitRequest, Sequence, Terminate,
                               TerminationCode)

_APP_REPLIES = (ExecutionReport, OrderCancelReject, OrderMassCancelReport, BusinessMessageReject)


def now_ns() -> int:
    return time.time_ns()


class SessionCore:
    """State of one FIXP session as the client sees it."""

    def __init__(self, session_id: int, firm_id: int, key: bytes | SessionKey, keepalive_ms: int,
                 price_scale: int = DEFAULT_PRICE_SCALE) -> None:
        if price_scale < 1:
            raise ValueError(f"price_scale must be >= 1, got {price_scale}")
        self.price_scale = price_scale   # engine price units per currency unit
        self.book = OrderBook()          # own orders (clOrdId -> orderId) and positions
        self.session_id = session_id
        self.firm_id = firm_id
        self.key = key
        self.keepalive_ms = keepalive_ms
        self.next_seq_out = 1            # our next application seqNum
        self.last_seq_in = 0             # highest application seqNum received from the gateway
        self.server_next_seq = 0         # from EstablishmentAck
        self.established = False         # EstablishmentAck received: heartbeats may go out
        self.next_cl_ord_id = 1
        self.encoder = Encoder()
        self.decoder = Decoder()
        self._rx = bytearray()
        self.last_send_ns = time.monotonic_ns()

    # -- handshake --------------------------------------------------------------------------
    def _credentials(self, template_id: int) -> tuple[int, bytes]:
        """(timestamp, credentials) of a Negotiate or Establish: the plain key, or a fresh proof."""
        if isinstance(self.key, SessionKey):
            ts = self.key.timestamp(now_ns())
            return ts, self.key.proof(template_id, ts)
        return now_ns(), self.key

    def negotiate(self) -> bytes:
        ts, cred = self._credentials(Negotiate.TEMPLATE_ID)
        return self.encoder.encode(Negotiate(session_id=self.session_id, timestamp_ns=ts,
                                             firm_id=self.firm_id,
                                             client_flow=FlowType.IDEMPOTENT,
                                             credentials=cred))

    def establish(self, next_seq_no: int | None = None) -> bytes:
        ts, cred = self._credentials(Establish.TEMPLATE_ID)
        return self.encoder.encode(Establish(session_id=self.session_id, timestamp_ns=ts,
                                             next_seq_no=next_seq_no or self.next_seq_out,
                                             keepalive_interval_ms=self.keepalive_ms,
                                             credentials=cred))

    def check_negotiated(self, msg: Message) -> None:
        if isinstance(msg, NegotiationReject):
            raise SessionRejected(msg)
        if not isinstance(msg, NegotiationResponse):
            raise ConnectionClosed(f"expected NegotiationResponse, got {type(msg).__name__}")

    def check_established(self, msg: Message) -> None:
        if isinstance(msg, EstablishmentReject):
            raise SessionRejected(msg)
        if not isinstance(msg, EstablishmentAck):
            raise ConnectionClosed(f"expected EstablishmentAck, got {type(msg).__name__}")
        self.server_next_seq = msg.next_seq_no
        self.established = True

    # -- application messages ---------------------------------------------------------------
    def cl_ord_id(self, given: int | None) -> int:
        if given is not None:
            return given
        cid = self.next_cl_ord_id
        self.next_cl_ord_id += 1
        return cid

    def _seq(self) -> int:
        seq = self.next_seq_out
        self.next_seq_out += 1
        return seq

    def new_order(self, req: OrderRequest, cl_ord_id: int) -> bytes:
        return self.encoder.encode(req.message(self._seq(), now_ns(), cl_ord_id))

    def cancel(self, order_id: int, instrument_id: int, cl_ord_id: int) -> bytes:
        return self.encoder.encode(OrderCancelRequest(seq_num=self._seq(), sending_time_ns=now_ns(),
                                                      cl_ord_id=cl_ord_id, order_id=order_id,
                                                      instrument_id=instrument_id))

    def replace(self, order_id: int, instrument_id: int, price: int, order_qty: int,
                cl_ord_id: int) -> bytes:
        return self.encoder.encode(OrderCancelReplaceRequest(
            seq_num=self._seq(), sending_time_ns=now_ns(), cl_ord_id=cl_ord_id, order_id=order_id,
            price=price, order_qty=order_qty, instrument_id=instrument_id))

    def mass_cancel(self, cl_ord_id: int, instrument_id: int | None,
                    account_id: int | None) -> bytes:
        return self.encoder.encode(OrderMassCancelRequest(
            seq_num=self._seq(), sending_time_ns=now_ns(), cl_ord_id=cl_ord_id,
            instrument_id=instrument_id, account_id=account_id))

    def heartbeat(self) -> bytes:
        return self.encoder.encode(Sequence(next_seq_no=self.next_seq_out))

    def retransmit_request(self, from_seq_no: int, count: int) -> bytes:
        return self.encoder.encode(RetransmitRequest(session_id=self.session_id,
                                                     timestamp_ns=now_ns(),
                                                     from_seq_no=from_seq_no, count=count))

    def terminate(self) -> bytes:
        return self.encoder.encode(Terminate(session_id=self.session_id, reason_code=0,
                                             code=TerminationCode.FINISHED, reason=b""))

    def heartbeat_due(self) -> bool:
        """Half a keepalive since the last send, on an established session only: FIXP's Sequence
        belongs to an established session (the keepalive is agreed by Establish), and the
        gateway ends a connection that sends one during the handshake (940)."""
        return self.established and \
            time.monotonic_ns() - self.last_send_ns >= self.keepalive_ms * 1_000_000 // 2

    # -- receiving --------------------------------------------------------------------------
    def feed(self, data: bytes) -> Iterator[Message]:
        """Appends received bytes; yields every whole message now available."""
        self._rx += data
        while True:
            n = self.decoder.peek(self._rx)
            if n is None:
                return
            msg = self.decoder.decode(bytes(self._rx[:n]))
            del self._rx[:n]
            if isinstance(msg, _APP_REPLIES):
                self.last_seq_in = max(self.last_seq_in, msg.seq_num)
            self.book.note(msg)
            yield msg
