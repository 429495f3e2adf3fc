"""The venue processes a bench starts: one engine and its gateways, each ``python -m gateway ...``
with stderr piped (the benches print lines of it), started in order and stopped in reverse.

Start-up waits on conditions (the engine taking producers, a gateway's port file), failing with the
processes' stderr as soon as one exits; a failed start stops what was started. close() stops every
process (SIGTERM, then SIGKILL after 30 s) and removes the engine's shm leftovers."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from shm.engine_segments import engine_serving, remove_leftovers

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0

# One firm with account 1 and its session 1 (key "bench"): the gateway config of the load benches.
ONE_SESSION_CONFIG = {"firms": [{"firm_id": 1, "accounts": [1]}],
                      "sessions": [{"session_id": 1, "firm_id": 1, "key": "bench"}]}


class VenueProcs:
    """The processes of engine `name`; `bench` prefixes every failure message."""

    def __init__(self, bench: str, name: str) -> None:
        self.bench = bench
        self.name = name
        self.procs: list[subprocess.Popen[str]] = []

    def start_engine(self, *args: str) -> subprocess.Popen[str]:
        """``python -m gateway engine --name NAME ARGS``, returned once it takes producers."""
        engine = self._spawn("engine", "--name", self.name, *args)
        self._wait_for(lambda: engine_serving(self.name), "the engine")
        return engine

    def start_gateway(self, port_file: Path, *args: str, what: str = "the gateway"
                      ) -> tuple[subprocess.Popen[str], int]:
        """``python -m gateway gateway --engine NAME --port-file PORT_FILE ARGS`` and the port it
        listens on, once it has written its port file."""
        gateway = self._spawn("gateway", "--engine", self.name, "--port-file", str(port_file),
                              *args)
        self._wait_for(port_file.exists, what)
        return gateway, int(port_file.read_text())

    def close(self) -> str:
        """Stops every process, the last started first; returns their stderr, in that order."""
        err = ""
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(STOP_DEADLINE_S)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
            err += p.stderr.read() if p.stderr else ""
        self.procs.clear()
        remove_leftovers(self.name)
        return err

    def _spawn(self, *args: str) -> subprocess.Popen[str]:
        p = subprocess.Popen([sys.executable, "-m", "gateway", *args], stderr=subprocess.PIPE,
                             text=True)
        self.procs.append(p)
        return p

    def _wait_for(self, cond: Callable[[], object], what: str) -> None:
        end = time.monotonic() + START_DEADLINE_S
        while not cond():
            exited = [p for p in self.procs if p.poll() is not None]
            if exited:
                codes = ", ".join(f"{p.args[3]} exited with {p.returncode}" for p in exited)
                raise SystemExit(f"{self.bench}: {what} failed to start ({codes}): {self.close()}")
            if time.monotonic() > end:
                self.close()
                raise SystemExit(f"{self.bench}: timed out waiting for {what}")
            time.sleep(0.01)   # polling interval of a condition wait
