"""Fixtures for the shared-memory tests: unique segment names (removed afterwards) and a helper
that runs a function in a forked child process and returns what it reports."""
from __future__ import annotations

import multiprocessing as mp
import os
import uuid
from typing import Any, Callable, Iterator

import pytest

from shm.segment import segment_path, unlink_segment

CTX = mp.get_context("fork")


@pytest.fixture
def seg_name() -> Iterator[Callable[[str], str]]:
    """seg_name(role) -> a fresh /dev/shm path, removed at teardown."""
    tag = f"t{os.getpid()}-{uuid.uuid4().hex[:8]}"
    made: list[str] = []

    def make(role: str) -> str:
        path = segment_path(tag, role)
        made.append(path)
        return path

    yield make
    for path in made:
        unlink_segment(path)


def _child_main(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # reported to the parent, which fails the test with it
        queue.put(("error", repr(exc)))


class Child:
    """A forked process running fn(*args); result() returns fn's return value."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.queue = CTX.Queue()
        self.proc = CTX.Process(target=_child_main, args=(fn, args, self.queue))
        self.proc.start()

    def result(self, timeout_s: float = 60.0) -> Any:
        status, value = self.queue.get(timeout=timeout_s)
        self.proc.join(timeout_s)
        if status != "ok":
            raise AssertionError(f"child failed: {value}")
        return value


def stress_dict(res: Any) -> dict[str, int]:
    return {name: int(getattr(res, name)) for name in
            ("records", "bytes", "out_of_order", "corrupt", "full", "lapped", "skipped",
             "checksum", "last", "elapsed_ns", "rc")}
