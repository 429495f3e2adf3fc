"""``python -m gateway audit verify LOG``: checks an audit log's hash chain (audit_chain.py) and
prints each edited, removed, reordered or unreadable record by line and seq. Exit 0 when the chain
is whole, 1 when anything is wrong, 2 for a bad argument or an unreadable file."""
from __future__ import annotations

import argparse
import os
import sys

from gateway.security.audit_chain import verify


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway audit", description="audit log tools")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check the hash chain; name each edited, removed or reordered record")
    v.add_argument("log", help="the audit log (JSON lines); its .head file is read when present")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if os.path.exists(args.log) and not os.path.isfile(args.log):
        # a device or FIFO: /dev/zero was read as one endless line until memory ran out, a FIFO hung
        print(f"audit: {args.log}: not a regular file (an audit log is one)", file=sys.stderr)
        return 2
    try:
        records, findings = verify(args.log)
    except OSError as exc:
        print(f"audit: {args.log}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for f in findings:
        print(f"{args.log}: {f}")
    if findings:
        print(f"{args.log}: {records} records, {len(findings)} problem(s)", file=sys.stderr)
        return 1
    print(f"{args.log}: {records} records, chain whole")
    return 0
