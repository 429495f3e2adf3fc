"""Circuit breakers on ENGINE time: a per-instrument price band and market-wide levels.

Both are pure state machines fed with what the engine printed (instrument, price, ts_ns) and
return actions for the service to perform: ``Halt(instrument, reason, until_ts_ns)`` (set the
phase to halted; ``until_ts_ns`` None = for the rest of the day) and ``Reopen(instrument)`` (the
service goes pre-open, then uncrosses in an auction into continuous). Time is the engine's: an
event's ts_ns, taken as ``now = max(now, ts_ns)`` exactly as the engine does (native/ENGINE.md),
so events out of ts order never move time back, and a replay of the same events yields the same
actions. Nothing reads the wall clock. A reopening falls due at the first event (or ``on_time``
call) with ts_ns >= until, so the service should feed every event, or a periodic engine TIME
command, to ``on_time``/``feed_event``.

Real rules followed, and where this simplifies:

PriceBandBreaker - after the US Limit Up-Limit Down plan (LULD: the NMS plan to address
extraordinary market volatility, SEC-approved 2012, in force 2013, permanent since 2019):
  * real: a band of 5 % (tier 1) or 10 % (tier 2) for stocks above $3 (20 % and wider below),
    doubled in the first 15 and the last 25 minutes of the day, around a reference price that is
    the mean trade price of the last five minutes; trades outside the band are prevented; when
    the best bid or offer sits on a band edge the stock is in a "limit state", and if that lasts
    15 seconds a five-minute trading pause follows, ended by the listing exchange's auction.
  * here: one band in percent, for all instruments or per instrument; the reference is the
    configured one (the previous close or the instrument's reference price), replaced by the
    price of each auction that uncrosses (the opening one, and the reopening one after a halt;
    without an auction price, the first print after the reopen); no rolling five-minute mean,
    no limit state, no band doubling, no price tiers. The check is post-trade: the engine has
    already printed the trade beyond the band (it has its own pre-trade price collar); the
    breaker halts the instrument for ``halt_ns`` (5 minutes by default, the LULD pause), then
    asks for the reopening auction. A trade exactly on the band edge is inside; beyond it halts.

MarketWideBreaker - after the US market-wide circuit breakers (exchange rules such as NYSE Rule
7.12, SEC-approved, in force since 2013): declines of the S&P 500 from the previous close of 7 %
(Level 1), 13 % (Level 2), 20 % (Level 3).
  * real: Level 1 and 2 halt all trading for 15 minutes, each at most once a day, and only
    before 15:25 ET (after it they do not halt); Level 3 halts for the rest of the day at any time.
  * here: the index is a weighted mean of the instruments' price relatives to their previous
    close, sum w_i x p_i / close_i / sum w_i, with configured weights (not index-provider
    arithmetic), moved by every trade and auction price; levels and durations are configurable
    (7 / 13 / 20 %; 15 min, 15 min, rest of day by default; any number of increasing levels, a
    duration of None = rest of the day); the 15:25 cut-off is an optional engine timestamp
    ``level12_cutoff_ts_ns`` applying to the timed levels; a rest-of-day halt lasts until
    ``day_end_ts_ns`` if configured, else it is open-ended (until_ts_ns None); a jump straight
    past several levels triggers the highest one and uses up the lower ones for the day. A
    decline "of 7 %" triggers at >= 7 %. ``new_day`` re-arms everything for the next session.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real
from typing import Any, Iterable, Mapping

from gateway.control.exact import exact_fraction
from native import messages
from native.records import Event

NS_PER_S = 1_000_000_000
LULD_PAUSE_NS = 5 * 60 * NS_PER_S
MWCB_HALT_NS = 15 * 60 * NS_PER_S


@dataclass(frozen=True)
class Halt:
    instrument: Any
    reason: str
    until_ts_ns: int | None   # engine time at which a Reopen falls due; None = rest of the day


@dataclass(frozen=True)
class Reopen:
    instrument: Any           # the service: pre-open, then the auction uncrosses into continuous


Action = Halt | Reopen


def _int(name: str, v: Any, *, positive: bool = False) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise ValueError(f"{name} must be an integer, got {v!r}")
    number = int(v)
    if positive and number <= 0:
        raise ValueError(f"{name} must be > 0, got {number}")
    return number


def _pct(name: str, v: Any) -> Fraction:
    if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite percentage > 0, got {v!r}")
    return exact_fraction(v).limit_denominator(10**9)   # 7 -> 7, 7.5 -> 15/2: exact comparisons


def _fmt_pct(x: Fraction) -> str:
    return f"{float(x):.2f}%"


class _EngineClock:
    """now = max(now, ts_ns), as the engine keeps its time."""

    def __init__(self) -> None:
        self.now: int | None = None

    def advance(self, ts_ns: Any) -> int:
        ts = _int("ts_ns", ts_ns)
        if self.now is None or ts > self.now:
            self.now = ts
        return self.now


class PriceBandBreaker:
    """Halts an instrument whose trade prints beyond +/- band % of its reference price.

    ``references``: instrument -> reference price (engine units, > 0); instruments without one are
    not watched until ``set_reference``. ``bands_pct``: per-instrument overrides of ``band_pct``.
    """

    def __init__(self, band_pct: float = 10, halt_ns: int = LULD_PAUSE_NS,
                 references: Mapping[Any, int] | None = None,
                 bands_pct: Mapping[Any, float] | None = None) -> None:
        self._band = _pct("band_pct", band_pct)
        self._halt_ns = _int("halt_ns", halt_ns, positive=True)
        self._bands = {i: _pct(f"bands_pct[{i!r}]", b) for i, b in (bands_pct or {}).items()}
        self._ref: dict[Any, int] = {}
        for inst, p in (references or {}).items():
            self.set_reference(inst, p)
        self._halted: dict[Any, int] = {}       # instrument -> until_ts_ns
        self._reopening: set[Any] = set()       # Reopen sent, auction price not seen yet
        self._clock = _EngineClock()

    def set_reference(self, instrument: Any, price: int) -> None:
        self._ref[instrument] = _int(f"reference price of {instrument!r}", price, positive=True)

    def reference(self, instrument: Any) -> int | None:
        return self._ref.get(instrument)

    def band_pct(self, instrument: Any) -> Fraction:
        return self._bands.get(instrument, self._band)

    def is_halted(self, instrument: Any) -> bool:
        return instrument in self._halted

    @property
    def now(self) -> int | None:
        return self._clock.now

    def on_time(self, ts_ns: int) -> list[Action]:
        """Advance engine time; Reopen every halt whose until has come, in instrument order."""
        now = self._clock.advance(ts_ns)
        due = sorted((i for i, until in self._halted.items() if until <= now), key=_sort_key)
        for inst in due:
            del self._halted[inst]
            self._reopening.add(inst)
        return [Reopen(i) for i in due]

    def on_trade(self, instrument: Any, price: int, ts_ns: int) -> list[Action]:
        """A trade printed; returns due Reopens, then a Halt if this trade is beyond the band."""
        price = _int("price", price, positive=True)
        actions = self.on_time(ts_ns)
        if instrument in self._reopening:
            # the first print after a reopen is the auction's (feed on_auction where there is one)
            return actions + self.on_auction(instrument, price, ts_ns)
        ref = self._ref.get(instrument)
        if ref is None or instrument in self._halted:
            return actions
        band = self.band_pct(instrument)
        if abs(price - ref) * 100 > band * ref:
            until = self._clock.advance(ts_ns) + self._halt_ns   # == now: on_time advanced it
            self._halted[instrument] = until
            move = Fraction(price - ref) * 100 / ref
            actions.append(Halt(instrument, f"price band: trade at {price} is {_fmt_pct(move)} from reference "
                                            f"{ref}, beyond +/-{_fmt_pct(band)}", until))
        return actions

    def on_auction(self, instrument: Any, price: int, ts_ns: int) -> list[Action]:
        """A (reopening) auction uncrossed at ``price``: it becomes the new reference."""
        price = _int("price", price, positive=True)
        actions = self.on_time(ts_ns)
        if instrument not in self._halted:
            self._reopening.discard(instrument)
            self._ref[instrument] = price
        return actions

    def feed_event(self, event: Event) -> list[Action]:
        """A decoded engine event (a native.messages Event Struct): TRADE and crossed AUCTION
        update prices, every event advances time."""
        if isinstance(event, messages.TradeEvent) and event.aggressor_side == 0:
            return self.on_time(event.ts_ns)   # an auction's prints: its AUCTION event sets the price
        if isinstance(event, messages.TradeEvent):
            return self.on_trade(event.instrument_id, event.price, event.ts_ns)
        if isinstance(event, messages.AuctionEvent) and event.crossed:
            return self.on_auction(event.instrument_id, event.price, event.ts_ns)
        return self.on_time(event.ts_ns)


class MarketWideBreaker:
    """Market-wide halts when a weighted index falls 7 / 13 / 20 % below the previous close.

    ``weights``: instrument -> weight (> 0) in the index; ``previous_close``: instrument -> close
    (> 0) for every weighted instrument; ``instruments``: everything a halt applies to (default:
    the weighted ones). See the module docstring for the rules and simplifications.
    """

    def __init__(self, weights: Mapping[Any, float], previous_close: Mapping[Any, int], *,
                 levels_pct: Iterable[float] = (7, 13, 20),
                 halts_ns: Iterable[int | None] = (MWCB_HALT_NS, MWCB_HALT_NS, None),
                 instruments: Iterable[Any] | None = None, level12_cutoff_ts_ns: int | None = None,
                 day_end_ts_ns: int | None = None) -> None:
        if not weights:
            raise ValueError("weights must name at least one instrument")
        self._weights: dict[Any, Fraction] = {}
        for inst, w in weights.items():
            if isinstance(w, bool) or not isinstance(w, Real) or not math.isfinite(w) or w <= 0:
                raise ValueError(f"weight of instrument {inst!r} must be a finite number > 0, got {w!r}")
            self._weights[inst] = Fraction(w).limit_denominator(10**9)
        self._wsum = sum(self._weights.values(), Fraction(0))
        levels_pct, halts_ns = list(levels_pct), list(halts_ns)
        lv = [_pct(f"levels_pct[{n}]", x) for n, x in enumerate(levels_pct)]
        if not lv or any(a >= b for a, b in zip(lv, lv[1:])) or lv[-1] >= 100:
            raise ValueError(f"levels_pct must be increasing percentages below 100, got {levels_pct!r}")
        if len(halts_ns) != len(lv):
            raise ValueError(f"halts_ns needs one duration per level ({len(lv)}), got {halts_ns!r}")
        self._levels = lv
        # None: the rest of the day
        self._halts = [None if h is None else _int(f"halts_ns[{n}]", h, positive=True) for n, h in enumerate(halts_ns)]
        self._cutoff = None if level12_cutoff_ts_ns is None else _int("level12_cutoff_ts_ns", level12_cutoff_ts_ns)
        self._day_end = None if day_end_ts_ns is None else _int("day_end_ts_ns", day_end_ts_ns)
        insts = list(weights) if instruments is None else list(instruments)
        missing = [i for i in weights if i not in insts]
        if missing:
            raise ValueError(f"weighted instruments missing from instruments: {missing!r}")
        self._instruments = sorted(set(insts), key=_sort_key)
        self._clock = _EngineClock()
        self.new_day(previous_close)

    def new_day(self, previous_close: Mapping[Any, int], *, level12_cutoff_ts_ns: int | None = None,
                day_end_ts_ns: int | None = None) -> None:
        """Start a session: new closes, every level armed again, no halt running."""
        closes = {}
        for inst in self._weights:
            if inst not in previous_close:
                raise ValueError(f"previous_close lacks weighted instrument {inst!r}")
            closes[inst] = _int(f"previous close of {inst!r}", previous_close[inst], positive=True)
        self._close = closes
        self._last = dict(closes)
        self._used = [False] * len(self._levels)  # level n + 1 triggered today
        self._halt_until: int | None = None      # market-wide halt running until (None: none)
        self._closed_for_day = False
        if level12_cutoff_ts_ns is not None:
            self._cutoff = _int("level12_cutoff_ts_ns", level12_cutoff_ts_ns)
        if day_end_ts_ns is not None:
            self._day_end = _int("day_end_ts_ns", day_end_ts_ns)

    @property
    def now(self) -> int | None:
        return self._clock.now

    def index_ratio(self) -> Fraction:
        """sum w_i x last_i / close_i / sum w_i: 1 at the previous close."""
        return sum((w * Fraction(self._last[i], self._close[i]) for i, w in self._weights.items()),
                   Fraction(0)) / self._wsum

    def decline_pct(self) -> Fraction:
        """How far the index is below the previous close, in percent (negative when above)."""
        return (1 - self.index_ratio()) * 100

    def levels_triggered(self) -> list[int]:
        return [n + 1 for n, used in enumerate(self._used) if used]

    def halted(self) -> bool:
        return self._halt_until is not None or self._closed_for_day

    def on_time(self, ts_ns: int) -> list[Action]:
        now = self._clock.advance(ts_ns)
        if self._halt_until is not None and not self._closed_for_day and now >= self._halt_until:
            self._halt_until = None
            return [Reopen(i) for i in self._instruments]
        return []

    def on_trade(self, instrument: Any, price: int, ts_ns: int) -> list[Action]:
        """A trade (or reopening auction) printed at ``price``; returns Reopens and/or Halts."""
        price = _int("price", price, positive=True)
        actions = self.on_time(ts_ns)
        if instrument in self._weights:
            self._last[instrument] = price
        if self._closed_for_day or self._halt_until is not None:
            return actions
        decline = self.decline_pct()
        crossed = [n for n in range(len(self._levels)) if decline >= self._levels[n]]
        if not crossed:
            return actions
        level = crossed[-1]
        if self._used[level]:
            return actions                       # this level (and the ones below) already used
        for n in crossed:
            self._used[n] = True
        now = self._clock.advance(ts_ns)       # == now: on_time advanced it
        halt_ns = self._halts[level]
        if halt_ns is None:
            self._closed_for_day = True
            until = self._day_end
            what = "halted for the rest of the day"
        elif self._cutoff is not None and now >= self._cutoff:
            return actions                       # after the 15:25 cut-off timed levels do not halt
        else:
            until = now + halt_ns
            self._halt_until = until
            what = f"halted for {halt_ns / NS_PER_S:g} s"
        reason = (f"market-wide level {level + 1}: index {_fmt_pct(decline)} below previous close "
                  f"(>= {_fmt_pct(self._levels[level])}), {what}")
        return actions + [Halt(i, reason, until) for i in self._instruments]

    def feed_event(self, event: Event) -> list[Action]:
        """A decoded engine event: TRADE and crossed AUCTION move the index, others advance time."""
        if isinstance(event, messages.TradeEvent) or (isinstance(event, messages.AuctionEvent) and event.crossed):
            return self.on_trade(event.instrument_id, event.price, event.ts_ns)
        return self.on_time(event.ts_ns)


def _sort_key(x: Any) -> tuple[str, Any]:
    return (type(x).__name__, x)


__all__ = ["Action", "Halt", "LULD_PAUSE_NS", "MWCB_HALT_NS", "MarketWideBreaker", "NS_PER_S",
           "PriceBandBreaker", "Reopen"]
