"""Helpers for the journal tests: an engine process with a journal directory (started, stopped,
SIGKILLed, restarted), seeded order streams, and a client call that keeps partial replies."""
from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from gateway import launcher
from native import records
from native._venue import ffi, lib
from native.messages import Cancel, Command, NewOrder
from shm.client import EngineClient

START_DEADLINE_S = 60.0


def wait_for(cond: Callable[[], Any], what: str, deadline_s: float = START_DEADLINE_S) -> Any:
    """launcher.wait_for with the journal tests' longer deadline (recovery of a journal)."""
    return launcher.wait_for(cond, what, deadline_s)


class EngineProc:
    """One `python -m gateway engine --journal DIR` process at a time; restartable. Start n logs
    to LOG_DIR/engine-n.log."""

    def __init__(self, journal_dir: Path, log_dir: Path, extra: list[str] | None = None) -> None:
        self.venue = launcher.Venue(prefix="tj", log_dir=log_dir, stop_deadline_s=60)
        self.journal_dir = journal_dir
        self.log_dir = log_dir
        self.extra = extra or []
        self.starts = 0

    @property
    def name(self) -> str:
        return self.venue.name

    @name.setter
    def name(self, value: str) -> None:
        """Another engine's name (a test that starts a second engine under the same name)."""
        self.venue.name = value

    @property
    def role(self) -> str:
        return f"engine-{self.starts}"

    @property
    def proc(self) -> subprocess.Popen[str] | None:
        return self.venue.procs.get(self.role)

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.role}.log"

    def start(self, wait_ready: bool = True) -> None:
        self.starts += 1
        self.venue.start_engine(
            "--no-mlock", "--instruments", "1,2", "--max-orders", "65536", "--max-levels", "4096",
            "--max-accounts", "16", "--segment-mb", "1", "--journal", str(self.journal_dir), *self.extra,
            role=self.role, wait=wait_ready, deadline_s=START_DEADLINE_S, stdout=subprocess.DEVNULL)

    def log(self) -> str:
        return self.venue.log(self.role)

    def kill(self) -> None:
        self.venue.kill(self.role)

    def stop(self) -> int:
        return self.venue.stop(self.role)

    def recovered_hash(self) -> int:
        for line in self.log().splitlines():
            if "engine: recovery:" in line:
                return int(line.rsplit("state hash ", 1)[1], 16)
        raise AssertionError(f"no recovery line in {self.log()}")

    def close(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            self.kill()
        self.venue.close()


@pytest.fixture
def engine_proc(tmp_path: Path) -> Iterator[Any]:
    made: list[EngineProc] = []

    def make(extra: list[str] | None = None, journal_dir: Path | None = None) -> EngineProc:
        e = EngineProc(journal_dir or tmp_path / "journal", tmp_path, extra)
        made.append(e)
        return e

    yield make
    for e in made:
        e.close()


def order_stream(rng: random.Random, n: int, first_oid: int) -> list[Command]:
    """Crossing limit orders around 10000 on instrument 1 and 2, with cancels of recent ids."""
    cmds: list[Command] = []
    for i in range(n):
        oid = first_oid + i
        if i and rng.random() < 0.2:
            cmds.append(Cancel(instrument_id=1 + (oid % 2),
                         order_id=rng.randrange(max(first_oid, oid - 50), oid)))
            continue
        cmds.append(NewOrder(instrument_id=1 + (oid % 2), order_id=oid,
                     client_order_id=oid, price=10000 + rng.randrange(-5, 6),
                     qty=rng.randrange(1, 20), side=rng.choice((1, 2)), ord_type=1,
                     tif=2, account_id=rng.randrange(16)))
    return cmds


def submit_partial(client: EngineClient, cmds: np.ndarray, timeout_ns: int) -> tuple[np.ndarray, int]:
    """Submits records and returns (replies, how many arrived) even when the engine dies midway:
    the replies that did arrive are acknowledgements the venue must honour."""
    recs = np.ascontiguousarray(cmds).view(np.uint8)
    n = recs.size // records.RECORD_SIZE
    out = np.zeros((n, ffi.sizeof("ring_reply_t")), dtype=np.uint8)
    done = ffi.new("uint32_t *")
    lib.runner_client_submit(client.handle, ffi.cast("eng_cmd_t *", ffi.from_buffer(recs)), n,
                             ffi.cast("ring_reply_t *", ffi.from_buffer(out)), timeout_ns, done)
    return out, int(done[0])
