"""AsyncClient: the asyncio twin of Client (same SessionCore, same frames).

A background task answers keepalive while the session is open, so an idle notebook kernel keeps
its session; received messages queue in `messages` (an asyncio.Queue)."""
from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Any

from gateway.client.errors import (ClientError, ClientTimeout, ConnectionClosed, RequestRejected,
                                   SessionTerminated)
from gateway.client.orders import (DEFAULT_PRICE_SCALE, OrderRequest, PriceLike, describe,
                                   exec_type_of, to_units)
from gateway.client.session import SessionCore
from gateway.client.tls import TlsOptions, context_of, server_name
from gateway.security.session_keys import SessionKey
from gateway.orderentry.sbe_codec import (BusinessMessageReject, ExecType, ExecutionReport,
                                          Message, OrdType, Retransmission, Sequence, Side,
                                          Terminate)


class AsyncClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 core: SessionCore) -> None:
        self.reader = reader
        self.writer = writer
        self.core = core
        self.messages: asyncio.Queue[Message | None] = asyncio.Queue()
        self._held: list[Message] = []  # received while wait_report looked for another one
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def connect(cls, host: str, port: int, session_id: int, firm_id: int,
                      key: str | bytes | SessionKey, keepalive_ms: int = 1000,
                      next_seq_no: int | None = None, timeout_s: float = 5.0,
                      price_scale: int = DEFAULT_PRICE_SCALE,
                      tls: TlsOptions | ssl.SSLContext | None = None) -> "AsyncClient":
        """As Client.connect (tls: the gateway's TLS 1.3 listener)."""
        core = SessionCore(session_id, firm_id, key.encode() if isinstance(key, str) else key,
                           keepalive_ms, price_scale)
        try:
            opened = asyncio.open_connection(host, port) if tls is None else asyncio.open_connection(
                host, port, ssl=context_of(tls), server_hostname=server_name(tls, host))
            reader, writer = await asyncio.wait_for(opened, timeout_s)
        except ssl.SSLError as exc:
            raise ConnectionClosed(f"TLS: {exc}") from None
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if next_seq_no is not None:
            core.next_seq_out = next_seq_no
        c = cls(reader, writer, core)
        c._tasks.append(asyncio.create_task(c._read_loop()))
        try:
            c._send(core.negotiate())
            core.check_negotiated(await c.recv(timeout_s))
            c._send(core.establish())
            core.check_established(await c.recv(timeout_s))
        except BaseException:
            await c.close()
            raise
        c._tasks.append(asyncio.create_task(c._keepalive_loop()))
        return c

    def _send(self, frame: bytes) -> None:
        if self.writer.is_closing():
            raise ConnectionClosed("the connection is closed")
        self.writer.write(frame)
        self.core.last_send_ns = time.monotonic_ns()

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.reader.read(1 << 16)
                if not data:
                    break
                for msg in self.core.feed(data):
                    self.messages.put_nowait(msg)
        finally:
            self.messages.put_nowait(None)     # end of stream

    async def _keepalive_loop(self) -> None:
        while not self.writer.is_closing():
            await asyncio.sleep(self.core.keepalive_ms / 4000)
            if self.core.heartbeat_due() and not self.writer.is_closing():
                self._send(self.core.heartbeat())

    async def submit(self, req: OrderRequest, cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self._send(self.core.new_order(req, cid))
        await self.writer.drain()
        return cid

    async def cancel(self, order_id: int, instrument_id: int, cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self._send(self.core.cancel(order_id, instrument_id, cid))
        await self.writer.drain()
        return cid

    async def buy(self, instrument_id: int, qty: int, price: PriceLike | None, account_id: int,
                  **kw: Any) -> int:
        """As Client.buy: the price in currency units ("99.50"); None: a market order."""
        cid = kw.pop("cl_ord_id", None)
        return await self.submit(self._request(Side.BUY, instrument_id, qty, price, account_id,
                                               kw), cid)

    async def sell(self, instrument_id: int, qty: int, price: PriceLike | None, account_id: int,
                   **kw: Any) -> int:
        cid = kw.pop("cl_ord_id", None)
        return await self.submit(self._request(Side.SELL, instrument_id, qty, price, account_id,
                                               kw), cid)

    def _request(self, side: Side, instrument_id: int, qty: int, price: PriceLike | None,
                 account_id: int, kw: dict[str, Any]) -> OrderRequest:
        if price is None:
            kw.setdefault("ord_type", OrdType.MARKET)
        return OrderRequest(instrument_id=instrument_id, side=side, order_qty=qty,
                            account_id=account_id,
                            price=None if price is None else to_units(price,
                                                                      self.core.price_scale),
                            **kw)

    async def cancel_order(self, orig_cl_ord_id: int, timeout_s: float = 5.0) -> int:
        """As Client.cancel_order: by this session's own clOrdId (waits up to timeout_s for
        the order's acknowledgement, which the reader task records)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while (known := self.core.book.venue_id(orig_cl_ord_id)) is None:
            if loop.time() >= end or self.reader.at_eof():
                raise ClientError(f"clOrdId {orig_cl_ord_id}: no order acknowledged under this "
                                  f"id within {timeout_s} s")
            await asyncio.sleep(0.001)  # the reader task records acknowledgements
        return await self.cancel(known[0], known[1])

    async def wait_report(self, cl_ord_id: int, exec_type: str | ExecType | None = None,
                          timeout_s: float = 5.0) -> ExecutionReport:
        """As Client.wait_report: the next ExecutionReport about the order sent as cl_ord_id
        (of exec_type if given); the other messages stay for recv(), in order. Raises
        RequestRejected, SessionTerminated or ClientTimeout."""
        want = exec_type_of(exec_type) if exec_type is not None else None
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        seen = 0
        while True:
            for i in range(seen, len(self._held)):
                msg = self._held[i]
                if isinstance(msg, Terminate):
                    raise SessionTerminated(msg)
                if isinstance(msg, BusinessMessageReject) and \
                        msg.business_reject_ref_id == cl_ord_id:
                    del self._held[i]
                    raise RequestRejected(msg, self.describe(msg))
                known = self.core.book.venue_id(cl_ord_id)
                if isinstance(msg, ExecutionReport) and \
                        (msg.cl_ord_id == cl_ord_id or
                         (known is not None and msg.order_id == known[0])) and \
                        (want is None or msg.exec_type == want):
                    del self._held[i]
                    return msg
            seen = len(self._held)
            left = end - loop.time()
            if left <= 0:
                raise ClientTimeout(f"no {want.name if want else ''} ExecutionReport for "
                                    f"clOrdId {cl_ord_id} within {timeout_s} s")
            try:
                got = await asyncio.wait_for(self.messages.get(), left)
            except asyncio.TimeoutError:
                continue
            if got is None:
                self.messages.put_nowait(None)
                raise ConnectionClosed("the gateway closed the connection")
            if not isinstance(got, Sequence):
                self._held.append(got)

    def positions(self) -> dict[tuple[int, int], int]:
        """{(account, instrument): position} from the fills this session was told of."""
        return dict(self.core.book.position)

    def describe(self, msg: Message) -> str:
        """One line for a person: enums by name, prices in currency units, reasons by name."""
        return describe(msg, self.core.price_scale)

    async def replace(self, order_id: int, instrument_id: int, price: int, order_qty: int,
                      cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self._send(self.core.replace(order_id, instrument_id, price, order_qty, cid))
        await self.writer.drain()
        return cid

    async def mass_cancel(self, instrument_id: int | None = None, account_id: int | None = None,
                          cl_ord_id: int | None = None) -> int:
        cid = self.core.cl_ord_id(cl_ord_id)
        self._send(self.core.mass_cancel(cid, instrument_id, account_id))
        await self.writer.drain()
        return cid

    async def recv(self, timeout_s: float = 5.0, skip_heartbeats: bool = True) -> Message:
        if self._held:                  # set aside by wait_report, in arrival order
            return self._held.pop(0)
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while True:
            try:
                msg = await asyncio.wait_for(self.messages.get(), max(end - loop.time(), 0.0))
            except asyncio.TimeoutError:
                raise ClientTimeout(f"nothing received within {timeout_s} s") from None
            if msg is None:
                self.messages.put_nowait(None)
                raise ConnectionClosed("the gateway closed the connection")
            if skip_heartbeats and isinstance(msg, Sequence):
                continue
            return msg

    async def retransmit(self, from_seq_no: int, count: int, timeout_s: float = 5.0
                         ) -> list[Message]:
        self._send(self.core.retransmit_request(from_seq_no, count))
        while True:
            head = await self.recv(timeout_s)
            if type(head).__name__ in ("Retransmission", "RetransmitReject"):
                break
        if not isinstance(head, Retransmission):
            return [head]
        return [await self.recv(timeout_s) for _ in range(head.count)]

    async def terminate(self, timeout_s: float = 2.0) -> Message | None:
        try:
            self._send(self.core.terminate())
            while True:
                msg = await self.recv(timeout_s)
                if isinstance(msg, Terminate):
                    return msg
        except (ConnectionClosed, ClientTimeout):
            return None
        finally:
            await self.close()

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionResetError:
            return                      # the gateway closed first: nothing left to wait for
