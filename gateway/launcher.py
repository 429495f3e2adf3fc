"""Starting a venue's processes and waiting on them: the one launcher of the demo, the benchmarks
and the tests (the product launcher, reading a configuration file, is `python -m gateway up`).

A Venue owns the processes of one engine name, each ``python -m gateway VERB ...`` (engine,
gateway, md publish, control, up, dropcopy) under a role name. Start-up waits poll a condition
with a deadline (the engine taking producers, a port file, a ready file), never sleep for an
effect, and fail at once, with the process's own output, when a watched process exits. close()
stops every process, the last started first (SIGTERM, the processes' clean stop, then SIGKILL
after a deadline), collects what they wrote and removes the engine's shared-memory leftovers.

Failures raise LaunchError naming what was awaited; callers turn it into their own form (a test
fails with it, a bench exits with its message).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Callable, Mapping

from shm.engine_segments import control_path, engine_serving, remove_leftovers
from shm.errors import ShmError
from shm.segment import KIND_CONTROL, Segment

DEADLINE_S = 30.0
POLL_S = 0.005          # polling interval of a condition wait, not a wait for an effect


class LaunchError(RuntimeError):
    """A venue process did not start, exited early, or a condition was not met in time."""


def output(proc: subprocess.Popen[Any]) -> str:
    """What an exited process wrote to its piped stderr (or stdout where stderr goes there);
    "" when neither is a pipe (a log file: read it instead)."""
    stream = proc.stderr if proc.stderr is not None else proc.stdout
    if stream is None:
        return ""
    data = stream.read()
    return data.decode(errors="replace") if isinstance(data, bytes) else str(data)


def wait_for(cond: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S,
             step: Callable[[], Any] | None = None, *,
             watch: Mapping[str, subprocess.Popen[Any]] | None = None) -> Any:
    """cond()'s first truthy value. step, when given, runs between two polls instead of the
    polling sleep (e.g. a bounded receive that lets the condition change). Raises LaunchError when
    the deadline passes or, before that, when a process of `watch` (name: process) has exited."""
    end = time.monotonic() + deadline_s
    while True:
        value = cond()
        if value:
            return value
        for name, proc in (watch or {}).items():
            if proc.poll() is not None:
                raise LaunchError(f"{name} exited early ({proc.returncode}) while waiting for "
                                  f"{what}: {output(proc)}")
        if time.monotonic() > end:
            raise LaunchError(f"timed out after {deadline_s} s waiting for {what}")
        if step is not None:
            step()
        else:
            time.sleep(POLL_S)


def stop(proc: subprocess.Popen[Any] | None, deadline_s: float = DEADLINE_S) -> None:
    """SIGTERM and wait; SIGKILL if it outlives deadline_s. A process that has already exited is
    left as it is (its output is still there to read)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(deadline_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def gateway_command(verb: str, *args: str) -> list[str]:
    """The argv of ``python -m gateway VERB ARGS`` with this interpreter."""
    return [sys.executable, "-m", "gateway", verb, *args]


def up_command(config: Path, run_dir: Path, ready_file: Path, *args: str) -> list[str]:
    """The argv of ``python -m gateway up`` (the product launcher) on config, without mlock (tests
    and benches run unprivileged), its run files in run_dir, its endpoints in ready_file."""
    return gateway_command("up", "--config", str(config), "--no-mlock", "--run-dir", str(run_dir),
                           "--ready-file", str(ready_file), *args)


def engine_pid(name: str) -> int:
    """The pid of the engine that created `name`'s control segment (0 while there is none)."""
    try:
        seg = Segment.attach(control_path(name), KIND_CONTROL, 0, 0)
    except ShmError:
        return 0
    try:
        return int(seg.handle.hdr.creator_pid)
    finally:
        seg.detach()


def pid_of(*needles: str) -> int | None:
    """The pid of a live (not zombie) process whose command line holds every needle."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and all(n in cmd for n in needles):
            return int(entry)
    return None


def run_main(main: Callable[[], int | None], program: str) -> int | None:
    """main()'s exit status; a LaunchError becomes one line on stderr and exit status 1 (for the
    benchmark scripts: `sys.exit(run_main(main, "wire"))`)."""
    try:
        return main()
    except LaunchError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 1


class Venue:
    """The processes of one venue (engine `name`), by role. Not thread-safe."""

    def __init__(self, name: str | None = None, prefix: str = "v", log_dir: Path | None = None,
                 stop_deadline_s: float = DEADLINE_S, owns_segments: bool = True) -> None:
        """owns_segments: close() removes the engine's shared-memory leftovers (False for a venue
        of processes attached to an engine that another Venue started)."""
        self.name = name or f"{prefix}{uuid.uuid4().hex[:8]}"
        self.owns_segments = owns_segments
        self.log_dir = log_dir
        self.stop_deadline_s = stop_deadline_s
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self._stop_deadline: dict[str, float] = {}     # a role that announced a longer clean stop
        self._logs: dict[str, IO[str]] = {}
        self._order: list[str] = []

    # ---- starting -----------------------------------------------------------------------------
    def spawn(self, role: str, argv: list[str], *, stdout: int | None = None, stdout_to_log: bool = False,
              env: Mapping[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[str]:
        """Starts argv as `role` (a role that exited may be started again). Its stderr goes to
        log_dir/ROLE.log when the venue has a log_dir (read with log(role)), else to a pipe
        (read with output() once it exited); stdout_to_log sends stdout to that log as well."""
        if role in self.procs and self.procs[role].poll() is None:
            raise LaunchError(f"{self.name}: {role} is already running")
        self._close_log(role)
        out: IO[str] | int | None = stdout
        if self.log_dir is not None:
            log = open(self.log_dir / f"{role}.log", "a")
            self._logs[role] = log
            err: IO[str] | int = log
            if stdout_to_log:
                out, err = log, subprocess.STDOUT
        else:
            err = subprocess.PIPE
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True,
                                env=dict(env) if env is not None else None, cwd=cwd)
        self.procs[role] = proc
        if role in self._order:
            self._order.remove(role)
        self._order.append(role)
        return proc

    def start_engine(self, *args: str, role: str = "engine", wait: bool = True,
                     deadline_s: float = DEADLINE_S, stdout: int | None = None) -> subprocess.Popen[str]:
        """``python -m gateway engine --name NAME ARGS``; with wait, returns once this very process
        takes producers (not an earlier engine of the same name, e.g. before a restart)."""
        proc = self.spawn(role, gateway_command("engine", "--name", self.name, *args), stdout=stdout)
        if wait:
            self._start_wait(lambda: engine_serving(self.name, served_by=proc.pid), f"the {role}",
                             deadline_s)
        return proc

    def start_gateway(self, port_file: Path, *args: str, role: str = "gateway",
                      env: Mapping[str, str] | None = None, cwd: Path | None = None,
                      deadline_s: float = DEADLINE_S, stdout: int | None = None
                      ) -> tuple[subprocess.Popen[str], int]:
        """``python -m gateway gateway --engine NAME --port-file PORT_FILE ARGS`` and the port it
        listens on, once it has written its port file."""
        port_file.unlink(missing_ok=True)
        proc = self.spawn(role, gateway_command("gateway", "--engine", self.name, "--port-file",
                                                str(port_file), *args), env=env, cwd=cwd, stdout=stdout)
        self._start_wait(port_file.exists, f"the {role}'s port file", deadline_s)
        return proc, int(port_file.read_text())

    def start_up(self, config: Path, run_dir: Path, ready_file: Path, *args: str, role: str = "up",
                 deadline_s: float = DEADLINE_S) -> dict[str, Any]:
        """``up`` on config (up_command), supervising the venue's processes itself, and its ready
        file's contents (the endpoints) once written. The venue's name must be the config's venue
        name (close() removes that engine's leftovers). Needs a log_dir: up's output goes to
        ROLE.log there (a pipe nobody reads could fill and stall it)."""
        if self.log_dir is None:
            raise LaunchError(f"{self.name}: start_up needs a Venue with a log_dir")
        ready_file.unlink(missing_ok=True)
        self.spawn(role, up_command(config, run_dir, ready_file, *args), stdout_to_log=True)
        self._start_wait(ready_file.exists, f"{role}'s ready file", deadline_s)
        ready: dict[str, Any] = json.loads(ready_file.read_text())
        self.allow_stop_time(role, ready)
        return ready

    def allow_stop_time(self, role: str, ready: Mapping[str, Any]) -> None:
        """Gives role the clean stop its ready file announces (``stop_budget_s``: `up` stops its
        processes one after the other, gateway/control/up.py stop_budget_s) when that is longer
        than the venue's stop_deadline_s: killed sooner, it would leave its stop half done."""
        budget = ready.get("stop_budget_s")
        if isinstance(budget, (int, float)) and budget > self.stop_deadline_s:
            self._stop_deadline[role] = float(budget)

    # ---- waiting ------------------------------------------------------------------------------
    def wait_for(self, cond: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S,
                 step: Callable[[], Any] | None = None) -> Any:
        """wait_for() watching every running process of this venue; the error carries the output of
        the one that exited (its log file's text where it logs to a file)."""
        try:
            return wait_for(cond, what, deadline_s, step, watch=self.running())
        except LaunchError as exc:
            exited = [r for r, p in self.procs.items() if p.poll() is not None and r in self._logs]
            logs = "".join(f"\n--- {r}.log ---\n{self.log(r)}" for r in exited)
            raise LaunchError(f"{self.name}: {exc}{logs}") from None

    def _start_wait(self, cond: Callable[[], Any], what: str, deadline_s: float) -> None:
        """A start-up wait: a failed start stops what this venue started before raising."""
        try:
            self.wait_for(cond, what, deadline_s)
        except LaunchError as exc:
            err = self.close()
            raise LaunchError(f"{exc}{chr(10) + err if err else ''}") from None

    def running(self) -> dict[str, subprocess.Popen[str]]:
        return {r: p for r, p in self.procs.items() if p.poll() is None}

    def alive(self, *roles: str) -> bool:
        """Whether every named role (every role when none is named) is still running."""
        return all(self.procs[r].poll() is None for r in (roles or tuple(self.procs)))

    def log(self, role: str) -> str:
        """The text of role's log file (log_dir venues only)."""
        if self.log_dir is None:
            raise LaunchError(f"{self.name}: no log_dir, {role}'s stderr is a pipe")
        log = self._logs.get(role)
        if log is not None:
            log.flush()
        path = self.log_dir / f"{role}.log"
        return path.read_text() if path.exists() else ""

    # ---- stopping -----------------------------------------------------------------------------
    def stop(self, role: str, deadline_s: float | None = None) -> int:
        """SIGTERM role (SIGKILL after the deadline) and return its exit status."""
        proc = self.procs[role]
        stop(proc, self._deadline(role) if deadline_s is None else deadline_s)
        self._close_log(role)
        return int(proc.wait())

    def _deadline(self, role: str) -> float:
        return self._stop_deadline.get(role, self.stop_deadline_s)

    def kill(self, role: str) -> None:
        """SIGKILL role (a crash) and reap it."""
        proc = self.procs[role]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(DEADLINE_S)
        self._close_log(role)

    def close(self) -> str:
        """Stops every process, the last started first, and removes the engine's shared-memory
        leftovers; returns what the piped processes wrote, in stop order. Safe to call twice."""
        err = ""
        for role in reversed(self._order):
            proc = self.procs[role]
            stop(proc, self._deadline(role))
            self._close_log(role)
            if proc.stderr is not None and not proc.stderr.closed:
                err += proc.stderr.read()
                proc.stderr.close()
            if proc.stdout is not None and not proc.stdout.closed:
                proc.stdout.close()
        self._order.clear()
        if self.owns_segments:
            remove_leftovers(self.name)
        return err

    def _close_log(self, role: str) -> None:
        log = self._logs.pop(role, None)
        if log is not None:
            log.close()

    def __enter__(self) -> Venue:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
