"""``gateway.client``: talk to the venue's order-entry gateway from Python (a notebook, a test, a
strategy) over TCP (or TLS 1.3: ``tls=TlsOptions(...)``) with the SBE/FIXP protocol; ``Client`` is blocking, ``AsyncClient`` asyncio.

Both negotiate and establish on connect, number application messages, answer the gateway's
keepalive, and hand back decoded messages of gateway.orderentry.sbe_codec (ExecutionReport, ...),
whose enums print by name. ``buy``/``sell`` take prices in currency units ("99.50", Decimal),
``cancel_order`` the session's own clOrdId, ``describe`` makes one readable line of a report and
``positions`` adds up the session's fills (README: "Trade against it from Python")."""
from __future__ import annotations

from gateway.client.aio import AsyncClient
from gateway.client.errors import (ClientError, ClientTimeout, ConnectionClosed, RequestRejected,
                                   SessionRejected, SessionTerminated)
from gateway.client.orders import OrderRequest, describe, from_units, to_units
from gateway.client.sync import Client
from gateway.client.tls import TlsOptions
from gateway.security.session_keys import SessionKey
from gateway.orderentry.sbe_codec import (BusinessMessageReject, ExecutionReport, ExecType, OrderCancelReject,
                               OrderFlags, OrderMassCancelReport, OrdStatus, OrdType,
                               Retransmission, RetransmitReject, SelfTradePrevention,
                               Sequence, Side, Terminate, TimeInForce)

__all__ = ["AsyncClient", "BusinessMessageReject", "Client", "ClientError", "ClientTimeout",
           "ConnectionClosed", "ExecType", "ExecutionReport", "OrdStatus", "OrdType",
           "OrderCancelReject", "OrderFlags", "OrderMassCancelReport", "OrderRequest", "RequestRejected",
           "RetransmitReject", "Retransmission", "SelfTradePrevention", "Sequence",
           "SessionKey", "SessionRejected", "SessionTerminated", "Side", "Terminate", "TimeInForce",
           "TlsOptions",
           "describe", "from_units", "to_units"]
