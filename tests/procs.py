"""Waits and stops for the tests that run venue processes (engine, gateway, ``up``, publisher) as
real subprocesses. A wait polls a condition, never sleeps for an effect; while it waits it watches
the named processes and fails at once, with the process's output, when one exits."""
from __future__ import annotations

import signal
import subprocess
import time
from typing import Any, Callable, Mapping

DEADLINE_S = 30.0


def output(proc: subprocess.Popen[Any]) -> str:
    """What an exited process wrote to its piped stderr (or stdout, where stderr goes there)."""
    stream = proc.stderr if proc.stderr is not None else proc.stdout
    if stream is None:
        return ""
    data = stream.read()
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def wait_for(cond: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S,
             step: Callable[[], Any] | None = None, *,
             watch: Mapping[str, subprocess.Popen[Any]] | None = None) -> Any:
    """cond()'s first truthy value. step, when given, runs between two polls instead of the
    polling sleep (e.g. a bounded receive that lets the condition change). Fails when the
    deadline passes or, before that, when a process of `watch` (name: process) has exited."""
    end = time.monotonic() + deadline_s
    while True:
        value = cond()
        if value:
            return value
        for name, proc in (watch or {}).items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited early ({proc.returncode}) while waiting for "
                                     f"{what}: {output(proc)}")
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")
        if step is not None:
            step()
        else:
            time.sleep(0.005)   # polling interval of a condition wait, not a wait for an effect


def stop(proc: subprocess.Popen[Any] | None, deadline_s: float = DEADLINE_S) -> None:
    """SIGTERM (the processes' clean stop) and wait; SIGKILL if it outlives deadline_s. A process
    that has already exited is left as it is (its output is still there to read)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(deadline_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
