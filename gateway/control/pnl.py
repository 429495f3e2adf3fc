"""Positions and P&L per (account, instrument) from the engine's fills, by average cost.

Units: prices and quantities are the engine's integers (price ticks in price units, lots in
quantity units); a P&L is in price units x quantity units.

Exactness. An average cost is generally not an integer (buy 1 @ 100 and 2 @ 101: 302/3), and
exact rationals grow without bound over a long-lived position (every partial close multiplies the
denominator), so money is kept as integers in nano-units, ``SCALE`` = 10**9 per P&L unit:
positions are ints, the open cost and the realized P&L are ints scaled by SCALE. Only one step
rounds: on a partial close, the closed lots' share of the cost, cost x closed / |pos|, is rounded
(half to even) to a nano-unit, and the same rounded share leaves the cost and enters the realized
P&L. So nothing is ever lost: realized - cost == the cash flows exactly, hence realized +
unrealized == cash flows + pos x mark to the unit, a flat position's realized P&L is exactly its
cash flows, and only the split between realized and unrealized of an open position may be off by
< 1e-9 of a unit per partial close. Values come out as ``int`` when integral, else as exact
``Fraction`` of the stored nano-units; ``rows()`` converts to wire numbers (int, else float).

Average-cost accounting, per (account, instrument), with signed position ``pos`` and signed open
cost ``cost`` (sum of signed qty x price of the open lots; > 0 long, < 0 short, 0 flat):
- a fill on the side of the position (or from flat) adds to both: pos += d, cost += d * price;
- a fill against the position first closes min(|d|, |pos|); the closed part takes its share of the
  cost, cost * closed / |pos|, and realizes (cash received - that share); a remainder beyond
  flat opens a new position at the fill price (a flip through zero);
- unrealized = pos * mark - cost, marked to the instrument's last trade price (every fill is a
  trade) or to a price given by ``mark()``, whichever came last.
Invariant (pinned by a property test): realized - cost == sum of the cash flows (-d * price).

Equity (realized + unrealized over all the account's instruments, starting at 0) is recorded on
engine time after every fill and every mark that changes it, for drawdown and VaR (risk.py).
Nothing here reads the wall clock: a replay of the same events gives the same book.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral
from typing import Any, Iterable, Mapping

from native import messages
from native.records import Event, Side

BUY = int(Side.BUY)     # the engine's eng_side_t (native/layout/venue_layout.h), the one source of truth
SELL = int(Side.SELL)

_SIDE_NAMES = {"buy": BUY, "b": BUY, "sell": SELL, "s": SELL}


def parse_side(side: Any) -> int:
    """'buy'/'sell' (any case, or 'b'/'s'), the engine's 1/2, or records.Side -> BUY or SELL."""
    if isinstance(side, str):
        code = _SIDE_NAMES.get(side.strip().lower())
        if code is None:
            raise ValueError(f"unknown side {side!r}: expected 'buy' or 'sell' (or the engine's 1 or 2)")
        return code
    if isinstance(side, bool) or not isinstance(side, Integral) or int(side) not in (BUY, SELL):
        raise ValueError(f"unknown side {side!r}: expected 'buy' or 'sell' (or the engine's 1 or 2)")
    return int(side)


def _check_int(name: str, value: Any, *, positive: bool = False) -> int:
    """Engine units are integers; a float, bool, NaN or (with positive) value <= 0 is refused."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer in engine units, got {value!r}")
    number = int(value)
    if positive and number <= 0:
        raise ValueError(f"{name} must be > 0, got {number}")
    return number


def _check_key(name: str, value: Any) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{name} must be given, got {value!r}")


SCALE = 10**9   # nano-units per P&L unit (price unit x quantity unit)

Money = int | Fraction   # a P&L value: int when integral, else the exact nano-unit Fraction


def _money(nano: int) -> Money:
    q, r = divmod(nano, SCALE)
    return q if r == 0 else Fraction(nano, SCALE)


def _div_round_half_even(num: int, den: int) -> int:
    """num / den (den > 0) rounded to the nearest integer, ties to even; exact for any sign."""
    q, r = divmod(num, den)      # floor division: 0 <= r < den
    if 2 * r > den or (2 * r == den and q % 2 == 1):
        q += 1
    return q


def wire_number(x: Money) -> int | float:
    """Exact value -> what msgspec/JSON can carry: an int when integral, else the nearest float."""
    if isinstance(x, int):
        return x
    return x.numerator if x.denominator == 1 else float(x)


def _checked_fill(account: Any, instrument: Any, side: Any, qty: Any, price: Any, ts_ns: Any) -> "Fill":
    _check_key("account", account)
    _check_key("instrument", instrument)
    code = parse_side(side)
    qty = _check_int("qty", qty, positive=True)
    price = _check_int("price", price)
    if ts_ns is not None:
        ts_ns = _check_int("ts_ns", ts_ns)
    return Fill(account, instrument, code, qty, price, ts_ns)


@dataclass(frozen=True)
class Fill:
    """One side of a trade: what ``PnlBook.on_fill`` takes."""
    account: int
    instrument: int
    side: int     # BUY or SELL
    qty: int
    price: int
    ts_ns: int | None = None


def fills_from_event(event: Event) -> list[Fill]:
    """A decoded engine event (a native.messages Event Struct) -> its fills, [] for a non-trade.

    A TRADE (venue_layout.h section 3, eng_evt_trade_t) carries both counterparties: the buyer
    (buy_account_id) bought and the seller (sell_account_id) sold ``qty`` at ``price`` on
    ``instrument_id`` at engine time ``ts_ns``; the aggressor side does not matter for positions.
    The buyer's fill comes first, so a replay applies fills in one fixed order.
    """
    if not isinstance(event, messages.TradeEvent):
        return []
    e = event
    return [Fill(e.buy_account_id, e.instrument_id, BUY, e.qty, e.price, e.ts_ns),
            Fill(e.sell_account_id, e.instrument_id, SELL, e.qty, e.price, e.ts_ns)]


class _Position:
    __slots__ = ("pos", "cost", "realized")

    def __init__(self) -> None:
        self.pos = 0          # signed lots: > 0 long, < 0 short
        self.cost = 0         # signed open cost in nano-units; cost / (pos x SCALE) is the average price
        self.realized = 0     # nano-units

    def unrealized(self, mark: int | None) -> int:
        """nano-units"""
        if self.pos == 0 or mark is None:
            return 0
        return self.pos * mark * SCALE - self.cost


class PnlBook:
    """Positions, realized/unrealized P&L and equity history; see the module docstring.

    ``max_history`` bounds each account's equity curve (oldest points dropped first).
    """

    def __init__(self, max_history: int = 100_000) -> None:
        if isinstance(max_history, bool) or not isinstance(max_history, int) or max_history < 2:
            raise ValueError(f"max_history must be an integer >= 2, got {max_history!r}")
        self._max_history = max_history
        self._positions: dict[tuple[Any, Any], _Position] = {}
        self._by_account: dict[Any, dict[Any, _Position]] = {}
        self._holders: dict[Any, set[Any]] = {}            # instrument -> accounts with pos != 0
        self._marks: dict[Any, int] = {}
        self._realized: dict[Any, int] = {}                # account -> realized, all instruments (nano)
        self._equity: dict[Any, deque[tuple[int | None, int]]] = {}   # nano-units

    # ---- input -------------------------------------------------------------------------------

    def on_fill(self, account: Any, instrument: Any, side: Any, qty: int, price: int,
                ts_ns: int | None = None) -> Money:
        """Apply one fill; returns the P&L it realized (0 when it only opens or adds).

        The fill price also becomes the instrument's mark (it is a trade price).
        """
        return self._apply(_checked_fill(account, instrument, side, qty, price, ts_ns))

    def _apply(self, f: Fill) -> Money:
        account, instrument, code, qty, price, ts_ns = f.account, f.instrument, f.side, f.qty, f.price, f.ts_ns
        p = self._positions.get((account, instrument))
        if p is None:
            p = self._positions[(account, instrument)] = _Position()
            self._by_account.setdefault(account, {})[instrument] = p
            self._realized.setdefault(account, 0)
        d = qty if code == BUY else -qty
        realized = 0
        if p.pos == 0 or (p.pos > 0) == (d > 0):
            p.pos += d
            p.cost += d * price * SCALE
        else:
            closed = min(abs(d), abs(p.pos))
            close_d = closed if d > 0 else -closed
            # the closed lots' part of the cost; exact when the position closes completely
            share = _div_round_half_even(p.cost * closed, abs(p.pos))
            realized = -close_d * price * SCALE - share
            p.cost -= share
            p.pos += close_d
            rest = d - close_d
            if rest:                                   # flipped through zero: new lots at `price`
                assert p.pos == 0 and p.cost == 0
                p.pos = rest
                p.cost = rest * price * SCALE
        p.realized += realized
        self._realized[account] += realized
        holders = self._holders.setdefault(instrument, set())
        if p.pos:
            holders.add(account)
        else:
            holders.discard(account)
        old_mark = self._marks.get(instrument)
        self._marks[instrument] = price
        touched = {account}
        if old_mark != price:
            touched |= holders
        self._record(touched, ts_ns)
        return _money(realized)

    def mark(self, instrument: Any, price: int, ts_ns: int | None = None) -> None:
        """Mark an instrument to ``price`` (e.g. a closing or auction price) until the next trade."""
        _check_key("instrument", instrument)
        price = _check_int("price", price)
        if ts_ns is not None:
            ts_ns = _check_int("ts_ns", ts_ns)
        if self._marks.get(instrument) == price:
            return
        self._marks[instrument] = price
        self._record(self._holders.get(instrument, set()), ts_ns)

    def apply_event(self, event: Event) -> int:
        """Apply a decoded engine event: a TRADE becomes two fills; returns how many were applied."""
        # both sides are checked before either is applied: a bad event changes nothing
        fills = [_checked_fill(f.account, f.instrument, f.side, f.qty, f.price, f.ts_ns)
                 for f in fills_from_event(event)]
        for f in fills:
            self._apply(f)
        return len(fills)

    def apply_events(self, events: Iterable[Event]) -> int:
        return sum(self.apply_event(e) for e in events)

    # ---- queries -----------------------------------------------------------------------------

    def accounts(self) -> list[Any]:
        return sorted(self._by_account, key=_sort_key)

    def instruments(self, account: Any) -> list[Any]:
        return sorted(self._by_account.get(account, {}), key=_sort_key)

    def position(self, account: Any, instrument: Any) -> int:
        p = self._positions.get((account, instrument))
        return p.pos if p else 0

    def avg_price(self, account: Any, instrument: Any) -> Fraction | int | None:
        """Average cost of the open position (>= 0 for positive prices), None when flat."""
        p = self._positions.get((account, instrument))
        if not p or p.pos == 0:
            return None
        avg = Fraction(p.cost, p.pos * SCALE)
        return avg.numerator if avg.denominator == 1 else avg

    def last_price(self, instrument: Any) -> int | None:
        return self._marks.get(instrument)

    def realized(self, account: Any, instrument: Any = None) -> Money:
        if instrument is None:
            return _money(self._realized.get(account, 0))
        p = self._positions.get((account, instrument))
        return _money(p.realized) if p else 0

    def unrealized(self, account: Any, instrument: Any = None) -> Money:
        return _money(self._unrealized_nano(account, instrument))

    def equity(self, account: Any) -> Money:
        """realized + unrealized over all instruments (P&L equity, starting from 0)."""
        return _money(self._equity_nano(account))

    def equity_curve(self, account: Any) -> list[tuple[int | None, Money]]:
        """(ts_ns, equity) after each change, oldest first (at most max_history points)."""
        return [(ts, _money(e)) for ts, e in self._equity.get(account, ())]

    def exposures(self, account: Any) -> dict[Any, Money]:
        """Signed notional per instrument held: position x mark (open cost when never marked)."""
        out: dict[Any, Money] = {}
        for inst, p in self._by_account.get(account, {}).items():
            if p.pos:
                m = self._marks.get(inst)
                out[inst] = p.pos * m if m is not None else _money(p.cost)
        return out

    def rows(self, account: Any = None, *, exact: bool = False) -> list[dict[str, Any]]:
        """Rows of the control API's ``positions`` command, sorted by (account, instrument).

        {account, instrument, position, avg_price, realized_pnl, unrealized_pnl}: position is an
        int; avg_price (None when flat) and the P&Ls are ints when integral else floats, or the
        exact values (int or Fraction) with ``exact=True``. A row stays after its position goes
        flat (it carries the realized P&L).
        """
        conv = (lambda x: x) if exact else wire_number
        accounts = [account] if account is not None else self.accounts()
        out = []
        for acc in accounts:
            for inst in self.instruments(acc):
                p = self._positions[(acc, inst)]
                avg = self.avg_price(acc, inst)
                out.append({
                    "account": acc,
                    "instrument": inst,
                    "position": p.pos,
                    "avg_price": None if avg is None else conv(avg),
                    "realized_pnl": conv(_money(p.realized)),
                    "unrealized_pnl": conv(_money(p.unrealized(self._marks.get(inst)))),
                })
        return out

    # ---- internals ---------------------------------------------------------------------------

    def _unrealized_nano(self, account: Any, instrument: Any = None) -> int:
        if instrument is not None:
            p = self._positions.get((account, instrument))
            return p.unrealized(self._marks.get(instrument)) if p else 0
        return sum(p.unrealized(self._marks.get(i)) for i, p in self._by_account.get(account, {}).items())

    def _equity_nano(self, account: Any) -> int:
        return self._realized.get(account, 0) + self._unrealized_nano(account)

    def _record(self, accounts: Iterable[Any], ts_ns: int | None) -> None:
        for acc in sorted(accounts, key=_sort_key):   # fixed order: replays record identically
            curve = self._equity.get(acc)
            if curve is None:
                curve = self._equity[acc] = deque(maxlen=self._max_history)
            eq = self._equity_nano(acc)
            if curve and curve[-1][1] == eq:
                continue                              # unchanged equity adds no point
            curve.append((ts_ns, eq))


def _sort_key(x: Any) -> tuple[str, Any]:
    # accounts/instruments are usually ints, but names work too; never compare int with str
    return (type(x).__name__, x)


__all__ = ["BUY", "SCALE", "SELL", "Money", "Fill", "PnlBook", "fills_from_event", "parse_side", "wire_number"]
