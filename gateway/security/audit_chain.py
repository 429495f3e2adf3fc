"""The audit log's hash chain: how a record is sealed, and how a log is checked.

Each record carries ``seq`` (1, 2, 3, ... in the order written), ``prev`` (the ``hash`` of the
record with seq - 1; GENESIS for the first) and ``hash``: SHA-256 over the record's canonical JSON
(sorted keys, no spaces, ``hash`` left out). Editing a record changes its hash; re-hashing an edited
record breaks the next record's ``prev``; removing records leaves a hole in ``seq``; moving one puts
a seq out of order. A head file beside the log (``<log>.head``: the last seq and hash, rewritten
atomically at each fsync) also shows records cut from the end.

This is tamper evidence, not tamper proofing: whoever may write the log and its head can rewrite
the whole chain from the edited record on; keep a copy of the head elsewhere (or ship records off
the host as they are written) where that matters.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=repr)


def seal(record: dict[str, Any], seq: int, prev: str) -> str:
    """The line (no newline) for record, given its seq and the previous record's hash."""
    body = json.loads(canonical({**record, "seq": seq, "prev": prev}))   # as a reader will parse it
    digest = hashlib.sha256(canonical(body).encode()).hexdigest()
    return canonical({**body, "hash": digest})


def record_hash(record: dict[str, Any]) -> str:
    """What the record's hash should be (its content without the ``hash`` field)."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def head_path(log: str | Path) -> Path:
    return Path(f"{log}.head")


def write_head(log: str | Path, seq: int, digest: str) -> None:
    path = head_path(log)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        os.write(fd, json.dumps({"seq": seq, "hash": digest}).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def last_link(log: str | Path) -> tuple[int, str]:
    """(seq, hash) of the last sealed record of an existing log, (0, GENESIS) for none. A log
    written before records were chained continues from the SHA-256 of its last line."""
    path = Path(log)
    if not path.exists() or path.stat().st_size == 0:
        return 0, GENESIS
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - 65536))
        tail = fh.read().splitlines()
    for line in reversed(tail):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            return 0, hashlib.sha256(line).hexdigest()
        if isinstance(rec, dict) and isinstance(rec.get("seq"), int) and isinstance(rec.get("hash"), str):
            return int(rec["seq"]), str(rec["hash"])
        return 0, hashlib.sha256(line).hexdigest()
    return 0, GENESIS


@dataclass(frozen=True)
class Finding:
    line: int           # 1-based line of the log (0: the log as a whole)
    seq: int | None     # the record's seq, where it has one
    kind: str           # "edited", "relinked", "removed", "reordered", "unreadable", "truncated"
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.message}" if self.line else f"{self.kind}: {self.message}"


def verify(log: str | Path) -> tuple[int, list[Finding]]:
    """(records read, findings) for an audit log; no findings means the chain is whole."""
    findings: list[Finding] = []
    by_seq: dict[int, tuple[int, dict[str, Any]]] = {}
    order: list[tuple[int, int]] = []           # (line, seq) in file order
    lines = Path(log).read_bytes().splitlines()
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            findings.append(Finding(n, None, "unreadable", "not a JSON record (edited or torn)"))
            continue
        seq = rec.get("seq") if isinstance(rec, dict) else None
        if not isinstance(seq, int) or not isinstance(rec.get("hash"), str):
            findings.append(Finding(n, None, "unreadable", "a record without seq and hash (not sealed)"))
            continue
        if seq in by_seq:
            findings.append(Finding(n, seq, "reordered",
                                    f"record seq {seq} appears twice (lines {by_seq[seq][0]} and {n})"))
            continue
        by_seq[seq] = (n, rec)
        order.append((n, seq))
        if record_hash(rec) != rec["hash"]:
            findings.append(Finding(n, seq, "edited", f"record seq {seq}: its content does not match its hash"))
    for seq, (n, rec) in sorted(by_seq.items()):
        before = by_seq.get(seq - 1)
        if seq == 1 or before is None:
            continue
        if rec.get("prev") != before[1]["hash"]:
            findings.append(Finding(n, seq, "relinked",
                                    f"record seq {seq} does not chain to seq {seq - 1} (line {before[0]}): "
                                    f"seq {seq - 1} was edited and re-hashed, or this record's link was"))
    # Holes: seqs missing between the smallest and the largest present.
    present = sorted(by_seq)
    if present and present[0] > 1:
        findings.append(Finding(by_seq[present[0]][0], present[0], "removed",
                                f"records seq 1..{present[0] - 1} removed from the start"))
    for a, b in zip(present, present[1:]):
        if b > a + 1:
            gone = f"seq {a + 1}" if b == a + 2 else f"seq {a + 1}..{b - 1}"
            findings.append(Finding(by_seq[b][0], b, "removed",
                                    f"records {gone} removed (between seq {a} at line {by_seq[a][0]} "
                                    f"and seq {b} at line {by_seq[b][0]})"))
    # Order: a record written before one that precedes it in the file.
    top_line, top_seq = 0, 0
    for n, seq in order:
        if seq < top_seq:
            findings.append(Finding(n, seq, "reordered",
                                    f"record seq {seq} comes after seq {top_seq} (line {top_line})"))
        elif seq > top_seq:
            top_line, top_seq = n, seq
    head = head_path(log)
    if head.exists():
        try:
            h = json.loads(head.read_text())
            head_seq, head_hash = int(h["seq"]), str(h["hash"])
        except (ValueError, KeyError, TypeError):
            findings.append(Finding(0, None, "unreadable", f"{head.name} is not a head record"))
        else:
            last = present[-1] if present else 0
            if head_seq > last:
                gone = f"seq {last + 1}" if head_seq == last + 1 else f"seq {last + 1}..{head_seq}"
                findings.append(Finding(0, None, "truncated",
                                        f"records {gone} removed from the end (the head names seq {head_seq})"))
            elif head_seq in by_seq and by_seq[head_seq][1]["hash"] != head_hash:
                findings.append(Finding(by_seq[head_seq][0], head_seq, "edited",
                                        f"record seq {head_seq} does not match the head's hash"))
    findings.sort(key=lambda f: (f.line or 1 << 62, f.kind))
    return len(by_seq), findings
