"""What the control plane answers: the typed bodies of its replies (protocol.Reply.data).

Each is a msgspec Struct, so the service builds replies with named, typed fields and msgspec
encodes them as the same msgpack maps the shell, the dashboard and other clients read (the field
names are the wire keys). A reply with optional parts (a phase change's auction, say) leaves a field
at its default out of the map. Replies that carry open-ended
data (alerts with their details, P&L rows, risk metrics) are built by their own modules.
"""
from __future__ import annotations

import msgspec


class _R(msgspec.Struct, frozen=True):
    pass


class _Optional(msgspec.Struct, frozen=True, omit_defaults=True):
    """A reply whose fields at their default are left out of the map."""


class Whoami(_R, frozen=True):
    user: str
    role: str


class EngineInfo(_Optional, frozen=True):
    """The engine's liveness and counters as the control plane sees them ({alive: false} alone
    when it is not attached)."""
    alive: bool
    name: str | None = None
    seq: int | None = None
    commands: int | None = None
    events: int | None = None
    producers: int | None = None
    cpu: int | None = None
    events_seen: int | None = None
    lapped: bool | None = None


class InstrumentStatus(_R, frozen=True):
    id: int
    symbol: str
    tick_size: int
    lot_size: int
    phase: str
    last: int | None
    ref: int
    bid: int | None
    ask: int | None
    trades: int
    volume: int
    pending: str | None = None          # "continuous at engine ns N": a scheduled phase move


class FirmAccount(_R, frozen=True):
    id: int
    firm: int
    firm_name: str


class Status(_R, frozen=True):
    venue: str
    engine: EngineInfo
    instruments: list[InstrumentStatus]
    sessions_connected: int | None      # None: no gateway admin endpoint to ask
    alerts_open: int
    kill_switches: list[int]
    orders_live: int
    price_scale: int
    accounts: list[FirmAccount]
    history: dict[str, object]          # what the service rebuilt from the journal at start


class Book(_R, frozen=True):
    instrument: str
    instrument_id: int
    phase: str | None
    last: int | None
    bids: list[list[int]]               # [price, qty, orders], best first
    asks: list[list[int]]


class OrderRow(_R, frozen=True):
    order_id: int
    instrument: str
    instrument_id: int
    side: str
    price: int
    stop_price: int
    qty: int
    leaves: int
    type: str
    tif: str


class AuctionRow(_R, frozen=True):
    price: int
    matched_qty: int
    imbalance_qty: int
    imbalance_side: int
    crossed: int
    seq: int


class EngineAck(_Optional, frozen=True):
    """A sequenced control command's outcome: its seq and what it affected (e.g. orders cancelled);
    a phase step that ran an auction carries the auction's numbers."""
    seq: int
    affected: int
    auction: AuctionRow | None = None


class PhaseChange(_Optional, frozen=True):
    instrument: str
    phase: str
    steps: list[EngineAck]               # each sequenced SET_PHASE and its outcome
    changed: bool | None = None
    auction_in_s: float | None = None   # resume with a call period: the auction runs then
    auction: AuctionRow | None = None   # resume without one: the reopening auction at once


class KillSwitch(_R, frozen=True):
    account: int
    engaged: bool
    cancelled: int
    seq: int


class AlertAck(_R, frozen=True):
    id: int
    changed: bool
    acked_by: str
    acked_ts_ns: int


class StageLatency(_R, frozen=True):
    p50_ns: int
    p99_ns: int
    p999_ns: int
    max_ns: int
    count: int
