"""A dark pool in the multi-venue replay: the C engine in its midpoint mode (native/ENGINE.md, "Dark
midpoint instruments"), on the replay's simulated clock.

Its counterparties come from the day, by a stated rule: every hidden execution of the LOBSTER day
(type 5: hidden liquidity that traded, on the side of the hidden order) becomes, at its time, a
resting MIDPOINT_PEG order of `fraction` of its size (the pool's share of the dark venues' market
share), cancelled `window_ns` later if still there. They all share one STP group, so they never
trade with each other, only with the router's children. Before a child is matched, the pool gets
the lit venues' NBBO at that instant as the sequenced NBBO command; the child is a MIDPOINT_PEG IOC
with the child's minimum quantity as its MAQ. The engine then decides: a fill at the exact
midpoint (half a tick when the spread is one tick), the MAQ honoured, nothing on a locked, crossed,
one-sided or stale quote (the IOC's cancel reason says which).
"""
from __future__ import annotations

import msgspec
import numpy as np

from native.dark import dark_instrument, midpoint_peg, nbbo
from native.engine import Engine
from native.messages import Cancel, CancelledEvent, Command, Event, Reason, RejectedEvent, SetPhase, TradeEvent
from native.records import Phase, Tif
from trading.replay.data import Kind, MarketDay
from trading.routing.execution import ChildEvent
from trading.routing.market import SIDES, Nbbo
from trading.routing.plan import ChildOrder

INSTRUMENT = 1
HIDDEN_ACCOUNT = 0
HIDDEN_STP_GROUP = 1
OWN_ACCOUNT = 2


class ReplayDarkPool:
    def __init__(self, day: MarketDay, fraction: float, window_ns: int, nbbo_max_age_ns: int = 1_000_000_000) -> None:
        hidden = np.flatnonzero(day.kind == Kind.HIDDEN)
        qty = np.floor(day.qty[hidden] * fraction).astype(np.int64)
        keep = qty > 0
        idx, qty = hidden[keep], qty[keep]
        ts = day.ts_ns[idx]
        # (time, order: adds before cancels at one time, id) -> the pool's own command stream
        adds = [(int(t), 0, k + 1, int(day.side[i]), int(q)) for k, (t, i, q) in enumerate(zip(ts, idx, qty))]
        cancels = [(int(t) + window_ns, 1, k + 1, 0, 0) for k, t in enumerate(ts)]
        self.stream = sorted(adds + cancels)
        # the day's hidden prints this pool stands for: (time, cumulative shares), for traded volume
        self.hidden_ts = np.asarray(ts, dtype=np.int64)
        self.hidden_cum = np.cumsum(qty)
        self.own_filled = 0
        self.pos = 0
        self.seq = 0
        self.eng = Engine(max_orders=max(1 << 12, len(adds) + 64), max_levels=64, max_instruments=1, max_accounts=8)
        ref = int(day.price[day.kind == Kind.EXECUTE][0]) if (day.kind == Kind.EXECUTE).any() else 100 * day.tick_size
        ref -= ref % day.tick_size
        t0 = int(day.ts_ns[0])
        self._submit([dark_instrument(INSTRUMENT, tick_size=day.tick_size, lot_size=day.lot_size, reference_price=ref,
                                      nbbo_max_age_ns=nbbo_max_age_ns)], t0)
        self._submit([SetPhase(instrument_id=INSTRUMENT, phase=int(Phase.PRE_OPEN)),
                      SetPhase(instrument_id=INSTRUMENT, phase=int(Phase.CONTINUOUS))], t0)
        self.refused = 0

    def _submit(self, cmds: list[Command], t: int) -> list[Event]:
        stamped = []
        for c in cmds:
            self.seq += 1
            stamped.append(msgspec.structs.replace(c, seq=self.seq, ts_ns=t))
        return list(self.eng.submit(stamped))

    def advance(self, t: int) -> None:
        """The pool's hidden counterparties up to time t."""
        while self.pos < len(self.stream) and self.stream[self.pos][0] <= t:
            ts, kind, oid, side, qty = self.stream[self.pos]
            self.pos += 1
            cmd: Command = (midpoint_peg(INSTRUMENT, oid, side=side, qty=qty, account_id=HIDDEN_ACCOUNT, tif=Tif.GTC,
                                         stp_group=HIDDEN_STP_GROUP) if kind == 0 else Cancel(instrument_id=INSTRUMENT,
                                                                                               order_id=oid))
            for e in self._submit([cmd], ts):
                self.refused += isinstance(e, RejectedEvent)   # a cancel of one the router already took

    def printed(self, t: int) -> int:
        """Shares this pool printed up to time t: its share of the day's hidden executions by then
        (the real day's prints) plus the router's fills here."""
        k = int(np.searchsorted(self.hidden_ts, t, side="right"))
        return (int(self.hidden_cum[k - 1]) if k else 0) + self.own_filled

    def execute(self, child: ChildOrder, t: int, quote: Nbbo, order_id: int) -> list[ChildEvent]:
        self.advance(t)
        self._submit([nbbo(INSTRUMENT, bid_price=quote.bid or 0, ask_price=quote.ask or 0, bid_qty=quote.bid_qty,
                           ask_qty=quote.ask_qty, quote_ts_ns=t)], t)
        order = midpoint_peg(INSTRUMENT, order_id, side=SIDES[child.side], qty=child.qty, account_id=OWN_ACCOUNT,
                             min_qty=child.min_qty, tif=Tif.IOC)
        out: list[ChildEvent] = []
        for e in self._submit([order], t):
            if isinstance(e, TradeEvent) and order_id in (e.buy_order_id, e.sell_order_id):
                self.own_filled += e.qty
                out.append(ChildEvent(child_id=child.child_id, ts_ns=t, kind="fill", price=e.price, qty=e.qty))
            elif isinstance(e, RejectedEvent) and e.order_id == order_id:
                return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected",
                                   reason=f"{Reason(e.reason).name} ({e.reason})")]
            elif isinstance(e, CancelledEvent) and e.order_id == order_id:
                out.append(ChildEvent(child_id=child.child_id, ts_ns=t, kind="done", reason=Reason(e.reason).name))
                return out
        return out + [ChildEvent(child_id=child.child_id, ts_ns=t, kind="done")]


