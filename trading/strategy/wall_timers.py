"""The strategy's timers on the wall clock, for the live runners (in-process and over TCP); replay
keeps its own on the simulated clock (trading/replay).

`due` holds [next_due_ns, interval_ns] per timer the context registered (Context.timers, in
registration order). Every tick fires: an on-change or on-touch-change timer's skipped ticks are
ones its strategy declared would change nothing (Context.set_timer), so live need not skip them. A timer that is late fires once, not once per missed interval, and its next
due time counts from now: a strategy that was descheduled is not woken in a burst."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence


def fire_due_timers(due: list[list[int]], registered: Sequence[tuple[int, int, bool]],
                    invoke: Callable[[str], None]) -> None:
    """Fires every timer of `due` whose time has come (on_timer through `invoke`), then adds the
    timers registered since the last call, first due one interval from now."""
    now = time.monotonic_ns()
    for timer in due:
        if timer[0] <= now:
            invoke("on_timer")
            timer[0] = now + timer[1]
    while len(due) < len(registered):
        interval = registered[len(due)][0]
        due.append([now + interval, interval])
