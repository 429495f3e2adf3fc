"""Every change the control plane makes at run time is a sequenced engine command: it is in the
engine's command journal, and a replay of the journal from scratch reaches the very state the
engine stopped in (same state hash)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from gateway.enginehost import journal
from native import records
from tests.control.cp_venue import start_venue


def _commands(directory: Path) -> list[dict[str, int]]:
    _, _, payloads = journal.read_records(str(directory), journal.KIND_CMD)
    out = []
    for rec in payloads:
        code = int(rec[:2].view(np.uint16)[0])
        dt = records.CMD_DTYPES[code]
        row = np.frombuffer(rec.tobytes(), dtype=dt, count=1)[0]
        out.append({"type": records.CmdType(code).name,
                    **{n: int(row[n]) for n in dt.names if n not in ("type", "seq", "ts_ns") and not n.startswith("_")}})
    return out


def test_run_time_changes_are_journaled_and_replay_reproduces_them(tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    gen = start_venue(tmp_path, journal=str(jdir))
    venue = next(gen)
    try:
        ctl = venue.control()
        ctl.call("halt", instrument="BETA")
        ctl.call("resume", instrument="BETA", call_s=0)
        ctl.call("killswitch", account=4, engaged=True)
        ctl.call("killswitch", account=4, engaged=False)
        ctl.call("risk.set", scope="instrument", id="ACME", limit="max_order_qty", value=77)
        ctl.call("risk.set", scope="account", id=1, limit="max_position", value=33, instrument="ACME")
    finally:
        gen.close()                                   # stops the venue (SIGTERM to up)
    output = venue.output()
    assert venue.proc.returncode == 0, output

    control = [c for c in _commands(jdir) if c["type"].startswith("SET_")]
    phases = {int(v): v.name for v in records.Phase}
    tail = [(c["type"], c["instrument_id"], phases[c["phase"]]) if c["type"] == "SET_PHASE" else
            (c["type"], c.get("account_id"), c.get("engaged", c.get("max_order_qty", c.get("max_position"))))
            for c in control[-7:]]
    assert tail == [("SET_PHASE", 2, "HALTED"), ("SET_PHASE", 2, "PRE_OPEN"), ("SET_PHASE", 2, "CONTINUOUS"),
                    ("SET_KILL_SWITCH", 4, 1), ("SET_KILL_SWITCH", 4, 0),
                    ("SET_INSTRUMENT_RISK", None, 77), ("SET_ACCOUNT_LIMIT", 1, 33)]

    stopped = re.findall(r"engine: journal: .*state hash (0x[0-9a-f]+)", output)
    assert stopped, output
    verify = subprocess.run([sys.executable, "-m", "gateway", "journal", "verify", "--dir", str(jdir)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stderr
    assert re.search(r"state hash (0x[0-9a-f]+)", verify.stdout).group(1) == stopped[-1]  # type: ignore[union-attr]
