"""The multi-venue market maker live: one LiveRunner (trading/strategy/live.py) per venue's engine,
all driving the same MultiVenueMarketMaker (multivenue.py), polled in turn from one thread, so the
one inventory and the venues' room are decided with every venue's orders in view.

Each runner attaches to its venue's engine in-process (its own producer slot and the engine's
event log, as ``python -m trading strategy run`` does) under the venue's id (ctx.venue) and fee
schedule; the venue's latency profile enters the maker's pricing (VenueTerms.latency_us). The
orders go into the engine's ring directly, so the delay line that ``up`` puts in front of a venue's
TCP order entry does not delay them: here the latency is priced, not suffered.
"""
from __future__ import annotations

import time
from typing import Mapping

from trading.marketmaking.multivenue import MultiVenueMarketMaker
from trading.strategy.context import Limits
from trading.strategy.live import LiveRunner


class MultiVenueRunner:
    def __init__(self, engines: Mapping[str, str], strategy: MultiVenueMarketMaker, instrument_id: int,
                 account_id: int, tick_size: int = 1, price_scale: int = 10_000, directory: str | None = None,
                 limits: Limits | None = None) -> None:
        """engines: venue id -> engine name (``up``'s ready file: venues.<id>.engine). ValueError
        naming a venue the strategy has no terms for, or one of its venues without an engine."""
        unknown = [v for v in engines if v not in strategy.terms]
        if unknown:
            raise ValueError(f"venue {unknown[0]!r} has no terms in the strategy (venues: {', '.join(strategy.terms)})")
        missing = [v for v in strategy.terms if v not in engines]
        if missing:
            raise ValueError(f"venue {missing[0]!r}: no engine given for it")
        self.strategy = strategy
        self.runners: dict[str, LiveRunner] = {}
        try:
            for venue, engine in engines.items():
                self.runners[venue] = LiveRunner(engine, strategy, instrument_id, account_id, limits,
                                                 strategy.terms[venue].fees, price_scale, tick_size, directory,
                                                 venue_id=venue)
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
                time.sleep(idle_sleep_s)

    def stop(self) -> None:
        """Each venue: on_stop, its orders cancelled, its slot freed."""
        for runner in self.runners.values():
            runner.stop()
