"""One instrument: its configuration, risk limits, trading phase, two book sides and stop list.

The stop list holds waiting stops in acceptance order. The reference price is the last trade price
once the instrument has traded, else the configured one (ENGINE.md, NEW_ORDER step 19).
"""
from __future__ import annotations

from .book import BookSide, Order
from .layout import ENG, INT64_MAX


class Instrument:
    def __init__(self, instrument_id: int, tick_size: int, lot_size: int, reference_price: int,
                 market_collar_ticks: int) -> None:
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
        """Bids best to worst, asks best to worst, each level front to back, then waiting stops."""
        return self.bids.orders_in_book_order() + self.asks.orders_in_book_order() + list(self.stops)

    def info(self) -> dict[str, int]:
        return {
            "tick_size": self.tick_size, "lot_size": self.lot_size,
            "reference_price": self.configured_reference_price,
            "market_collar_ticks": self.market_collar_ticks, "max_order_qty": self.max_order_qty,
            "max_order_notional": self.max_order_notional,
            "price_collar_ticks": self.price_collar_ticks,
            "last_trade_price": self.last_trade_price or 0,
            "has_last_trade": int(self.last_trade_price is not None), "phase": self.phase,
        }
