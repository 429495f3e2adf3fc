"""Helpers for the journal tests: an engine process with a journal directory (started, stopped,
SIGKILLed, restarted), seeded order streams, and a client call that keeps partial replies."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from native.messages import Cancel, Command, NewOrder
from native import records
from native._venue import ffi, lib
from shm import errors
from shm.client import EngineClient
from shm.engine_segments import control_path, remove_leftovers
from shm.segment import KIND_CONTROL, Segment

START_DEADLINE_S = 60.0


def wait_for(cond: Any, what: str, deadline_s: float = START_DEADLINE_S) -> None:
    end = time.monotonic() + deadline_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)   # polling interval of a condition wait, not a wait for an effect


class EngineProc:
    """One `python -m gateway engine --journal DIR` process at a time; restartable."""

    def __init__(self, journal_dir: Path, log_dir: Path, extra: list[str] | None = None) -> None:
        self.name = f"tj{uuid.uuid4().hex[:8]}"
        self.journal_dir = journal_dir
        self.log_dir = log_dir
        self.extra = extra or []
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0
        self.log_path = log_dir / "engine-0.log"

    def start(self, wait_ready: bool = True) -> None:
        self.starts += 1
        self.log_path = self.log_dir / f"engine-{self.starts}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "engine", "--name", self.name, "--no-mlock",
             "--instruments", "1,2", "--max-orders", "65536", "--max-levels", "4096",
             "--max-accounts", "16", "--segment-mb", "1", "--journal", str(self.journal_dir),
             *self.extra], stderr=self._log, stdout=subprocess.DEVNULL, text=True)
        if wait_ready:
            wait_for(self.ready, f"engine {self.name} start #{self.starts}")

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"engine exited early ({self.proc.returncode}): {self.log()}")
        try:
            seg = Segment.attach(control_path(self.name), KIND_CONTROL, 0, 2_000_000_000)
        except errors.SegmentError:
            return False
        ok = seg.control().producer_count > 0 and seg.handle.hdr.creator_pid == self.proc.pid
        seg.detach()
        return ok

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        self._log.close()
        return rc

    def recovered_hash(self) -> int:
        for line in self.log().splitlines():
            if "engine: recovery:" in line:
                return int(line.rsplit("state hash ", 1)[1], 16)
        raise AssertionError(f"no recovery line in {self.log()}")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        remove_leftovers(self.name)


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
