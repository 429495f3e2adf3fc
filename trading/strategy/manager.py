"""Strategies run by the control plane: each one a ``python -m trading strategy run`` process of
its own, under an account of the venue's configuration (whose risk limits the control plane sets
and the engine enforces), attached either through its own producer slot and the event log
(``via="slot"``, in-process with no TCP hop) or as an external participant over the order-entry
gateway and the market-data feed (``via="tcp"``: its own session and credentials, ``TcpAccess``);
either way it may follow other instruments too (``others``).

Used by gateway/control/service.py for the ops shell's ``strategy list / start / stop / params /
set / pause / resume``. A stopped strategy gets SIGTERM: its runner cancels the strategy's orders and exits; its
last output line (fills, position, P&L) stays in ``list``. ``set`` changes a running strategy's
live parameters (trading/strategy/live_params.py) through the process's stdin, ``pause`` and
``resume`` hold its quoting the same way. Logs go to
<log_dir>/strategy-<id>.log.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from trading.strategy.api import ParamError
from trading.strategy.live_params import PAUSE, RESUME, checked_change, encode_line
from trading.strategy.registry import resolve

VIAS = ("slot", "tcp")


@dataclass(frozen=True)
class TcpAccess:
    """How a strategy run ``via="tcp"`` reaches the venue: the gateway and its session (the key
    from key_file, read by the strategy process, or the key itself, handed over in the process's
    environment and never on its command line), and the market-data feed."""
    gateway: str                 # HOST:PORT
    session: int
    firm: int
    md: str                      # the feed's ZeroMQ endpoint
    md_recovery: str             # HOST:PORT of its recovery (snapshot) server
    key_file: str | None = None
    key: str | None = field(default=None, repr=False)

    def argv(self) -> list[str]:
        out = ["--gateway", self.gateway, "--session", str(self.session), "--firm", str(self.firm),
               "--md", self.md, "--md-recovery", self.md_recovery]
        return out + (["--key-file", self.key_file] if self.key_file else [])


@dataclass
class Running:
    id: int
    strategy: str
    account: int
    instrument: int
    params: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    via: str = "slot"
    others: tuple[tuple[int, int], ...] = ()    # (instrument id, tick) followed besides `instrument`
    session: int | None = None                  # via tcp: its gateway session
    paused: bool = False                        # asked to pause (live_params.py), not resumed since
    started: float = field(default_factory=time.time)

    def describe(self) -> dict[str, Any]:
        rc = self.proc.poll()
        tail = ""
        if self.log.is_file():
            lines = self.log.read_text(errors="replace").strip().splitlines()
            tail = lines[-1] if lines else ""
        out = {"id": self.id, "strategy": self.strategy, "account": self.account, "instrument": self.instrument,
               "via": self.via, "params": self.params,
               "state": ("paused" if self.paused else "running") if rc is None else f"exited {rc}",
               "pid": self.proc.pid, "uptime_s": round(time.time() - self.started, 1), "last_output": tail}
        if self.others:
            out["other_instruments"] = [f"{i}:{t}" for i, t in self.others]
        if self.session is not None:
            out["session"] = self.session
        return out


class StrategyManager:
    def __init__(self, venue: str, log_dir: str | Path, shm_dir: str | None = None,
                 journal_dir: str | None = None) -> None:
        self.venue = venue
        self.shm_dir = shm_dir
        self.journal_dir = journal_dir      # given: each strategy starts with the standing book
        self.log_dir = Path(log_dir)
        self.running: dict[int, Running] = {}
        self._next = 1

    def params(self, spec: str) -> dict[str, Any]:
        """Defaults of a strategy by name or dotted path, or the parameters of a running one by id."""
        if spec.isdigit() and int(spec) in self.running:
            r = self.running[int(spec)]
            return {"id": r.id, "strategy": r.strategy, "via": r.via, "params": r.params}
        cls = resolve(spec)
        return {"strategy": spec, "class": f"{cls.__module__}.{cls.__name__}", "defaults": dict(cls.defaults)}

    def start(self, spec: str, account: int, instrument: int, params: dict[str, str], via: str = "slot",
              others: tuple[tuple[int, int], ...] = (), tcp: TcpAccess | None = None,
              tick: int = 1) -> dict[str, Any]:
        """Starts one strategy process. ValueError / ParamError / LookupError for anything wrong,
        before a process starts: an unknown strategy or parameter, another running strategy on the
        account, an unknown via, options of the other via."""
        if via not in VIAS:
            raise ValueError(f"via must be slot or tcp, got {via!r}")
        if via == "tcp" and tcp is None:
            raise ValueError("via tcp needs the gateway session and the feed (tcp access)")
        if via == "slot" and tcp is not None:
            raise ValueError("gateway session and feed options are for via tcp")
        cls = resolve(spec)
        # unknown names and bad values, and values the class could not run with (the same check
        # as for a live change: the market maker's quote_size off its lot was a process that died
        # at start), refused before a process starts
        cls(**params).check_live_change()
        for r in self.running.values():
            if r.account == account and r.proc.poll() is None:
                raise ParamError(f"account {account} already runs strategy {r.id} ({r.strategy}): one account per strategy")
        sid = self._next
        self._next += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"strategy-{sid}.log"
        cmd = [sys.executable, "-m", "trading", "strategy", "run", "--via", via, "--strategy", spec,
               "--account", str(account), "--instrument", str(instrument), "--tick", str(tick), "--params-from-stdin"]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        env = dict(os.environ)
        for other, other_tick in others:
            cmd += ["--other-instrument", f"{other}:{other_tick}"]
        if tcp is not None:
            cmd += tcp.argv()
            if tcp.key is not None and not tcp.key_file:
                from gateway.security.session_keys import SESSION_KEY_ENV
                env[SESSION_KEY_ENV] = tcp.key
        else:
            cmd += ["--venue", self.venue]
            if self.shm_dir:
                cmd += ["--shm-dir", self.shm_dir]
            if self.journal_dir:
                cmd += ["--journal", self.journal_dir]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, env=env)
        self.running[sid] = Running(sid, spec, account, instrument, dict(params), proc, log, via, tuple(others),
                                    tcp.session if tcp is not None else None)
        return self.running[sid].describe()

    def set_params(self, sid: int, change: dict[str, str]) -> dict[str, Any]:
        """Changes live parameters of a running strategy (live_params.py): checked here (unknown,
        bad value, not changeable live: ParamError), then sent to the process, which applies them
        between two polls and says so in its log."""
        r = self._get(sid)
        if r.proc.poll() is not None:
            raise LookupError(f"strategy {sid} is not running ({r.describe()['state']})")
        checked_change(resolve(r.strategy), dict(r.params), change)
        self._tell(r, encode_line(change))
        r.params.update(change)
        return r.describe()

    def pause(self, sid: int, paused: bool = True) -> dict[str, Any]:
        """Pauses (its orders cancelled, no market data or timer callbacks) or resumes a running
        strategy (live_params.py). LookupError when it is not running."""
        r = self._get(sid)
        if r.proc.poll() is not None:
            raise LookupError(f"strategy {sid} is not running ({r.describe()['state']})")
        self._tell(r, (PAUSE if paused else RESUME) + "\n")
        r.paused = paused
        return r.describe()

    @staticmethod
    def _tell(r: Running, line: str) -> None:
        stdin: IO[bytes] | None = r.proc.stdin
        try:
            assert stdin is not None
            stdin.write(line.encode())
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise LookupError(f"strategy {r.id} is not running (it exited)") from None

    def _get(self, sid: int) -> Running:
        r = self.running.get(sid)
        if r is None:
            raise LookupError(f"no strategy {sid} (running: {sorted(self.running) or 'none'})")
        return r

    def stop(self, sid: int, timeout_s: float = 10.0) -> dict[str, Any]:
        r = self._get(sid)
        # a process still starting would die of SIGTERM without its clean stop (orders cancelled,
        # summary line): wait until it says its handler is installed (or it exits)
        deadline = time.monotonic() + timeout_s
        while r.proc.poll() is None and time.monotonic() < deadline and not self._handler_ready(r):
            time.sleep(0.02)
        if r.proc.poll() is None:
            r.proc.terminate()
            try:
                r.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                r.proc.kill()
                r.proc.wait()
        if r.proc.stdin is not None:
            r.proc.stdin.close()
        return r.describe()

    @staticmethod
    def _handler_ready(r: Running) -> bool:
        from trading.strategy.cli import STARTED
        return r.log.is_file() and STARTED in r.log.read_text(errors="replace")

    def list(self) -> list[dict[str, Any]]:
        return [r.describe() for r in self.running.values()]

    def close(self) -> None:
        for sid in list(self.running):
            self.stop(sid)

