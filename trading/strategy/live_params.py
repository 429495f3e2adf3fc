"""Changing a running strategy's parameters (the ops shell's ``strategy set ID k=v,...``), and
pausing it (``strategy pause ID`` / ``strategy resume ID``).

Who may change what: a strategy lists in ``live_params`` the parameters it reads afresh at each
decision; only those change while it runs. Any other parameter (one read once in on_start, or one
a strategy derives state from) is refused with the list of those that can change, so a change
never silently fails to take effect. Values are converted and checked by the strategy class itself
(``Strategy(**params)``), as at start.

The path: the control plane's manager (manager.py) checks the change, then writes one line
``params k=v,k=v`` to the strategy process's stdin; the process (cli.py ``--params-from-stdin``)
reads its stdin in a thread and queues each change (a deque: append and popleft are atomic); the
runner applies the queue between two polls, in its own thread (``apply_queued``): the strategy's
params and ctx.params updated, then ``on_params(ctx, changed)``; and prints ``PARAMS_APPLIED``
with the new values, which the control plane's ``strategy list`` shows as the last output line.

Pause (a line ``pause``): the runner cancels the strategy's orders and stops calling its market
data and timer callbacks (PAUSED_CALLBACKS) until ``resume``; its own acks, fills and cancels
still reach it (its state stays true), and an order it makes in reaction to them is sent. The
context's books keep following the market, so it resumes on the current book. The runner prints
``strategy: paused`` / ``strategy: resumed``.
"""
from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import IO, Any

from trading.strategy.api import ParamError, Strategy

LINE_PREFIX = "params "
PARAMS_APPLIED = "strategy: params applied:"
PAUSE, RESUME = "pause", "resume"
# not called while paused: what would make a strategy quote
PAUSED_CALLBACKS = frozenset({"on_book", "on_trade", "on_other_book", "on_timer"})
Control = dict[str, str] | str      # a parameter change, or PAUSE / RESUME


def checked_change(cls: type[Strategy], current: dict[str, Any], change: dict[str, str]) -> dict[str, Any]:
    """The converted values of `change` for a strategy of class cls running with `current`
    parameters. ParamError naming the parameter: unknown, a bad value, or not changeable live."""
    if not change:
        raise ParamError("no parameters given: expected k=v[,k=v...]")
    fixed = sorted(k for k in change if k in cls.defaults and k not in cls.live_params)
    if fixed:
        live = ", ".join(sorted(cls.live_params)) or "none"
        raise ParamError(f"{cls.__name__}: {', '.join(fixed)} cannot change while it runs (stop and start it "
                         f"again); changeable live: {live}")
    candidate = cls(**{**current, **change})           # unknown names and bad values refused here
    candidate.check_live_change()                       # values the class itself could not apply
    merged = candidate.params
    return {k: merged[k] for k in change}


def encode_line(change: dict[str, str]) -> str:
    """The stdin line the manager writes: 'params k=v,k=v\\n' (keys and values without , = or newlines)."""
    for k, v in change.items():
        if any(c in f"{k}{v}" for c in ",=\n\r"):
            raise ParamError(f"parameter {k!r}: names and values cannot hold ',', '=' or a newline")
    return LINE_PREFIX + ",".join(f"{k}={v}" for k, v in change.items()) + "\n"


def decode_line(line: str) -> Control:
    """What a stdin line asks: a parameter change, PAUSE or RESUME; ParamError for any other line."""
    text = line.strip()
    if text in (PAUSE, RESUME):
        return text
    if not text.startswith(LINE_PREFIX):
        raise ParamError(f"expected 'params k=v[,k=v...]', 'pause' or 'resume', got {text[:80]!r}")
    out: dict[str, str] = {}
    for part in filter(None, text[len(LINE_PREFIX):].split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"expected k=v, got {part!r}")
        out[key.strip()] = value.strip()
    return out


class ParamInbox:
    """Changes read from a stream (the process's stdin) by a daemon thread, queued for the runner."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.queue: deque[Control] = deque()
        self._stream = stream if stream is not None else sys.stdin
        self._thread = threading.Thread(target=self._read, name="strategy-params", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            if not line.strip():
                continue
            try:
                self.queue.append(decode_line(line))
            except ParamError as exc:
                print(f"strategy: params refused: {exc}", flush=True)


def apply_queued(queue: deque[Control], strategy: Strategy, params: dict[str, Any],
                 invoke: Callable[..., None], set_paused: Callable[[bool], None]) -> None:
    """Applies every queued control in the runner's thread. A change: strategy.params and the
    context's `params` updated, then on_params(ctx, changed) through the runner's `invoke` (a
    strategy that raises there is stopped as from any callback); one refused here (the manager
    checks first, so only a change typed by hand into the process) is reported and skipped.
    PAUSE / RESUME: set_paused(True / False), reported."""
    while queue:
        change = queue.popleft()
        if isinstance(change, str):
            set_paused(change == PAUSE)
            print(f"strategy: {change}d", flush=True)
            continue
        try:
            changed = checked_change(type(strategy), strategy.params, change)
        except ParamError as exc:
            print(f"strategy: params refused: {exc}", flush=True)
            continue
        strategy.params.update(changed)
        params.update(changed)
        invoke("on_params", changed)
        print(f"{PARAMS_APPLIED} {', '.join(f'{k}={v!r}' for k, v in changed.items())}", flush=True)
