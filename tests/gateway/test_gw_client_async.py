"""gateway.client from a quant's seat: the asyncio client establishes, trades, answers keepalive on
its own while idle, reconnects and retransmits, just like the blocking one."""
from __future__ import annotations

import asyncio

import pytest

from gateway.client import (AsyncClient, ExecType, ExecutionReport, OrderRequest, SessionRejected,
                            Side, Terminate)
from gateway.reasons import Reason

from .gw_venue import KEYS, Venue, venue  # noqa: F401  (fixture)


async def _connect(v: Venue, session_id: int, **kw: object) -> AsyncClient:
    firm, key = KEYS[session_id]
    return await AsyncClient.connect("127.0.0.1", v.port, session_id, firm, key, **kw)  # type: ignore[arg-type]


def test_async_client_trades_and_keeps_the_session_alive_while_idle(venue: Venue) -> None:
    async def scenario() -> None:
        maker = await _connect(venue, 101, keepalive_ms=100)
        taker = await _connect(venue, 201)
        await maker.submit(OrderRequest(instrument_id=1, side=Side.SELL, order_qty=3,
                                        account_id=1, price=10000))
        new = await maker.recv()
        assert isinstance(new, ExecutionReport) and new.exec_type == ExecType.NEW
        # Idle for many keepalive intervals: the background task heartbeats for us.
        with pytest.raises(Exception) as info:
            await maker.recv(timeout_s=0.6)
        assert type(info.value).__name__ == "ClientTimeout"
        await taker.submit(OrderRequest(instrument_id=1, side=Side.BUY, order_qty=3,
                                        account_id=3, price=10000))
        fill = await maker.recv()
        assert isinstance(fill, ExecutionReport) and fill.exec_type == ExecType.TRADE
        bye = await maker.terminate()
        assert isinstance(bye, Terminate) and bye.reason_code == Reason.ENG_GW_PEER_TERMINATED
        await taker.terminate()

    asyncio.run(scenario())


def test_async_client_reconnects_and_retransmits(venue: Venue) -> None:
    async def scenario() -> None:
        c = await _connect(venue, 102)
        await c.submit(OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1, account_id=1,
                                    price=9000))
        first = await c.recv()
        await c.close()
        again = await _connect(venue, 102, next_seq_no=2)
        [copy] = await again.retransmit(1, 1)
        assert copy == first
        await again.terminate()

    asyncio.run(scenario())


def test_async_client_reports_bad_credentials(venue: Venue) -> None:
    async def scenario() -> None:
        with pytest.raises(SessionRejected) as info:
            await AsyncClient.connect("127.0.0.1", venue.port, 101, 1, "bad")
        assert info.value.reason_code == Reason.ENG_GW_BAD_CREDENTIALS

    asyncio.run(scenario())
