"""``python -m gateway up`` supervises its three processes: when one dies, it stops the others,
removes the engine's segments and exits 1."""
from __future__ import annotations

import os
import signal
from pathlib import Path

from shm.engine_segments import control_path
from tests.control.cp_venue import start_venue, wait_for


def test_a_dead_gateway_stops_the_venue(tmp_path: Path) -> None:
    gen = start_venue(tmp_path)
    venue = next(gen)
    try:
        pids = venue.ready["pids"]
        assert set(pids) == {"engine", "control", "gateway"} and len(set(pids.values())) == 3
        os.kill(pids["gateway"], signal.SIGKILL)
        wait_for(lambda: venue.proc.poll() is not None, "up to notice and stop", 60)
        assert venue.proc.returncode == 1
        output = venue.proc.stdout.read() if venue.proc.stdout else ""
        assert "up: gateway exited with status -9; stopping the venue" in output
        assert "engine: " + venue.ready["venue"] + " stopped" in output
        assert not Path(control_path(venue.ready["venue"])).exists()
        assert not list(Path(control_path(venue.ready["venue"])).parent.glob(f"venue-{venue.ready['venue']}-*"))
    finally:
        gen.close()
