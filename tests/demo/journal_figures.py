"""The demo's figures recomputed from the engine's own journal, by slow direct loops over the
decoded records, without the code that printed them (no gateway.demo, trading/tca, trading/strategy
ledger or trading/execution import): the reference the demo's printed numbers are checked against.

Conventions: prices in engine units (PRICE_SCALE per USD); s = +1 buy, -1 sell; money is exact
(fractions.Fraction) where the demo prints money, so a disagreement of one cent is a disagreement.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from gateway.enginehost import journal
from native import records
from native.messages import (AcceptedEvent, AddInstrument, AuctionEvent, BookLevelEvent, Cancel, CancelledEvent,
                             Command, Event, ExpiredEvent, MassCancel, NewOrder, RejectedEvent, Replace,
                             ReplacedEvent, TradeEvent, TriggeredEvent)
from native.records import Reason, type_name

PRICE_SCALE = 10_000
GATEWAY_SESSION = 1           # the gateway's producer slot stamps session 1; the rings' commands 0
# The fee schedule the demo's market maker and its TCA declare (trading/strategy/ledger.py and
# trading/tca/reference.py defaults), USD per share: maker rebate, taker fee, auction fee.
MAKER_FEE, TAKER_FEE, AUCTION_FEE = Fraction(-20, 10_000), Fraction(30, 10_000), Fraction(10, 10_000)


@dataclass
class Journal:
    commands: list[Command]
    events: list[Event]
    owner: dict[int, int] = field(default_factory=dict)       # order id -> account

    @classmethod
    def read(cls, directory: str) -> Journal:
        _, _, cmd = journal.read_records(directory, journal.KIND_CMD)
        _, _, evt = journal.read_records(directory, journal.KIND_EVT)
        j = cls(records.decode_commands(cmd.view(records.RECORD_DTYPE).ravel()),
                records.decode_events(evt.view(records.RECORD_DTYPE).ravel()))
        for ev in j.events:
            if isinstance(ev, AcceptedEvent):
                j.owner[ev.order_id] = ev.account_id
        return j

    def account_of(self, cmd: Command) -> int | None:
        if isinstance(cmd, (NewOrder, MassCancel)):
            return cmd.account_id
        if isinstance(cmd, (Cancel, Replace)):
            return self.owner.get(cmd.order_id)
        return None

    def boot_commands(self) -> int:
        return sum(isinstance(c, AddInstrument) for c in self.commands)

    def commands_of(self, account: int) -> Counter[str]:
        return Counter(str(type_name(c)) for c in self.commands
                       if c.session != GATEWAY_SESSION and self.account_of(c) == account)

    def gateway_commands(self) -> int:
        return sum(c.session == GATEWAY_SESSION for c in self.commands)

    def events_after_boot(self) -> list[Event]:
        boot_seqs = {c.seq for c in self.commands if isinstance(c, AddInstrument)}
        return [e for e in self.events if e.seq not in boot_seqs]

    def trades(self, instrument: int | None = None) -> list[TradeEvent]:
        return [e for e in self.events if isinstance(e, TradeEvent)
                and (instrument is None or e.instrument_id == instrument)]

    def auctions(self) -> dict[int, AuctionEvent]:
        return {e.instrument_id: e for e in self.events if isinstance(e, AuctionEvent)}

    def rejects_by_reason(self) -> Counter[str]:
        return Counter(Reason(e.reason).name for e in self.events if isinstance(e, RejectedEvent))


def fills_of(trades: list[TradeEvent], account: int) -> list[tuple[int, int, int, bool]]:
    """(side, price, qty, maker) for each fill of the account, in journal order (a self-trade is
    two fills). The maker is the resting side: the side that is not the aggressor."""
    out = []
    for t in trades:
        for side, acct in ((1, t.buy_account_id), (2, t.sell_account_id)):
            if acct == account:
                out.append((side, t.price, t.qty, t.aggressor_side != side))
    return out


@dataclass
class AverageCostBook:
    """Average-cost accounting, one fill at a time, in exact fractions of USD."""
    position: int = 0
    avg: Fraction = Fraction(0)          # USD
    realised: Fraction = Fraction(0)
    fees: Fraction = Fraction(0)

    def fill(self, side: int, price: int, qty: int, maker: bool) -> None:
        px = Fraction(price, PRICE_SCALE)
        self.fees += qty * (MAKER_FEE if maker else TAKER_FEE)
        signed = qty if side == 1 else -qty
        for _ in range(qty):         # share by share: the slowest, plainest statement of the method
            unit = 1 if signed > 0 else -1
            if self.position == 0 or (self.position > 0) == (unit > 0):
                self.avg = (self.avg * abs(self.position) + px) / (abs(self.position) + 1)
                self.position += unit
            else:
                self.realised += (px - self.avg) * (1 if self.position > 0 else -1)
                self.position += unit
                if self.position == 0:
                    self.avg = Fraction(0)


def vwap(fills: list[tuple[int, int]]) -> Fraction:
    """(price, qty) pairs -> volume-weighted price in engine units."""
    return Fraction(sum(p * q for p, q in fills), sum(q for _, q in fills))


class Quotes:
    """The best bid and ask of each instrument before each command seq, from BOOK_LEVEL events."""

    def __init__(self, events: list[Event]) -> None:
        self.levels: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
        self.before: dict[tuple[int, int], tuple[int, int]] = {}    # (instrument, seq) -> (bid, ask)
        # per instrument, (ts, mid after the event) for every event in log order
        self.timeline: dict[int, list[tuple[int, Fraction | None]]] = defaultdict(list)
        for ev in events:
            key = (ev.instrument_id, ev.seq)
            if key not in self.before:
                self.before[key] = self.bbo(ev.instrument_id)
            if isinstance(ev, BookLevelEvent):
                side = self.levels[(ev.instrument_id, ev.side)]
                if ev.order_count == 0:
                    side.pop(ev.price, None)
                else:
                    side[ev.price] = ev.qty
            bid, ask = self.bbo(ev.instrument_id)
            self.timeline[ev.instrument_id].append((ev.ts_ns, Fraction(bid + ask, 2) if bid and ask else None))

    def bbo(self, instrument: int) -> tuple[int, int]:
        bids, asks = self.levels[(instrument, 1)], self.levels[(instrument, 2)]
        return (max(bids) if bids else 0, min(asks) if asks else 0)

    def mid_at(self, instrument: int, ts: int) -> Fraction | None:
        """The mid after the last event stamped <= ts (a plain scan from the end)."""
        for t, mid in reversed(self.timeline[instrument]):
            if t <= ts:
                return mid
        return None

    def mid_before(self, instrument: int, seq: int) -> Fraction | None:
        bid, ask = self.before.get((instrument, seq), (0, 0))
        return Fraction(bid + ask, 2) if bid and ask else None


def effective_spread_bps(j: Journal, quotes: Quotes, account: int | None = None,
                         instrument: int | None = None) -> float:
    """Share-weighted effective spread, SEC Rule 605: sum q 2 s (p - m_o) / sum q m_o x 1e4, m_o the
    mid before the fill's order arrived (its NEW command), over the fills of the account or the
    instrument (both sides of each trade) whose order arrived with a two-sided book."""
    arrival: dict[int, tuple[int, int]] = {}       # order id -> (instrument, seq of its NEW)
    for ev in j.events:
        if isinstance(ev, AcceptedEvent):
            arrival.setdefault(ev.order_id, (ev.instrument_id, ev.seq))
    num = den = Fraction(0)
    for t in j.trades(instrument):
        for side, acct, oid in ((1, t.buy_account_id, t.buy_order_id), (-1, t.sell_account_id, t.sell_order_id)):
            if account is not None and acct != account or oid not in arrival:
                continue
            m_o = quotes.mid_before(*arrival[oid])
            if m_o is None:
                continue
            num += t.qty * 2 * side * (t.price - m_o)
            den += t.qty * m_o
    return float(num / den * 10_000) if den else float("nan")


def markout_bps(j: Journal, quotes: Quotes, horizon_ns: int, account: int) -> float:
    """Share-weighted markout of the account's fills: sum q s (m(t + h) - p) / p x 1e4 / sum q, m(t + h)
    the mid after the last event stamped <= t + h (t: the trade's stamp), over fills where it exists
    and the journal reached t + h (its last event is stamped at or after it)."""
    num = den = Fraction(0)
    last = max(e.ts_ns for e in j.events)
    for t in j.trades():
        if t.ts_ns + horizon_ns > last:
            continue
        later = quotes.mid_at(t.instrument_id, t.ts_ns + horizon_ns)
        for side, acct in ((1, t.buy_account_id), (-1, t.sell_account_id)):
            if acct == account and later is not None:
                num += t.qty * side * (later - t.price) / t.price * 10_000
                den += t.qty
    return float(num / den) if den else float("nan")


def order_rates(j: Journal, quotes: Quotes, account: int) -> tuple[float, float, float]:
    """(limit fill rate, market fill rate, % of executed marketable orders price-improved) of the
    account's orders: shares executed / shares ordered per order type, shares ordered being the most
    the order ever asked for (filled so far + leaves, after its acceptance and after each replace); an
    order is marketable if a market order, or a limit order priced through the far touch when it
    arrived; improved if its average price beat that far touch."""
    filled: Counter[int] = Counter()
    notional: Counter[int] = Counter()
    size: dict[int, int] = {}
    for ev in j.events:                     # in journal order: a replace's size counts the fills before it
        if isinstance(ev, AcceptedEvent) and ev.account_id == account:
            size.setdefault(ev.order_id, ev.qty)
        elif isinstance(ev, ReplacedEvent) and ev.order_id in size:
            size[ev.order_id] = max(size[ev.order_id], filled[ev.order_id] + ev.leaves_qty)
        elif isinstance(ev, TradeEvent):
            for acct, oid in ((ev.buy_account_id, ev.buy_order_id), (ev.sell_account_id, ev.sell_order_id)):
                if acct == account:
                    filled[oid] += ev.qty
                    notional[oid] += ev.qty * ev.price
    ordered = {1: [0, 0], 2: [0, 0]}         # ord_type -> [qty, filled]
    improved = executed = 0
    seen: set[int] = set()
    for ev in j.events:
        if not isinstance(ev, AcceptedEvent) or ev.account_id != account or ev.order_id in seen:
            continue
        seen.add(ev.order_id)
        if ev.ord_type in ordered:
            ordered[ev.ord_type][0] += size[ev.order_id]
            ordered[ev.ord_type][1] += filled[ev.order_id]
        bid, ask = quotes.before.get((ev.instrument_id, ev.seq), (0, 0))
        far = ask if ev.side == 1 else bid
        crossing = far > 0 and (ev.price >= far if ev.side == 1 else ev.price <= far)
        if filled[ev.order_id] and (ev.ord_type == 2 or (ev.ord_type == 1 and crossing)):
            executed += 1
            avg = Fraction(notional[ev.order_id], filled[ev.order_id])
            improved += far > 0 and (avg < far if ev.side == 1 else avg > far)

    def rate(kind: int) -> float:
        return ordered[kind][1] / ordered[kind][0] if ordered[kind][0] else float("nan")
    return rate(1), rate(2), 100 * improved / executed if executed else float("nan")


def parent_shortfall_bps(j: Journal, account: int, decision_price: Fraction, qty: int) -> tuple[float, float]:
    """Perold's implementation shortfall of the account's fills as one parent of qty shares decided
    at decision_price (engine units), fees included, and its fee part, both in bps of qty x price:
    s (sum q p - X_e P_d) + F, the parent filled in full (no opportunity cost)."""
    cost = fees = Fraction(0)
    executed = 0
    for t in j.trades():
        for side, acct in ((1, t.buy_account_id), (-1, t.sell_account_id)):
            if acct != account:
                continue
            executed += t.qty
            cost += side * t.qty * (t.price - decision_price) / PRICE_SCALE
            taker = t.aggressor_side == (1 if side == 1 else 2)
            fees += t.qty * (TAKER_FEE if taker else MAKER_FEE) if t.aggressor_side else t.qty * AUCTION_FEE
    assert executed == qty, "only a parent filled in full has no opportunity cost"
    paper = qty * decision_price / PRICE_SCALE
    return float((cost + fees) / paper * 10_000), float(fees / paper * 10_000)


def displayed_book(j: Journal) -> dict[tuple[int, int], dict[int, tuple[int, int]]]:
    """(instrument, side) -> {price: (displayed qty, orders)} at the end, rebuilt order by order from
    ACCEPTED, TRADE, CANCELLED, EXPIRED, REPLACED and TRIGGERED events (no BOOK_LEVEL event read).
    A resting order shows its whole leaves, an iceberg its tip: min(leaves, display) when it comes to
    rest, less what passive trades took from it, refilled to min(leaves, display) when used up."""
    live: dict[int, AcceptedEvent] = {}
    price: dict[int, int] = {}
    leaves: dict[int, int] = {}
    display: dict[int, int] = {}
    tip: dict[int, int] = {}

    def rest(oid: int) -> None:
        tip[oid] = min(leaves[oid], display[oid]) if display[oid] else leaves[oid]

    resting = set()
    for ev in j.events:
        if isinstance(ev, AcceptedEvent):
            live[ev.order_id], price[ev.order_id] = ev, ev.price
            leaves[ev.order_id], display[ev.order_id] = ev.qty, ev.display_qty
            rest(ev.order_id)
            if ev.ord_type == 1 and ev.tif not in (4, 5):     # a limit order that may rest (not IOC/FOK)
                resting.add(ev.order_id)
        elif isinstance(ev, TradeEvent):
            for oid, left, side in ((ev.buy_order_id, ev.buy_leaves_qty, 1), (ev.sell_order_id, ev.sell_leaves_qty, 2)):
                if oid not in live:
                    continue
                leaves[oid] = left
                if ev.aggressor_side == side or not display[oid]:
                    rest(oid)
                else:
                    tip[oid] -= ev.qty
                    if tip[oid] <= 0:
                        rest(oid)
        elif isinstance(ev, (CancelledEvent, ExpiredEvent)):
            leaves[ev.order_id] = 0
        elif isinstance(ev, ReplacedEvent):
            price[ev.order_id], leaves[ev.order_id], display[ev.order_id] = ev.price, ev.leaves_qty, ev.display_qty
            rest(ev.order_id)
        elif isinstance(ev, TriggeredEvent) and live[ev.order_id].ord_type == 4:
            resting.add(ev.order_id)            # a stop-limit rests at its limit once triggered
    book: dict[tuple[int, int], dict[int, tuple[int, int]]] = defaultdict(dict)
    for oid in resting:
        if leaves[oid] > 0:
            acc = live[oid]
            qty, count = book[(acc.instrument_id, acc.side)].get(price[oid], (0, 0))
            book[(acc.instrument_id, acc.side)][price[oid]] = (qty + tip[oid], count + 1)
    return book
