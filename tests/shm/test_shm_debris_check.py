"""The run's debris check (tests/shm_debris.py) tells what a run left from what a live process
holds: an unheld lock file and an unmapped, unopened segment file are debris; a locked lock file,
a mapped file and an open one are not; a file that was there before the run is never counted."""
from __future__ import annotations

import fcntl
import mmap
import os

from tests.shm_debris import debris, venue_files


def _make(path: str, size: int = 0) -> None:
    with open(path, "wb") as f:
        f.write(b"\0" * size)


def test_debris_is_what_appeared_and_nobody_holds(tmp_path):
    d = str(tmp_path)
    _make(os.path.join(d, "venue-old.engine.lock"))
    before = venue_files(d)
    for name in ("venue-a.engine.lock", "venue-b.engine.lock", "venue-a-events", "venue-b-events",
                 "venue-c-control"):
        _make(os.path.join(d, name), 4096)
    _make(os.path.join(d, "other-file"))
    held = os.open(os.path.join(d, "venue-b.engine.lock"), os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(os.path.join(d, "venue-b-events"), "r+b") as f:
        mapped = mmap.mmap(f.fileno(), 4096)
    opened = os.open(os.path.join(d, "venue-c-control"), os.O_RDONLY)
    try:
        mine, others = debris(d, before, settle_s=0)
        assert mine == [os.path.join(d, "venue-a-events"), os.path.join(d, "venue-a.engine.lock")]
        assert others == []
    finally:
        mapped.close()
        os.close(held)
        os.close(opened)
    mine, _ = debris(d, before, settle_s=0)
    assert len(mine) == 5


def test_a_venue_of_another_checkout_is_a_note_not_this_runs_debris(tmp_path):
    d = str(tmp_path)
    with open(os.path.join(d, "venue-x.engine.lock"), "w") as f:
        f.write("pid 1: /elsewhere/checkout/gateway/__main__.py engine --name x\n")
    for name in ("venue-x-cmd-1", "venue-x-latency-engine", "venue-xy-events"):
        _make(os.path.join(d, name))
    mine, others = debris(d, set(), settle_s=0)
    assert mine == [os.path.join(d, "venue-xy-events")]      # another venue, no lock file: this run's
    assert others == [os.path.join(d, n) for n in ("venue-x-cmd-1", "venue-x-latency-engine", "venue-x.engine.lock")]
