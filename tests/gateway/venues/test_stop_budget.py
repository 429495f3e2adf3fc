"""A multi-venue `up` stops each venue's own `up` within that `up`'s stop budget, not a single
process's: a venue's `up` stops its five processes one after the other, and at load 15 that took
longer than the 20 s a single process is given, so the deployment SIGKILLed it half-way (its control
plane never stopped cleanly, its lock file stayed) and the tests that stop a deployment saw -9.
The budget is announced in the ready file, and the test launcher waits that long."""
from __future__ import annotations

import sys
from pathlib import Path

from gateway import launcher
from gateway.control import up as single_up
from gateway.venues.up import Proc, stop_procs


def _child(flag: Path, on_term: str) -> list[str]:
    """A process that touches `flag` once its SIGTERM handler is in place, then waits."""
    return [sys.executable, "-c",
            "import pathlib, signal, sys, time\n"
            f"def on_term(*_):\n    {on_term}\n"
            "signal.signal(signal.SIGTERM, on_term)\n"
            f"pathlib.Path({str(flag)!r}).touch()\n"
            "time.sleep(120)\n"]


def test_a_venue_up_is_given_its_stop_budget_and_a_stuck_process_one_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(single_up, "STOP_TIMEOUT_S", 1.0)
    # a venue's up that needs 1.5 s to stop (more than one process's 1 s, within its 6 s budget)
    venue_up = Proc("DARK/up", _child(tmp_path / "up", "time.sleep(1.5); sys.exit(0)"), -1)
    stuck = Proc("sip", _child(tmp_path / "sip", "pass"), -1)        # ignores SIGTERM
    procs = [venue_up, stuck]
    try:
        for p in procs:
            p.start()
        launcher.wait_for(lambda: (tmp_path / "up").exists() and (tmp_path / "sip").exists(),
                          "the children's SIGTERM handlers")
        stop_procs(procs)
        assert stuck.proc is not None and stuck.proc.returncode == -9
        assert venue_up.proc is not None and venue_up.proc.returncode == 0
    finally:
        for p in procs:
            if p.proc is not None and p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()


def test_the_launcher_waits_the_budget_a_ready_file_announces(tmp_path):
    v = launcher.Venue(prefix="sb", stop_deadline_s=1.0)
    v.allow_stop_time("up", {"stop_budget_s": single_up.stop_budget_s(single_up.SUPERVISED_MAX)})
    v.allow_stop_time("other", {"stop_budget_s": 0.5})     # shorter than the venue's: ignored
    v.allow_stop_time("bad", {"stop_budget_s": "lots"})
    assert v._deadline("up") == 120.0
    assert v._deadline("other") == v._deadline("bad") == 1.0
