"""One instrument: its configuration, risk limits, trading phase, two book sides and stop list,
and, for a dark midpoint instrument, its two dark queues and the reference NBBO.

The stop list holds waiting stops in acceptance order; a dark queue holds one side's midpoint-peg
orders in time priority. The reference price is the last trade price once the instrument has
traded, else the configured one (ENGINE.md, NEW_ORDER step 19).
"""
from __future__ import annotations

from dataclasses import dataclass

from .book import BookSide, Order
from .layout import ENG, INT64_MAX


@dataclass(frozen=True)
class Nbbo:
    """The reference NBBO last received (ENG_CMD_NBBO); a price of 0 means that side is empty."""

    bid_price: int
    ask_price: int
    bid_qty: int
    ask_qty: int
    quote_ts_ns: int


class Instrument:
    def __init__(self, instrument_id: int, tick_size: int, lot_size: int, reference_price: int,
                 market_collar_ticks: int, venue_mode: int = ENG.MODE_LIT,
                 nbbo_max_age_ns: int = 0) -> None:
        self.instrument_id = instrument_id
        self.tick_size = tick_size
        self.lot_size = lot_size
        self.configured_reference_price = reference_price
        self.market_collar_ticks = market_collar_ticks
        self.max_order_qty = INT64_MAX
        self.max_order_notional = INT64_MAX
        self.price_collar_ticks = INT64_MAX
        self.phase = ENG.PHASE_CLOSED
        self.last_trade_price: int | None = None
        self.bids = BookSide(ENG.SIDE_BUY)
        self.asks = BookSide(ENG.SIDE_SELL)
        self.stops: list[Order] = []
        self.venue_mode = venue_mode
        self.nbbo_max_age_ns = nbbo_max_age_ns
        self.nbbo: Nbbo | None = None
        self.protect_mode = ENG.PROTECT_OFF   # CMD_SET_ORDER_PROTECTION (protect.py)
        self.sub_penny_from = 0                # and its Rule 612 grid (protect.sub_penny)
        self.sub_penny_increment = 0
        self._dark_buys: list[Order] = []
        self._dark_sells: list[Order] = []

    @property
    def is_dark(self) -> bool:
        return self.venue_mode == ENG.MODE_DARK_MIDPOINT

    def dark_queue(self, side: int) -> list[Order]:
        """One side's midpoint-peg orders, front (oldest) first; empty on a lit instrument."""
        return self._dark_buys if side == ENG.SIDE_BUY else self._dark_sells

    @property
    def reference_price(self) -> int:
        if self.last_trade_price is None:
            return self.configured_reference_price
        return self.last_trade_price

    def side(self, side: int) -> BookSide:
        return self.bids if side == ENG.SIDE_BUY else self.asks

    def opposite(self, side: int) -> BookSide:
        return self.asks if side == ENG.SIDE_BUY else self.bids

    def book_order(self) -> list[Order]:
        """Bids best to worst, asks best to worst, each level front to back, then waiting stops,
        then the dark queues (buys, sells) in priority order."""
        return (self.bids.orders_in_book_order() + self.asks.orders_in_book_order() + list(self.stops)
                + self._dark_buys + self._dark_sells)

    def info(self) -> dict[str, int]:
        return {
            "tick_size": self.tick_size, "lot_size": self.lot_size,
            "reference_price": self.configured_reference_price,
            "market_collar_ticks": self.market_collar_ticks, "max_order_qty": self.max_order_qty,
            "max_order_notional": self.max_order_notional,
            "price_collar_ticks": self.price_collar_ticks,
            "last_trade_price": self.last_trade_price or 0,
            "has_last_trade": int(self.last_trade_price is not None), "phase": self.phase,
            "venue_mode": self.venue_mode, "nbbo_max_age_ns": self.nbbo_max_age_ns,
            "has_nbbo": int(self.nbbo is not None),
            "nbbo_bid_price": self.nbbo.bid_price if self.nbbo else 0,
            "nbbo_ask_price": self.nbbo.ask_price if self.nbbo else 0,
            "nbbo_bid_qty": self.nbbo.bid_qty if self.nbbo else 0,
            "nbbo_ask_qty": self.nbbo.ask_qty if self.nbbo else 0,
            "nbbo_quote_ts_ns": self.nbbo.quote_ts_ns if self.nbbo else 0,
        }
