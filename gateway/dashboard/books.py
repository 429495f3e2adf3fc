"""Books and trades from the engine's event log: the depth ladder per instrument, the trade tape,
auction state and imbalance, phases and halts.

The ladder, phases and last auction are gateway/control/state.py's VenueState (the control plane's
own pure reducer, so the dashboard and the shell cannot disagree about a book); this module adds
the tape and each instrument's recent trade prices, and shapes the panels' states. Pure: events
in, states out; no clock is read (times shown are the engine's ts_ns).
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.control.state import PHASE_NAMES, SIDE_NAMES, VenueState
from native import messages
from native.records import Event

TAPE_ROWS = 60            # trades kept for the tape (newest first on screen)
PRICE_POINTS = 400        # trade prices kept per instrument for its chart
LADDER_LEVELS = 10


@dataclass(frozen=True)
class InstrumentInfo:
    id: int
    symbol: str
    tick: int


class BooksAndTrades:
    def __init__(self, instruments: list[InstrumentInfo]) -> None:
        self.info = {i.id: i for i in instruments}
        self.state = VenueState([i.id for i in instruments])
        self.tape: collections.deque[dict[str, Any]] = collections.deque(maxlen=TAPE_ROWS)
        self.prices: dict[int, collections.deque[tuple[int, int]]] = {
            i.id: collections.deque(maxlen=PRICE_POINTS) for i in instruments}
        self.halts: collections.deque[dict[str, Any]] = collections.deque(maxlen=20)
        self.last_trade_seq = 0

    def symbol(self, instrument_id: int) -> str:
        info = self.info.get(instrument_id)
        return info.symbol if info else str(instrument_id)

    def apply(self, ev: Event) -> None:
        """One decoded engine event (a native.messages Event Struct)."""
        self.state.apply(ev)
        if isinstance(ev, messages.TradeEvent):
            ins = ev.instrument_id
            self.tape.append({"seq": ev.seq, "ts_ns": ev.ts_ns, "instrument": self.symbol(ins),
                              "price": ev.price, "qty": ev.qty,
                              "aggressor": SIDE_NAMES.get(ev.aggressor_side, "auction"),
                              "buy_account": ev.buy_account_id,
                              "sell_account": ev.sell_account_id})
            self.prices.setdefault(ins, collections.deque(maxlen=PRICE_POINTS)).append((ev.ts_ns, ev.price))
            self.last_trade_seq = ev.seq
        elif isinstance(ev, messages.PhaseEvent):
            phase, prev = PHASE_NAMES.get(ev.phase, "?"), PHASE_NAMES.get(ev.prev_phase, "?")
            if "halted" in (phase, prev):
                self.halts.append({"seq": ev.seq, "ts_ns": ev.ts_ns,
                                   "instrument": self.symbol(ev.instrument_id),
                                   "what": "halted" if phase == "halted" else f"halt lifted ({phase})"})

    def replace_book(self, instrument_id: int, bids: list[list[int]], asks: list[list[int]]) -> None:
        """After the event log lapped this reader: the control plane's book replaces ours."""
        st = self.state.instruments.get(instrument_id)
        if st is None:
            return
        st.bids = {int(p): (int(q), int(n)) for p, q, n in bids}
        st.asks = {int(p): (int(q), int(n)) for p, q, n in asks}

    def books_panel(self, pending: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Every instrument's ladder, phase, last trade, auction and halts. pending: the control
        plane's scheduled phase moves by symbol (a halt's reopening), from its status feed."""
        rows = []
        for ins_id, st in sorted(self.state.instruments.items()):
            bids, asks = st.depth(LADDER_LEVELS)
            auction = None
            if st.last_auction is not None:
                a = st.last_auction
                auction = {"price": a.price, "matched_qty": a.matched_qty,
                           "imbalance_qty": a.imbalance_qty,
                           "imbalance_side": SIDE_NAMES.get(a.imbalance_side, "none"),
                           "crossed": bool(a.crossed), "seq": a.seq}
            info = self.info.get(ins_id)
            rows.append({"id": ins_id, "symbol": self.symbol(ins_id), "tick": info.tick if info else 1,
                         "phase": PHASE_NAMES.get(st.phase, "?"), "last": st.last, "trades": st.trades,
                         "volume": st.volume, "bids": bids, "asks": asks, "auction": auction,
                         "pending": (pending or {}).get(self.symbol(ins_id)),
                         "prices": list(self.prices.get(ins_id, ()))})
        # Live orders and rejects are the control plane's figures (its status): this reader decodes
        # only what the ladder, tape and phases need.
        return {"instruments": rows, "halts": list(self.halts)[::-1], "seq": self.state.last_seq}

    def tape_panel(self) -> dict[str, Any]:
        return {"trades": list(self.tape)[::-1], "last_trade_seq": self.last_trade_seq}
