"""The audit log's hash chain: a log written by AuditLog verifies whole, also across a restart
(the chain continues from the last record); in copies with a record edited, edited and re-hashed,
deleted, two records swapped, or the tail cut, ``python -m gateway audit verify`` names each
tampered record by line and seq and exits 1. Bad arguments exit 2 with one line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.control.audit import AuditLog, read_audit
from gateway.security.audit_chain import head_path, record_hash, verify


def _log(tmp: Path, n: int = 10) -> Path:
    path = tmp / "audit.jsonl"
    log = AuditLog(path)
    for i in range(n // 2):
        log.record("ops", "operator", "halt", {"instrument": f"I{i}"}, True, "ok")
    log.close()
    log = AuditLog(path)                                 # a restart continues the chain
    for i in range(n // 2, n):
        log.record("mallory", "", "halt", {"instrument": f"I{i}"}, i % 2 == 0, "unauthenticated")
    log.close()
    return path


def _copy(src: Path, tmp: Path, name: str, lines: list[str]) -> Path:
    dst = tmp / name / "audit.jsonl"
    dst.parent.mkdir()
    dst.write_text("".join(line + "\n" for line in lines))
    shutil.copy(head_path(src), head_path(dst))
    return dst


def _cli(path: Path) -> tuple[int, str]:
    p = subprocess.run([sys.executable, "-m", "gateway", "audit", "verify", str(path)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def test_a_whole_log_verifies(tmp_path: Path) -> None:
    path = _log(tmp_path)
    entries = read_audit(path)
    assert [e["seq"] for e in entries] == list(range(1, 11))
    assert all(e["prev"] == p["hash"] for p, e in zip(entries, entries[1:]))
    assert verify(path) == (10, [])
    rc, out = _cli(path)
    assert rc == 0 and "10 records, chain whole" in out


def test_each_tampering_is_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_text().splitlines()

    edited = list(lines)
    rec = json.loads(edited[3])
    rec["user"] = "someone-else"
    edited[3] = json.dumps(rec)
    rc, out = _cli(_copy(path, tmp_path, "edited", edited))
    assert rc == 1 and "line 4: edited: record seq 4" in out, out

    rehashed = list(lines)
    rec = json.loads(rehashed[5])
    rec["outcome"] = "accepted"
    rec["hash"] = record_hash(rec)
    rehashed[5] = json.dumps(rec)
    rc, out = _cli(_copy(path, tmp_path, "rehashed", rehashed))
    assert rc == 1 and "line 7: relinked: record seq 7 does not chain to seq 6 (line 6)" in out, out

    deleted = lines[:2] + lines[4:]
    rc, out = _cli(_copy(path, tmp_path, "deleted", deleted))
    assert rc == 1 and "removed: records seq 3..4 removed" in out, out

    swapped = lines[:5] + [lines[6], lines[5]] + lines[7:]
    rc, out = _cli(_copy(path, tmp_path, "swapped", swapped))
    assert rc == 1 and "line 7: reordered: record seq 6 comes after seq 7 (line 6)" in out, out

    cut = lines[:8]
    rc, out = _cli(_copy(path, tmp_path, "cut", cut))
    assert rc == 1 and "truncated: records seq 9..10 removed from the end" in out, out

    garbage = lines[:1] + ["{not json"] + lines[1:]
    rc, out = _cli(_copy(path, tmp_path, "garbage", garbage))
    assert rc == 1 and "line 2: unreadable" in out, out


@pytest.mark.parametrize("argv", [["audit"], ["audit", "verify"], ["audit", "nope", "x"]])
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    p = subprocess.run([sys.executable, "-m", "gateway", *argv], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.strip(), p


def test_a_missing_log_exits_2(tmp_path: Path) -> None:
    rc, out = _cli(tmp_path / "absent.jsonl")
    assert rc == 2 and "absent.jsonl" in out
