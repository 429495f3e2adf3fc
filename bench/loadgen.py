"""One run of the open-loop C load generator (native/bench/gw_loadgen.c) on a connected client's
session, as the wire-to-wire benches drive it: IOC limit buys on instrument 1, account 1, priced
far below the reference price (10000), so that each order gives New + Canceled and never trades.
Orders go out at planned times whatever the replies do (wrk2-style)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.client import Client
from native._venue import ffi, lib

# One firm with account 1 and its session 1 (key "bench"): the gateway config of the load benches.
ONE_SESSION_CONFIG = {"firms": [{"firm_id": 1, "accounts": [1]}],
                      "sessions": [{"session_id": 1, "firm_id": 1, "key": "bench"}]}


@dataclass
class LoadRun:
    rc: int                 # gw_loadgen_run: 0 when every order got its New and final report
    result: Any             # gw_loadgen_result_t: sent, acked, finished, elapsed_ns, ...
    corrected: np.ndarray   # per order: ns from its planned send time to its New (-1: none)
    uncorrected: np.ndarray  # per order: ns from its actual send time to its New (-1: none)


def run_loadgen(client: Client, count: int, interval_ns: int, window: int) -> LoadRun:
    """count orders, one every interval_ns (0: as fast as `window` orders in flight allow). The
    client's sequence numbers and clOrdIds move past what was sent, so it stays usable after."""
    cfg = ffi.new("gw_loadgen_cfg_t *")
    cfg.fd = client.sock.fileno()
    cfg.count = count
    cfg.interval_ns = interval_ns
    cfg.window = window
    cfg.batch_max = 64
    cfg.first_seq = client.core.next_seq_out
    cfg.first_cl_ord_id = client.core.next_cl_ord_id
    cfg.instrument_id = 1
    cfg.account_id = 1
    cfg.price = 5000                   # far below the reference 10000: an IOC that never trades
    cfg.side = 1
    cfg.timeout_ms = 5000
    cfg.tls = getattr(client.sock, "handle", ffi.NULL)   # bench/wire_tls.py's TLS session
    planned = np.empty(count, dtype=np.int64)
    sent = np.empty(count, dtype=np.int64)
    res = ffi.new("gw_loadgen_result_t *")
    client.sock.setblocking(False)     # the generator drives the socket with its own ppoll
    rc = lib.gw_loadgen_run(cfg, ffi.cast("int64_t *", ffi.from_buffer(planned)),
                            ffi.cast("int64_t *", ffi.from_buffer(sent)), res)
    client.sock.setblocking(True)
    client.core.next_seq_out += int(res.sent)
    client.core.next_cl_ord_id += count
    return LoadRun(int(rc), res, planned, sent)
