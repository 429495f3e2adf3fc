"""The order path as a client sees it, for bench/journal.py: NewOrderSingle over TCP through the
gateway process to the engine process and the ExecutionReports back, with the engine's journal
off and in each durability mode, on the same CPUs and scheduling in one run.

Load: bench/loadgen.py's open-loop C generator on one FIXP session (IOC buys that never trade:
New + Canceled per order), first as fast as a window of orders in flight allows (the maximum
rate), then at a fixed rate for latency (10k orders/s; 500/s for fsync per command, which cannot
sustain more here), corrected for coordinated omission: from each order's planned send time to
its New. Each mode is run `reps` times in turn, so drifting load falls on every mode alike, and
the median maximum rate is kept.

Placement as bench/wire.py's "paired": the client alone on the first CPU; gateway (epoll,
blocking when idle) and engine (backoff) on the last; the journal's sync thread and segment
maker on the first. Scheduling is SCHED_OTHER by default, unlike bench/wire.py: an msync waits
for kernel threads (the filesystem's journal thread, block I/O completion) on whichever CPU they
are bound to, and with SCHED_FIFO client, gateway and engine on both CPUs those threads run only
when the kernel's real-time throttling (sched_rt_runtime_us) stops the FIFO tasks: single syncs
of 950 ms were measured so. On a host with isolated cores the FIFO threads would not share CPUs
with the kernel's; fifo=True shows the two-CPU effect.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from gateway.client import Client

from loadgen import run_loadgen
from sched_state import fifo_permitted, set_fifo
from gateway import launcher
from loadgen import ONE_SESSION_CONFIG

MODES = ("off", "async", "group", "each")
# Orders in flight for the maximum rate. Group commit holds every ack for a sync (0.1-1 ms
# here), so by Little's law a window of W caps the rate at W / ack latency: 512 would cap it near
# 400k/s, a limit of the load, not of the venue (many clients keep thousands in flight).
WINDOW = 4096


def _venue(mode: str, workdir: Path, engine_cpu: int, gateway_cpu: int, fifo: bool
           ) -> tuple[launcher.Venue, int]:
    name = f"jw{uuid.uuid4().hex[:6]}"
    cfg = workdir / f"gw-{name}.json"
    cfg.write_text(json.dumps(ONE_SESSION_CONFIG))
    journal = [] if mode == "off" else ["--journal", str(workdir / f"journal-wire-{name}"),
                                        "--durability", mode, "--snapshot-every", "0"]
    procs = launcher.Venue(name=name)
    procs.start_engine("--cpu", str(engine_cpu), "--wait", "backoff", "--spin", "20",
                       "--yields", "0", "--fifo", "30" if fifo else "0", "--instruments", "1",
                       "--producers", "2", "--no-mlock", "--event-log-bytes", str(1 << 26),
                       "--cmd-ring-bytes", str(1 << 20), *journal)
    _, port = procs.start_gateway(workdir / f"port-{name}", "--listen", "127.0.0.1:0",
                                  "--config", str(cfg), "--cpu", str(gateway_cpu),
                                  "--idle-spin-us", "0", "--fifo", "20" if fifo else "0",
                                  "--no-latency", "--tx-buffer-bytes", str(1 << 23),
                                  "--out-log-msgs", str(1 << 16))
    return procs, port


def _one_run(mode: str, workdir: Path, cpus: list[int], fifo: bool, max_orders: int,
             rate: int, rate_orders: int) -> dict[str, float]:
    """One venue in `mode`: the maximum rate of max_orders, then rate_orders at `rate`/s."""
    procs, port = _venue(mode, workdir, cpus[-1], cpus[-1], fifo)
    try:
        os.sched_setaffinity(0, {cpus[0]})
        client = Client.connect("127.0.0.1", port, 1, 1, "bench", keepalive_ms=30000)
        if fifo:
            set_fifo(0, 30)
        try:
            run_loadgen(client, 2000, 100_000, 0)           # warm-up
            mx = run_loadgen(client, max_orders, 0, WINDOW)
            fixed = run_loadgen(client, rate_orders, 1_000_000_000 // rate, 0)
        finally:
            set_fifo(0, 0)
            os.sched_setaffinity(0, set(cpus))
        client.terminate()
    finally:
        procs.close()
    res = mx.result
    lost = int(res.sent) - int(res.acked) + int(fixed.result.sent) - int(fixed.result.acked)
    lat = fixed.corrected[fixed.corrected >= 0]
    return {"orders_per_s": int(res.acked) / (res.elapsed_ns / 1e9) if res.elapsed_ns else 0.0,
            "lost": float(lost), "fixed_rate_per_s": float(rate),
            "latency_p50_ns": float(np.percentile(lat, 50)) if len(lat) else 0.0,
            "latency_p99_ns": float(np.percentile(lat, 99)) if len(lat) else 0.0}


def gateway_order_path(quick: bool, reps: int, fifo: bool = False) -> dict[str, dict[str, float]]:
    """mode -> figures (median maximum rate over reps, latency of the first rep). fifo: client,
    gateway and engine SCHED_FIFO (where permitted)."""
    cpus = sorted(os.sched_getaffinity(0))
    fifo = fifo and fifo_permitted()
    max_orders = 200_000 if quick else 1_000_000
    seconds = 1 if quick else 5
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory(prefix="venue-bench-journal-wire-", dir="/var/tmp") as tmp:
        for _ in range(reps):
            for m in MODES:
                # fsync per command runs at the disk's round-trip rate (a few thousand per
                # second here): a shorter stream, and a fixed rate it can sustain
                n, rate = (max_orders, 10_000) if m != "each" else (2_000, 500)
                runs[m].append(_one_run(m, Path(tmp), cpus, fifo, n, rate, rate * seconds))
    out = {}
    for m in MODES:
        by_rate = sorted(runs[m], key=lambda r: r["orders_per_s"])
        out[m] = {**runs[m][0], "orders_per_s": by_rate[len(by_rate) // 2]["orders_per_s"],
                  "orders_per_s_min": by_rate[0]["orders_per_s"],
                  "orders_per_s_max": by_rate[-1]["orders_per_s"],
                  "lost": float(sum(r["lost"] for r in runs[m])),
                  "sched_fifo": 1.0 if fifo else 0.0}
    return out


