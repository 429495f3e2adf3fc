"""A venue's lock files live no longer than their holders: an engine SIGKILLed (as the journal and
supervision tests do, and as a crash does) cannot remove its ``venue-NAME.engine.lock``, so the
clean-up after its processes are gone (remove_leftovers, run by the launcher's Venue.close and by
``up``) removes the lock files nobody holds, and only those."""
from __future__ import annotations

import os
import subprocess
import sys

from gateway import launcher
from shm.engine_segments import remove_leftovers
from shm.segment import shm_dir
from shm.venue_lock import lock_venue, remove_stale_lock, venue_lock_path


def _files_of(name: str) -> list[str]:
    return sorted(f for f in os.listdir(shm_dir()) if f.startswith(f"venue-{name}-") or
                  f.startswith(f"venue-{name}."))


def test_a_sigkilled_engine_leaves_nothing_after_its_venue_is_closed(tmp_path):
    v = launcher.Venue(prefix="lk", log_dir=tmp_path)
    try:
        v.start_engine("--no-mlock", "--instruments", "1", "--max-orders", "1024", "--segment-mb", "1",
                       stdout=subprocess.DEVNULL)
        assert os.path.exists(venue_lock_path(v.name, "engine"))
        v.kill("engine")                    # no clean exit: the engine removes nothing itself
        assert os.path.exists(venue_lock_path(v.name, "engine"))
    finally:
        v.close()
    assert _files_of(v.name) == []


def test_a_held_lock_file_is_kept_and_an_unheld_one_removed(tmp_path):
    name = f"lk{os.getpid()}held"
    held = lock_venue(name, "engine")
    try:
        assert remove_leftovers(name) == []
        assert not remove_stale_lock(held.path)
        assert os.path.exists(held.path)
    finally:
        held.release()
    # a holder that dies without releasing (its process SIGKILLed) leaves the file, unheld
    code = (f"import os, signal; from shm.venue_lock import lock_venue; lock_venue({name!r}, 'up'); "
            f"os.kill(os.getpid(), signal.SIGKILL)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == -9
    stale = venue_lock_path(name, "up")
    assert os.path.exists(stale)
    assert remove_leftovers(name) == [stale]
    assert _files_of(name) == []
    assert not remove_stale_lock(stale)     # absent: nothing to do, and nothing created
    assert not os.path.exists(stale)
