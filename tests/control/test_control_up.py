"""``python -m gateway up`` supervises its three processes: when the gateway or the control plane
dies, it stops the others, removes the engine's segments and exits 1; a dead engine is restarted
from its journal a bounded number of times (the restart itself: tests/control/test_control_restart.py)."""
from __future__ import annotations

import os
import signal
from pathlib import Path

from shm.engine_segments import control_path
from gateway.launcher import wait_for
from tests.control.cp_venue import start_venue


def test_a_dead_gateway_stops_the_venue(tmp_path: Path) -> None:
    gen = start_venue(tmp_path)
    venue = next(gen)
    try:
        pids = venue.ready["pids"]
        assert set(pids) == {"engine", "control", "gateway"} and len(set(pids.values())) == 3
        os.kill(pids["gateway"], signal.SIGKILL)
        wait_for(lambda: venue.proc.poll() is not None, "up to notice and stop", 60)
        assert venue.proc.returncode == 1
        output = venue.output()
        assert "up: gateway exited with status -9; stopping the venue" in output
        assert "engine: " + venue.ready["venue"] + " stopped" in output
        assert not Path(control_path(venue.ready["venue"])).exists()
        assert not list(Path(control_path(venue.ready["venue"])).parent.glob(f"venue-{venue.ready['venue']}-*"))
    finally:
        gen.close()


def test_engine_restarts_are_bounded_and_need_a_journal(tmp_path: Path) -> None:
    """A crash loop is not hidden: the 4th death within the window stops the venue; a venue
    without a journal, or with --no-engine-restart, is never restarted."""
    import argparse

    from gateway.control.config import load_config
    from gateway.control.up import ENGINE_RESTARTS_MAX, _may_restart_engine
    from tests.control.cp_venue import write_config
    journaled = load_config(write_config(tmp_path, "cpx", journal=str(tmp_path / "j")))
    plain = load_config(write_config(tmp_path, "cpy"))
    args = argparse.Namespace(no_engine_restart=False)
    restarts: list[float] = []
    assert [_may_restart_engine(journaled, args, restarts) for _ in range(ENGINE_RESTARTS_MAX + 1)] \
        == [True] * ENGINE_RESTARTS_MAX + [False]
    assert not _may_restart_engine(plain, args, [])
    assert not _may_restart_engine(journaled, argparse.Namespace(no_engine_restart=True), [])
