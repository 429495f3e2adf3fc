"""A seeded, reproducible order flow for the demo: what a morning on a small venue looks like.

Three instruments open with a call auction fed by pre-open orders, then trade continuously:
market makers quote both sides around a random-walk fair value and refresh their quotes
(cancel/replace), takers cross the spread with marketable limit, IOC and market orders, a few
participants rest icebergs and stops. Every order is a native.messages Command Struct (see
native/ENGINE.md); seq and ts_ns are stamped here, as the sequencer would.

The flow depends only on the seed, so two runs print the same trades.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import msgspec
import numpy as np

from native.messages import (AddInstrument, Cancel, Command, EndOfDay, NewOrder, Replace, SetInstrumentRisk,
                             SetPhase)

PRICE_UNIT_PER_USD = 10_000  # prices are integers in 1/10000 USD, as in LOBSTER files
TICK = 100                   # one cent


@dataclass(frozen=True)
class DemoInstrument:
    instrument_id: int
    symbol: str
    reference_usd: float

    @property
    def reference_price(self) -> int:
        return round(self.reference_usd * PRICE_UNIT_PER_USD / TICK) * TICK


INSTRUMENTS = (
    DemoInstrument(1, "AAPL", 150.00),
    DemoInstrument(2, "MSFT", 410.00),
    DemoInstrument(3, "GOOG", 175.00),
)

MAKER_ACCOUNTS = (1, 2)      # market makers, each its own STP group
TAKER_ACCOUNTS = (10, 11, 12)


@dataclass
class _Sequencer:
    """Stamps seq and ts_ns the way the venue's sequencer does: seq strictly increasing,
    engine time advancing by a seeded inter-arrival gap."""
    seq: int = 0
    ts_ns: int = 34_200 * 1_000_000_000  # 09:30:00 as nanoseconds after midnight

    def stamp(self, cmd: Command, gap_ns: int = 0) -> Command:
        self.seq += 1
        self.ts_ns += gap_ns
        return msgspec.structs.replace(cmd, seq=self.seq, ts_ns=self.ts_ns)


@dataclass
class DemoFlow:
    """Generates the demo's commands. `orders_per_instrument` sets the length of the continuous
    session; the pre-open and the auction come first."""
    seed: int = 20261123
    orders_per_instrument: int = 20_000
    _seq: _Sequencer = field(default_factory=_Sequencer)
    _next_order_id: int = 1
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def _order_id(self) -> int:
        oid = self._next_order_id
        self._next_order_id += 1
        return oid

    def setup(self, include_instruments: bool = True) -> list[Command]:
        """Instrument definitions (unless the engine process was started with them), risk
        limits and the move to pre-open."""
        cmds: list[Command] = []
        for inst in INSTRUMENTS:
            if include_instruments:
                cmds.append(self._seq.stamp(AddInstrument(instrument_id=inst.instrument_id,
                    tick_size=TICK, lot_size=1,
                    reference_price=inst.reference_price, market_collar_ticks=100)))
            cmds.append(self._seq.stamp(SetInstrumentRisk(instrument_id=inst.instrument_id,
                max_order_qty=50_000,
                max_order_notional=50_000 * inst.reference_price * 2,
                price_collar_ticks=2_000)))
            cmds.append(self._seq.stamp(SetPhase(instrument_id=inst.instrument_id, phase=1)))
        return cmds

    def pre_open_and_auction(self) -> list[Command]:
        """Crossing interest gathered before the open, then the opening call auction."""
        return self._pre_open(self._rng) + self._open_auction()

    def _pre_open(self, rng: np.random.Generator) -> list[Command]:
        """Crossing interest gathered before the open: the auction must find one price."""
        cmds = []
        for inst in INSTRUMENTS:
            ref = inst.reference_price
            for _ in range(40):
                side = int(rng.integers(1, 3))
                offset = int(rng.integers(-8, 9)) * TICK
                cmds.append(self._seq.stamp(NewOrder(instrument_id=inst.instrument_id,
                    order_id=self._order_id(), side=side, ord_type=1, tif=1,
                    price=ref + offset, qty=int(rng.integers(1, 10)) * 100,
                    account_id=int(rng.choice(TAKER_ACCOUNTS))), gap_ns=int(rng.integers(1_000, 50_000))))
        return cmds

    def _open_auction(self) -> list[Command]:
        return [self._seq.stamp(SetPhase(instrument_id=inst.instrument_id, phase=2))
                for inst in INSTRUMENTS]

    def continuous_list(self) -> list[Command]:
        return list(self._continuous(self._rng))

    def _continuous(self, rng: np.random.Generator) -> Iterator[Command]:
        """The continuous session, interleaved across instruments."""
        fair = {inst.instrument_id: float(inst.reference_price) for inst in INSTRUMENTS}
        quotes: dict[tuple[int, int, int], tuple[int, int]] = {}  # (inst, maker, side) -> (order id, price)
        for _ in range(self.orders_per_instrument * len(INSTRUMENTS)):
            inst = INSTRUMENTS[int(rng.integers(0, len(INSTRUMENTS)))]
            iid = inst.instrument_id
            fair[iid] += float(rng.normal(0.0, 0.6)) * TICK
            mid = int(round(fair[iid] / TICK)) * TICK
            gap = int(rng.exponential(20_000))
            roll = float(rng.random())
            if roll < 0.55:
                # A maker refreshes one side of its quote: replace if live, else a new order.
                maker = int(rng.choice(MAKER_ACCOUNTS))
                side = int(rng.integers(1, 3))
                depth = int(rng.integers(1, 6)) * TICK
                price = mid - depth if side == 1 else mid + depth
                key = (iid, maker, side)
                qty = int(rng.integers(1, 8)) * 100
                if key in quotes and rng.random() < 0.7:
                    oid, _ = quotes[key]
                    quotes[key] = (oid, price)
                    yield self._seq.stamp(Replace(instrument_id=iid, order_id=oid,
                                           price=price, qty=qty), gap)
                else:
                    oid = self._order_id()
                    quotes[key] = (oid, price)
                    yield self._seq.stamp(NewOrder(instrument_id=iid, order_id=oid, side=side,
                        ord_type=1, tif=2, price=price, qty=qty, account_id=maker,
                        stp_group=maker, stp_mode=1), gap)
            elif roll < 0.70:
                # A maker pulls a quote.
                maker = int(rng.choice(MAKER_ACCOUNTS))
                side = int(rng.integers(1, 3))
                key = (iid, maker, side)
                if key in quotes:
                    oid, _ = quotes.pop(key)
                    yield self._seq.stamp(Cancel(instrument_id=iid, order_id=oid), gap)
            elif roll < 0.90:
                # A taker crosses the spread: marketable limit IOC or a plain market order.
                side = int(rng.integers(1, 3))
                qty = int(rng.integers(1, 6)) * 100
                account = int(rng.choice(TAKER_ACCOUNTS))
                if rng.random() < 0.5:
                    price = mid + 3 * TICK if side == 1 else mid - 3 * TICK
                    yield self._seq.stamp(NewOrder(instrument_id=iid, order_id=self._order_id(),
                        side=side, ord_type=1, tif=4, price=price, qty=qty,
                        account_id=account), gap)
                else:
                    yield self._seq.stamp(NewOrder(instrument_id=iid, order_id=self._order_id(),
                        side=side, ord_type=2, tif=4, qty=qty, account_id=account), gap)
            elif roll < 0.95:
                # A patient participant rests an iceberg behind the makers.
                side = int(rng.integers(1, 3))
                price = mid - 4 * TICK if side == 1 else mid + 4 * TICK
                yield self._seq.stamp(NewOrder(instrument_id=iid, order_id=self._order_id(),
                    side=side, ord_type=1, tif=1, price=price, qty=2_000,
                    display_qty=200, flags=2, account_id=int(rng.choice(TAKER_ACCOUNTS))), gap)
            else:
                # A stop-loss waiting below (sell) or above (buy) the market.
                side = int(rng.integers(1, 3))
                stop = mid - 10 * TICK if side == 2 else mid + 10 * TICK
                yield self._seq.stamp(NewOrder(instrument_id=iid, order_id=self._order_id(),
                    side=side, ord_type=3, tif=1, stop_price=stop,
                    qty=int(rng.integers(1, 4)) * 100,
                    account_id=int(rng.choice(TAKER_ACCOUNTS))), gap)

    def end_of_day(self) -> list[Command]:
        """Expire the DAY orders: GTC quotes stay for tomorrow."""
        return [self._seq.stamp(EndOfDay(all_instruments=1))]

    def session(self) -> list[Command]:
        """Set-up, pre-open, opening auction and the continuous session (not the end of day)."""
        return self.setup() + self.pre_open_and_auction() + self.continuous_list()
