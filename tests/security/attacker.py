"""A hostile order-entry client, run as its own process by the intrusion tests
(``python -m tests.security.attacker MODE ...``): it prints one JSON object with what the gateway
answered, and exits 0.

Modes:
- guess: N logons with wrong keys (password guessing) from --source; reasons of the refusals.
- flood: establishes, writes N new orders back to back without reading, then reads for --read-s;
  counts of what came back (acks, BMR reasons, Terminate reason).
- cancels: establishes, writes N cancel requests (unknown order ids) back to back: a cancel storm.
- seqabuse: establishes, writes N orders whose seqNums jump by 10 and N retransmit requests.

The session's key comes from $VENUE_SESSION_KEY (never the command line); --hashed says the
config holds its hash (the logon carries a proof).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import time
from typing import Any

from gateway.client import (BusinessMessageReject, Client, ExecutionReport, OrderCancelReject,
                            SessionKey, SessionRejected, Side, Terminate)
from gateway.client.errors import ClientError, ClientTimeout
from gateway.client.orders import OrderRequest
from gateway.reasons import Reason


def _key(args: argparse.Namespace, key: str) -> str | SessionKey:
    return SessionKey(key, args.session) if args.hashed else key


def _guess(args: argparse.Namespace) -> dict[str, Any]:
    reasons = []
    for i in range(args.n):
        try:
            c = Client.connect(args.host, args.port, args.session, args.firm, _key(args, f"wrong-guess-{i:06d}"),
                               source_host=args.source)
            c.close()
            reasons.append("accepted")
        except SessionRejected as exc:
            reasons.append(Reason(exc.reason_code).name)
    return {"reasons": reasons}


def _drain(c: Client, read_s: float) -> dict[str, Any]:
    got: collections.Counter[str] = collections.Counter()
    end = time.monotonic() + read_s
    while time.monotonic() < end:
        try:
            m = c.recv(timeout_s=max(0.01, end - time.monotonic()))
        except ClientTimeout:
            continue
        except ClientError:             # closed by the gateway (after its Terminate)
            got["closed"] += 1
            break
        if isinstance(m, ExecutionReport):
            got[f"er_{m.exec_type.name}"] += 1
        elif isinstance(m, BusinessMessageReject):
            got[f"bmr_{Reason(m.reason_code).name}"] += 1
        elif isinstance(m, OrderCancelReject):
            got["ocr"] += 1
        elif isinstance(m, Terminate):
            got[f"terminate_{Reason(m.reason_code).name}"] += 1
            break
        else:
            got[type(m).__name__] += 1
    return dict(got)


def _session(args: argparse.Namespace) -> Client:
    return Client.connect(args.host, args.port, args.session, args.firm,
                          _key(args, os.environ["VENUE_SESSION_KEY"]), keepalive_ms=30_000,
                          next_seq_no=args.next_seq_no, source_host=args.source)


def _write(c: Client, frames: list[bytes]) -> None:
    try:
        c.sock.sendall(b"".join(frames))
    except OSError:                     # cut off while writing: what came back says why
        pass


def _flood(args: argparse.Namespace) -> dict[str, Any]:
    c = _session(args)
    req = OrderRequest(instrument_id=args.instrument, side=Side.SELL, order_qty=1, account_id=args.account,
                       price=args.price)
    _write(c, [c.core.new_order(req, c.core.cl_ord_id(None)) for _ in range(args.n)])
    return _drain(c, args.read_s)


def _cancels(args: argparse.Namespace) -> dict[str, Any]:
    c = _session(args)
    _write(c, [c.core.cancel(10**12 + i, args.instrument, c.core.cl_ord_id(None)) for i in range(args.n)])
    return _drain(c, args.read_s)


def _seqabuse(args: argparse.Namespace) -> dict[str, Any]:
    c = _session(args)
    req = OrderRequest(instrument_id=args.instrument, side=Side.SELL, order_qty=1, account_id=args.account,
                       price=args.price)
    frames = []
    for _ in range(args.n):
        c.core.next_seq_out += 10       # a gap every time
        frames.append(c.core.new_order(req, c.core.cl_ord_id(None)))
        frames.append(c.core.retransmit_request(1, 1))
    _write(c, frames)
    return _drain(c, args.read_s)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("guess", "flood", "cancels", "seqabuse"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--session", type=int, required=True)
    p.add_argument("--firm", type=int, required=True)
    p.add_argument("--account", type=int, default=1)
    p.add_argument("--instrument", type=int, default=1)
    p.add_argument("--price", type=int, default=10700)
    p.add_argument("--source", default=None, help="local address to connect from, e.g. 127.0.0.2")
    p.add_argument("--hashed", action="store_true")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--read-s", type=float, default=2.0)
    p.add_argument("--next-seq-no", type=int, default=None)
    args = p.parse_args()
    socket.setdefaulttimeout(10)
    out = {"guess": _guess, "flood": _flood, "cancels": _cancels, "seqabuse": _seqabuse}[args.mode](args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
