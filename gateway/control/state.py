"""What the control plane knows about the venue, rebuilt from the engine's event stream alone:
live orders by account, displayed depth per instrument (from BOOK_LEVEL events), instrument
phases and last trade prices.

Pure: ``apply(event)`` is the only mutator and reads no clock, so feeding the same events gives the
same state (the service feeds the broadcast log; a test can feed a list). Positions and P&L are
pnl.PnlBook's business, not this module's.
"""
from __future__ import annotations

from dataclasses import dataclass, field


from gateway.control.replies import AuctionRow, OrderRow
from native import messages, records
from native.records import Event

PHASE_NAMES = {int(records.Phase.CLOSED): "closed", int(records.Phase.PRE_OPEN): "pre_open",
               int(records.Phase.CONTINUOUS): "continuous", int(records.Phase.HALTED): "halted"}
PHASE_CODES = {v: k for k, v in PHASE_NAMES.items()}
SIDE_NAMES = {int(records.Side.BUY): "buy", int(records.Side.SELL): "sell"}
ORD_TYPE_NAMES = {int(v): v.name.lower() for v in records.OrdType}
TIF_NAMES = {int(v): v.name.lower() for v in records.Tif}
BUY = int(records.Side.BUY)
SELL = int(records.Side.SELL)


@dataclass
class Order:
    order_id: int
    account: int
    instrument: int
    side: int
    price: int
    stop_price: int
    qty: int
    leaves: int
    ord_type: int
    tif: int

    def row(self, symbol: str) -> OrderRow:
        return OrderRow(order_id=self.order_id, instrument=symbol, instrument_id=self.instrument,
                        side=SIDE_NAMES.get(self.side, str(self.side)), price=self.price,
                        stop_price=self.stop_price, qty=self.qty, leaves=self.leaves,
                        type=ORD_TYPE_NAMES.get(self.ord_type, str(self.ord_type)),
                        tif=TIF_NAMES.get(self.tif, str(self.tif)))


@dataclass
class InstrumentState:
    instrument_id: int
    phase: int = int(records.Phase.CLOSED)
    last: int | None = None                       # last trade price
    last_auction: AuctionRow | None = None        # the last AUCTION event's numbers
    bids: dict[int, tuple[int, int]] = field(default_factory=dict)   # price -> (qty, orders)
    asks: dict[int, tuple[int, int]] = field(default_factory=dict)
    trades: int = 0
    volume: int = 0

    def depth(self, levels: int) -> tuple[list[list[int]], list[list[int]]]:
        bids = [[p, q, n] for p, (q, n) in sorted(self.bids.items(), reverse=True)[:levels]]
        asks = [[p, q, n] for p, (q, n) in sorted(self.asks.items())[:levels]]
        return bids, asks


class VenueState:
    def __init__(self, instrument_ids: list[int]) -> None:
        self.instruments: dict[int, InstrumentState] = {i: InstrumentState(i) for i in instrument_ids}
        self.orders: dict[int, Order] = {}                    # live orders by order id
        self.by_account: dict[int, dict[int, Order]] = {}      # account -> order id -> order
        self.last_seq = 0
        self.last_ts_ns = 0
        self.events = 0
        self.rejects = 0
        # (seq, "ack" | "rejected", affected or reason) of the last command that ended with a
        # CMD_ACK or a REJECTED: a control command's outcome, read once its events are applied.
        self.last_outcome: tuple[int, str, int] = (0, "", 0)

    def _instrument(self, instrument_id: int) -> InstrumentState:
        st = self.instruments.get(instrument_id)
        if st is None:   # an instrument added at run time: track it too
            st = self.instruments[instrument_id] = InstrumentState(instrument_id)
        return st

    def _remove(self, order_id: int) -> None:
        o = self.orders.pop(order_id, None)
        if o is not None:
            acct = self.by_account.get(o.account)
            if acct is not None:
                acct.pop(order_id, None)

    def _set_leaves(self, order_id: int, leaves: int) -> None:
        if leaves <= 0:
            self._remove(order_id)
        else:
            o = self.orders.get(order_id)
            if o is not None:
                o.leaves = leaves

    def apply(self, ev: Event) -> None:
        """One decoded engine event (a native.messages Event Struct, from records.decode_events)."""
        self.events += 1
        self.last_seq = max(self.last_seq, ev.seq)
        self.last_ts_ns = max(self.last_ts_ns, ev.ts_ns)
        if isinstance(ev, messages.AcceptedEvent):
            o = Order(ev.order_id, ev.account_id, ev.instrument_id, ev.side, ev.price,
                      ev.stop_price, ev.qty, ev.qty, ev.ord_type, ev.tif)
            self.orders[o.order_id] = o
            self.by_account.setdefault(o.account, {})[o.order_id] = o
        elif isinstance(ev, messages.TradeEvent):
            st = self._instrument(ev.instrument_id)
            st.last = ev.price
            st.trades += 1
            st.volume += ev.qty
            self._set_leaves(ev.buy_order_id, ev.buy_leaves_qty)
            self._set_leaves(ev.sell_order_id, ev.sell_leaves_qty)
        elif isinstance(ev, messages.CancelledEvent):
            self._set_leaves(ev.order_id, ev.leaves_qty)
        elif isinstance(ev, messages.ExpiredEvent):
            self._remove(ev.order_id)
        elif isinstance(ev, messages.ReplacedEvent):
            replaced = self.orders.get(ev.order_id)
            if replaced is not None:        # qty: what is done (filled or decremented) + the new leaves
                replaced.qty = replaced.qty - replaced.leaves + ev.leaves_qty
                replaced.price = ev.price
                replaced.leaves = ev.leaves_qty
        elif isinstance(ev, messages.BookLevelEvent):
            st = self._instrument(ev.instrument_id)
            book = st.bids if ev.side == BUY else st.asks
            if ev.qty == 0 and ev.order_count == 0:
                book.pop(ev.price, None)
            else:
                book[ev.price] = (ev.qty, ev.order_count)
        elif isinstance(ev, messages.PhaseEvent):
            self._instrument(ev.instrument_id).phase = ev.phase
        elif isinstance(ev, messages.AuctionEvent):
            self._instrument(ev.instrument_id).last_auction = AuctionRow(
                price=ev.price, matched_qty=ev.matched_qty, imbalance_qty=ev.imbalance_qty,
                imbalance_side=ev.imbalance_side, crossed=ev.crossed, seq=ev.seq)
        elif isinstance(ev, messages.RejectedEvent):
            self.rejects += 1
            self.last_outcome = (ev.seq, "rejected", ev.reason)
        elif isinstance(ev, messages.CmdAckEvent):
            self.last_outcome = (ev.seq, "ack", ev.affected)
        # TRIGGERED: the stop stays live with the same id.

    def account_orders(self, account: int) -> list[Order]:
        return sorted(self.by_account.get(account, {}).values(), key=lambda o: o.order_id)

    def phase_name(self, instrument_id: int) -> str:
        return PHASE_NAMES.get(self._instrument(instrument_id).phase, "unknown")
