"""Strategies run by the control plane: each one a ``python -m trading strategy run`` process of
its own, attached to the venue's engine through its own producer slot, under an account of the
venue's configuration (whose risk limits the control plane sets and the engine enforces).

Used by gateway/control/service.py for the ops shell's ``strategy list / start / stop / params``.
A stopped strategy gets SIGTERM: its runner cancels the strategy's orders and exits; its last
output line (fills, position, P&L) stays in ``list``. Logs go to <log_dir>/strategy-<id>.log.
"""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trading.strategy.api import ParamError
from trading.strategy.registry import resolve


@dataclass
class Running:
    id: int
    strategy: str
    account: int
    instrument: int
    params: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.time)

    def describe(self) -> dict[str, Any]:
        rc = self.proc.poll()
        tail = ""
        if self.log.is_file():
            lines = self.log.read_text(errors="replace").strip().splitlines()
            tail = lines[-1] if lines else ""
        return {"id": self.id, "strategy": self.strategy, "account": self.account, "instrument": self.instrument,
                "params": self.params, "state": "running" if rc is None else f"exited {rc}",
                "pid": self.proc.pid, "uptime_s": round(time.time() - self.started, 1), "last_output": tail}


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
            return {"id": r.id, "strategy": r.strategy, "params": r.params}
        cls = resolve(spec)
        return {"strategy": spec, "class": f"{cls.__module__}.{cls.__name__}", "defaults": dict(cls.defaults)}

    def start(self, spec: str, account: int, instrument: int, params: dict[str, str]) -> dict[str, Any]:
        cls = resolve(spec)
        cls(**params)              # refuses unknown names and bad values before a process starts
        for r in self.running.values():
            if r.account == account and r.proc.poll() is None:
                raise ParamError(f"account {account} already runs strategy {r.id} ({r.strategy}): one account per strategy")
        sid = self._next
        self._next += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"strategy-{sid}.log"
        cmd = [sys.executable, "-m", "trading", "strategy", "run", "--venue", self.venue, "--strategy", spec,
               "--account", str(account), "--instrument", str(instrument)]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        if self.shm_dir:
            cmd += ["--shm-dir", self.shm_dir]
        if self.journal_dir:
            cmd += ["--journal", self.journal_dir]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.running[sid] = Running(sid, spec, account, instrument, dict(params), proc, log)
        return self.running[sid].describe()

    def stop(self, sid: int, timeout_s: float = 10.0) -> dict[str, Any]:
        r = self.running.get(sid)
        if r is None:
            raise LookupError(f"no strategy {sid} (running: {sorted(self.running) or 'none'})")
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


def parse_params(text: str | None) -> dict[str, str]:
    """'size=100,interval_ms=50' -> {'size': '100', 'interval_ms': '50'}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"params: expected k=v[,k=v...], got {part!r}")
        out[key.strip()] = value.strip()
    return out
