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
        status = ctl.call("journal.status")
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

    # journal.status lists the segments apart from the venue's other files in the directory, each
    # of those named for what it is (the disk-flush file, the gateway's flow store when it runs).
    names = sorted(Path(seg["path"]).name for seg in status["segments"])
    assert names and all(re.fullmatch(r"(cmd|evt)-\d+\.jrnl", n) for n in names), names
    assert {"cmd", "evt"} <= {n[:3] for n in names}
    others = {Path(f["path"]).name: f["role"] for f in status["other_files"]}
    # (device-flush is among them only where ext4's root directory cannot be the disk-flush
    # target, native/journal/jrnl_durable.c)
    assert all(role != "not the venue's" for role in others.values()), others


def test_journal_dir_file_roles_follow_the_names_their_writers_use(tmp_path: Path) -> None:
    from gateway.control import service
    from gateway.control.up import prepare_gateway_store
    from gateway.control.config import load_config

    assert journal.LOSS_FILE in service._JOURNAL_DIR_FILES
    cfg = load_config()                          # the embedded default venue
    store = tmp_path / "gateway.state"
    store.write_bytes(b"x")                      # written for no recorded sessions: set aside
    assert prepare_gateway_store(cfg, store) is not None
    names = sorted(p.name for p in tmp_path.iterdir())
    roles = {n: service._journal_dir_file_role(n) for n in names}
    assert all(r != "not the venue's" for r in roles.values()), roles
    assert service._journal_dir_file_role("notes.txt") == "not the venue's"
    assert not service._is_segment_name("cmd-12x.jrnl") and service._is_segment_name("evt-0000000000000003.jrnl")
