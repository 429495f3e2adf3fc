"""The multi-venue market maker live: one LiveRunner (trading/strategy/live.py) per venue's engine,
all driving the same MultiVenueMarketMaker (multivenue.py), polled in turn from one thread, so the
one inventory and the venues' room are decided with every venue's orders in view.

Each runner attaches to its venue's engine in-process (its own producer slot and the engine's
event log, as ``python -m trading strategy run`` does) under the venue's id (ctx.venue) and fee
schedule; the venue's latency profile enters the maker's pricing (VenueTerms.latency_us). The
orders go into the engine's ring directly, so the delay line that ``up`` puts in front of a venue's
TCP order entry (gateway/venues/delay_line.py) does not see them. With ``delays`` (venue ->
delay_line.DelayModel, e.g. ``venue_delays(specs, seed)``: the same seeded lognormal with the
venue's mean and P99 that its delay line draws from) each venue's runner is a ``DelayedRunner``:
every command the maker makes for that venue waits in the runner for one draw of the venue's
one-way latency before it is written to the venue's ring, in order (a command never leaves before
one made earlier for the same venue), as the delay line holds each chunk of a TCP session. The
answers come back undelayed, as through the delay line. The hold ends at the first poll after its
due time: late by at most one poll (``run``'s idle sleep is cut to the next due time), never
early. At stop, what is still held is sent at once, and the stop's mass cancel right behind it
(a stop does not wait out a delay).
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.venues.config import VenueSpec
from gateway.venues.delay_line import DelayModel
from trading.marketmaking.multivenue import MultiVenueMarketMaker
from trading.strategy.context import Limits, Outgoing
from trading.strategy.live import LiveRunner


def venue_delays(venues: Sequence[VenueSpec], seed: int = 0) -> dict[str, DelayModel]:
    """Per lit venue, the delay model of its profile (mean, P99), seeded (seed, venue index)."""
    return {v.id: DelayModel(v.latency.avg_us, v.latency.p99_us, seed * 1_000 + k)
            for k, v in enumerate(venues) if v.type == "lit"}


class DelayedRunner(LiveRunner):
    """A LiveRunner whose commands wait out one draw of the venue's latency before they reach its
    ring (module docstring). ``holds``: per command released when due, (its draw, the hold it
    actually had), ns; ``released_at_stop``: commands sent early because the runner stopped."""

    def __init__(self, *args: Any, delay: DelayModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delay = delay
        self.held: deque[tuple[int, int, int, Outgoing]] = deque()   # (due, made at, draw, command), in order
        self.last_due = 0
        self.holds: list[tuple[int, int]] = []
        self.released_at_stop = 0
        self.holding = True        # False from stop() on: held commands and the mass cancel go at once

    def next_due_ns(self) -> int | None:
        return self.held[0][0] if self.held else None

    def _flush(self, reacting: bool = False) -> None:
        if not self.holding:
            super()._flush()
            return
        now = time.monotonic_ns()
        out = self.ctx.outbox
        for o in out:
            drawn = int(self.delay.draw_s() * 1e9)
            self.last_due = max(now + drawn, self.last_due)
            self.held.append((self.last_due, now, drawn, o))
        out.clear()
        self._release(time.monotonic_ns())

    def _release(self, now: int, everything: bool = False) -> None:
        out = self.ctx.outbox
        while self.held and (everything or self.held[0][0] <= now):
            due, made, drawn, o = self.held.popleft()
            out.append(o)
            if due <= now:
                self.holds.append((drawn, now - made))
            else:
                self.released_at_stop += 1
        if out:
            super()._flush()

    def stop(self) -> None:
        self._release(time.monotonic_ns(), everything=True)
        self.holding = False
        super().stop()


class MultiVenueRunner:
    def __init__(self, engines: Mapping[str, str], strategy: MultiVenueMarketMaker, instrument_id: int,
                 account_id: int, tick_size: int = 1, price_scale: int = 10_000, directory: str | None = None,
                 limits: Limits | None = None, delays: Mapping[str, DelayModel] | None = None) -> None:
        """engines: venue id -> engine name (``up``'s ready file: venues.<id>.engine). delays: venue
        id -> its latency model, applied to the maker's commands (module docstring); a venue left
        out has none. ValueError naming a venue the strategy has no terms for, one of its venues
        without an engine, or a delay for a venue that is not one of them."""
        unknown = [v for v in engines if v not in strategy.terms]
        if unknown:
            raise ValueError(f"venue {unknown[0]!r} has no terms in the strategy (venues: {', '.join(strategy.terms)})")
        missing = [v for v in strategy.terms if v not in engines]
        if missing:
            raise ValueError(f"venue {missing[0]!r}: no engine given for it")
        stray = [v for v in (delays or {}) if v not in strategy.terms]
        if stray:
            raise ValueError(f"delays: venue {stray[0]!r} is not one of the strategy's ({', '.join(strategy.terms)})")
        self.strategy = strategy
        self.runners: dict[str, LiveRunner] = {}
        try:
            for venue, engine in engines.items():
                args = (engine, strategy, instrument_id, account_id, limits, strategy.terms[venue].fees, price_scale,
                        tick_size, directory)
                delay = (delays or {}).get(venue)
                self.runners[venue] = (LiveRunner(*args, venue_id=venue) if delay is None
                                       else DelayedRunner(*args, venue_id=venue, delay=delay))
        except BaseException:
            for runner in self.runners.values():
                runner.client.close()
                runner.stream.close()
            raise

    @property
    def error(self) -> str | None:
        """The first runner's error (the strategy raised on that venue), or None."""
        return next((r.error for r in self.runners.values() if r.error is not None), None)

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()

    def step(self) -> int:
        """One poll of every venue (each flushes what the strategy made for it, including what a
        fill on another venue made it requote). Returns the events read."""
        read = sum(r.step() for r in self.runners.values())
        for runner in self.runners.values():      # requotes made by the later venues' fills
            runner.flush()
        return read

    def run(self, duration_s: float, idle_sleep_s: float = 0.0005) -> None:
        """Polls every venue until duration_s passed or the strategy failed on one."""
        end = time.monotonic() + duration_s
        while self.error is None and time.monotonic() < end:
            if not self.step():
                due = [d for r in self.runners.values() if isinstance(r, DelayedRunner)
                       if (d := r.next_due_ns()) is not None]
                wait_ns = min([int(idle_sleep_s * 1e9)] + [d - time.monotonic_ns() for d in due])
                if wait_ns > 0:
                    time.sleep(wait_ns / 1e9)

    def stop(self) -> None:
        """Each venue: on_stop, its orders cancelled, its slot freed."""
        for runner in self.runners.values():
            runner.stop()
