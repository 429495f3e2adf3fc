"""Client: a blocking order-entry session over one TCP connection (TCP_NODELAY).

Not thread-safe; one Client per thread. Keepalive: every send and every wait answers the
gateway's keepalive, so a notebook that leaves a Client idle for longer than two keepalive
intervals is terminated by the gateway (by design: that is how a dead client is detected)."""
from __future__ import annotations

import socket
import ssl
import time
from typing import Any, Callable

from gateway.client.errors import (ClientError, ClientTimeout, ConnectionClosed, RequestRejected,
                                   SessionTerminated)
from gateway.client.orders import (DEFAULT_PRICE_SCALE, OrderRequest, PriceLike, describe,
                                   exec_type_of, to_units)
from gateway.client.session import SessionCore
from gateway.client.tls import TlsOptions, context_of, server_name
from gateway.security.session_keys import SessionKey
from gateway.orderentry.sbe_codec import (BusinessMessageReject, ExecType, ExecutionReport,
                                          Message, OrderFlags, OrdType,
                                          Retransmission, SelfTradePrevention, Sequence, Side,
                                          Terminate, TimeInForce)


class Client:
    def __init__(self, sock: socket.socket, core: SessionCore) -> None:
        self.sock = sock
        self.core = core
        self.inbox: list[Message] = []     # received, not yet returned by recv()
        self.closed = False

    @classmethod
    def connect(cls, host: str, port: int, session_id: int, firm_id: int, key: str | bytes | SessionKey,
                keepalive_ms: int = 1000, next_seq_no: int | None = None,
                timeout_s: float = 5.0, price_scale: int = DEFAULT_PRICE_SCALE,
                source_host: str | None = None,
                tls: TlsOptions | ssl.SSLContext | None = None) -> "Client":
        """Opens TCP (TLS 1.3 with tls: the gateway's TLS listener), negotiates and establishes.
        Raises SessionRejected with the reason, ConnectionClosed when TLS refuses (the gateway's
        certificate, or the gateway refusing ours, which TLS 1.3 reports on the first read).
        key: the session's plain key, or a SessionKey for a session whose config holds only the
        key's hash (each logon then carries a proof, gateway/security/session_keys.py).
        price_scale: the venue's price units per currency unit (its config's venue.price_scale),
        for buy/sell/describe's decimal prices. source_host: the local address to connect from."""
        core = SessionCore(session_id, firm_id, key.encode() if isinstance(key, str) else key,
                           keepalive_ms, price_scale)
        raw = socket.create_connection((host, port), timeout=timeout_s,
                                       source_address=(source_host, 0) if source_host else None)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = raw
        if tls is not None:
            try:
                sock = context_of(tls).wrap_socket(raw, server_hostname=server_name(tls, host))
            except OSError as exc:
                raw.close()
                raise ConnectionClosed(f"TLS: {exc}") from None
        if next_seq_no is not None:
            core.next_seq_out = next_seq_no
        c = cls(sock, core)
        try:
            c.send_raw(core.negotiate())
            core.check_negotiated(c._next(timeout_s))
            c.send_raw(core.establish())
            core.check_established(c._next(timeout_s))
        except BaseException:
            c.close()
            raise
        return c

    # -- sending ----------------------------------------------------------------------------
    def send_raw(self, frame: bytes) -> None:
        """Sends bytes as they are (tests use it for malformed frames)."""
        try:
            self.sock.sendall(frame)
        except OSError as exc:
            raise ConnectionClosed(str(exc)) from None
        self.core.last_send_ns = time.monotonic_ns()

    def new_order(self, instrument_id: int, side: Side, order_qty: int, account_id: int,
                  price: int | None = None, ord_type: OrdType = OrdType.LIMIT,
                  time_in_force: TimeInForce = TimeInForce.DAY, stop_px: int | None = None,
                  display_qty: int | None = None, expire_time_ns: int | None = None,
                  stp_group: int = 0, stp_mode: SelfTradePrevention = SelfTradePrevention.NONE,
                  flags: OrderFlags = OrderFlags(0), cl_ord_id: int | None = None) -> int:
        """Sends a NewOrderSingle; returns its clOrdId (reports come through recv)."""
        req = OrderRequest(instrument_id=instrument_id, side=side, order_qty=order_qty,
                           account_id=account_id, price=price, ord_type=ord_type,
                           time_in_force=time_in_force, stop_px=stop_px, display_qty=display_qty,
                           expire_time_ns=expire_time_ns, stp_group=stp_group, stp_mode=stp_mode,
                           flags=flags)
        return self.submit(req, cl_ord_id)

    def buy(self, instrument_id: int, qty: int, price: PriceLike | None, account_id: int,
            **kw: Any) -> int:
        """A limit buy (price None: a market order) with the price in currency units, e.g.
        "99.50" or Decimal("99.50"); other NewOrderSingle fields as for new_order. Returns the
        clOrdId: wait_report, cancel_order and the reports name the order by it."""
        return self._order(Side.BUY, instrument_id, qty, price, account_id, kw)

    def sell(self, instrument_id: int, qty: int, price: PriceLike | None, account_id: int,
             **kw: Any) -> int:
        """As buy, selling."""
        return self._order(Side.SELL, instrument_id, qty, price, account_id, kw)

    def _order(self, side: Side, instrument_id: int, qty: int, price: PriceLike | None,
               account_id: int, kw: dict[str, Any]) -> int:
        if price is None:
            kw.setdefault("ord_type", OrdType.MARKET)
            return self.new_order(instrument_id, side, qty, account_id, **kw)
        return self.new_order(instrument_id, side, qty, account_id,
                              price=to_units(price, self.core.price_scale), **kw)

    def cancel_order(self, orig_cl_ord_id: int, timeout_s: float = 5.0) -> int:
        """Cancels the order this session sent as orig_cl_ord_id (its own id: no need for the
        venue's orderId or the instrument). Waits up to timeout_s for the order's
        acknowledgement if it has not arrived yet (keeping every message for recv). Returns the
        cancel's clOrdId. Raises ClientError when the venue never acknowledged that order."""
        end = time.monotonic() + timeout_s
        while (known := self.core.book.venue_id(orig_cl_ord_id)) is None:
            left = end - time.monotonic()
            if left <= 0:
                raise ClientError(f"clOrdId {orig_cl_ord_id}: no order acknowledged under this "
                                  f"id (never sent, rejected before it got an orderId, or its "
                                  f"acknowledgement is later than {timeout_s} s)")
            self._pump(min(left, self.core.keepalive_ms / 2000))
        return self.cancel(known[0], known[1])

    def wait_report(self, cl_ord_id: int, exec_type: str | ExecType | None = None,
                    timeout_s: float = 5.0) -> ExecutionReport:
        """The next ExecutionReport about the order sent as cl_ord_id (of exec_type, e.g.
        "TRADE", if given; a cancel's or a replace's report counts), taken from the incoming
        messages; the others stay for recv(). Raises RequestRejected when the gateway refused
        the request itself (a BusinessMessageReject naming it), SessionTerminated on Terminate,
        ClientTimeout if none arrives in timeout_s."""
        want = exec_type_of(exec_type) if exec_type is not None else None
        end = time.monotonic() + timeout_s
        while True:
            for i, msg in enumerate(self.inbox):
                if isinstance(msg, Terminate):
                    raise SessionTerminated(msg)
                if isinstance(msg, BusinessMessageReject) and \
                        msg.business_reject_ref_id == cl_ord_id:
                    del self.inbox[i]
                    raise RequestRejected(msg, self.describe(msg))
                if isinstance(msg, ExecutionReport) and self._about(msg, cl_ord_id) and \
                        (want is None or msg.exec_type == want):
                    del self.inbox[i]
                    return msg
            left = end - time.monotonic()
            if left <= 0:
                raise ClientTimeout(f"no {want.name if want else ''} ExecutionReport for "
                                    f"clOrdId {cl_ord_id} within {timeout_s} s")
            self._pump(min(left, self.core.keepalive_ms / 2000))

    def _about(self, msg: ExecutionReport, cl_ord_id: int) -> bool:
        """Whether msg reports on the order sent as cl_ord_id: its own reports, and those of
        requests about it (a cancel's report carries the cancel's clOrdId and the orderId)."""
        if msg.cl_ord_id == cl_ord_id:
            return True
        known = self.core.book.venue_id(cl_ord_id)
        return known is not None and msg.order_id == known[0]

    def positions(self) -> dict[tuple[int, int], int]:
        """{(account, instrument): position} from the fills this session was told of."""
        return dict(self.core.book.position)

    def describe(self, msg: Message) -> str:
        """One line for a person: enums by name, prices in currency units, reasons by name."""
        return describe(msg, self.core.price_scale)

    def submit(self, req: OrderRequest, cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self.send_raw(self.core.new_order(req, cid))
        return cid

    def cancel(self, order_id: int, instrument_id: int, cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self.send_raw(self.core.cancel(order_id, instrument_id, cid))
        return cid

    def replace(self, order_id: int, instrument_id: int, price: int, order_qty: int,
                cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self.send_raw(self.core.replace(order_id, instrument_id, price, order_qty, cid))
        return cid

    def mass_cancel(self, instrument_id: int | None = None, account_id: int | None = None,
                    cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self.send_raw(self.core.mass_cancel(cid, instrument_id, account_id))
        return cid

    def request_retransmission(self, from_seq_no: int, count: int) -> None:
        self.send_raw(self.core.retransmit_request(from_seq_no, count))

    def heartbeat(self) -> None:
        self.send_raw(self.core.heartbeat())

    # -- receiving --------------------------------------------------------------------------
    def _pump(self, timeout_s: float) -> None:
        """Reads once (up to timeout_s) into the inbox; answers keepalive."""
        if self.core.heartbeat_due():
            self.heartbeat()
        self.sock.settimeout(max(timeout_s, 1e-4))
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return
        except OSError as exc:
            raise ConnectionClosed(str(exc)) from None
        if not data:
            self.closed = True
            raise ConnectionClosed("the gateway closed the connection")
        self.inbox.extend(self.core.feed(data))

    def _next(self, timeout_s: float) -> Message:
        end = time.monotonic() + timeout_s
        while not self.inbox:
            left = end - time.monotonic()
            if left <= 0 and not self.inbox:
                raise ClientTimeout(f"nothing received within {timeout_s} s")
            self._pump(min(left, self.core.keepalive_ms / 2000))
        return self.inbox.pop(0)

    def recv(self, timeout_s: float = 5.0, skip_heartbeats: bool = True) -> Message:
        """The next message from the gateway (Sequence heartbeats skipped unless asked for).
        Terminate is returned, not raised, so the caller can read its reason."""
        end = time.monotonic() + timeout_s
        while True:
            msg = self._next(max(end - time.monotonic(), 0.0))
            if skip_heartbeats and isinstance(msg, Sequence):
                continue
            return msg

    def recv_until(self, pred: Callable[[Message], bool], timeout_s: float = 5.0
                   ) -> tuple[Message, list[Message]]:
        """Receives until pred(msg); returns (that message, the ones before it). Raises
        SessionTerminated if a Terminate comes first, ClientTimeout if nothing matches."""
        seen: list[Message] = []
        end = time.monotonic() + timeout_s
        while True:
            msg = self.recv(max(end - time.monotonic(), 0.0))
            if pred(msg):
                return msg, seen
            if isinstance(msg, Terminate):
                raise SessionTerminated(msg)
            seen.append(msg)

    def recv_n(self, n: int, timeout_s: float = 5.0) -> list[Message]:
        """The next n non-heartbeat messages."""
        end = time.monotonic() + timeout_s
        return [self.recv(max(end - time.monotonic(), 0.0)) for _ in range(n)]

    def retransmit(self, from_seq_no: int, count: int, timeout_s: float = 5.0) -> list[Message]:
        """Asks for messages from_seq_no .. +count-1 and returns them in order. Raises
        SessionRejected-like errors as RetransmitReject messages: the reject is returned alone."""
        self.request_retransmission(from_seq_no, count)
        head, _ = self.recv_until(lambda m: type(m).__name__ in ("Retransmission",
                                                                  "RetransmitReject"), timeout_s)
        if not isinstance(head, Retransmission):
            return [head]
        return self.recv_n(head.count, timeout_s)

    # -- ending -----------------------------------------------------------------------------
    def terminate(self, timeout_s: float = 2.0) -> Message | None:
        """Sends Terminate and waits for the gateway's Terminate; closes the socket."""
        try:
            self.send_raw(self.core.terminate())
            msg, _ = self.recv_until(lambda m: isinstance(m, Terminate), timeout_s)
            return msg
        except (ConnectionClosed, ClientTimeout):
            return None
        finally:
            self.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.terminate()
