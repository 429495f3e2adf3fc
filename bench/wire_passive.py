"""bench/wire_passive.py: how late is a passive fill's ExecutionReport on an idle connection?

A market maker's resting order is filled by someone else's order. Its gateway did not cause the
event, so it learns of it only from the engine's event log; when that gateway is idle it is
blocked in epoll_wait. With the event-log doorbell (native/gateway/gw_waker.c) the engine's publish ends
the wait; without it (--no-event-doorbell) the report waits for the next --idle-sleep-ms timeout
(1 ms). Both are measured in the same run, iterations alternating between two maker gateways
(one with, one without the doorbell) so that both see the same machine load.

Set-up: one engine (backoff wait) and three gateway processes (epoll backoff, 1 ms idle sleep):
maker gateway "doorbell", maker gateway "no doorbell", and the taker's gateway. Scheduling: with
--sched fifo (default where permitted) client 30, gateways 20 (the waker thread inherits it),
engine 10, gateway idle spin 0 (an RT spin is RT time); with --sched other, SCHED_OTHER and a
50 us idle spin. Measured on the shared 2-vCPU VM under SCHED_OTHER every wake-up of a process
waits for a busy CPU (about 1 ms at load 2+), which hides the 0-1 ms timeout this is about.
Each iteration: the maker rests a sell of 1 lot and gets its New; the bench pauses 2-3 ms (both
maker gateways are then blocked in epoll_wait); t0; the taker sends an IOC buy that crosses;
t1 = the maker's Trade report received. Measured: t1 - t0 (aggressor's order sent -> resting
side's report received), and for reference the taker's own Trade report (its gateway was woken by
its socket). Clients are this Python process (sync client, one thread): the figures include its
overhead, the same for both. `python bench/wire.py --passive-fill` runs this too. Last line: JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram

from gateway.cli_numbers import positive_int
from gateway.client import Client, ExecType, ExecutionReport, Side, TimeInForce

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sched_state import fifo_permitted, set_fifo  # noqa: E402
from gateway import launcher  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

CONFIG = {"firms": [{"firm_id": 1, "accounts": [1]}, {"firm_id": 2, "accounts": [2]}],
          "sessions": [{"session_id": 1, "firm_id": 1, "key": "maker"},
                       {"session_id": 2, "firm_id": 2, "key": "taker"}]}
MODES = ("doorbell", "no_doorbell")
PRICE = 10000


class Venue:
    """The engine and the three gateways; close() stops them and returns their stderr."""

    def __init__(self, tmp: Path, engine_fifo: int, gateway_fifo: int, idle_spin_us: int) -> None:
        self.name = f"wpf{uuid.uuid4().hex[:6]}"
        cfg = tmp / "gw.json"
        cfg.write_text(json.dumps(CONFIG))
        self.procs = launcher.Venue(name=self.name)
        self.procs.start_engine("--wait", "backoff", "--instruments", "1", "--producers", "3",
                                "--no-mlock", "--fifo", str(engine_fifo))
        self.ports: dict[str, int] = {}
        for role, extra in (("doorbell", []), ("no_doorbell", ["--no-event-doorbell"]),
                            ("taker", [])):
            _, self.ports[role] = self.procs.start_gateway(
                tmp / f"port-{role}", "--listen", "127.0.0.1:0", "--config", str(cfg),
                "--idle-spin-us", str(idle_spin_us), "--idle-sleep-ms", "1", "--no-latency",
                "--fifo", str(gateway_fifo), *extra, role=f"gateway {role}")

    def close(self) -> str:
        return self.procs.close()


_SPIN = ("import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])}); "
         "os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\nwhile True: pass")


def _keep_awake() -> list[subprocess.Popen[bytes]]:
    """One SCHED_IDLE spinner per CPU: an idle vCPU halts, and on a VM waking a halted vCPU
    costs a host reschedule (hundreds of us measured here), which is not what this measures."""
    return [subprocess.Popen([sys.executable, "-c", _SPIN, str(cpu)])
            for cpu in sorted(os.sched_getaffinity(0))]


def _trade(c: Client) -> None:
    c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == ExecType.TRADE)


def _summary(values_ns: list[int]) -> dict[str, float]:
    h = HdrHistogram(1, 60_000_000_000, 3)
    for v in values_ns:
        h.record_value(max(v, 1))
    return {"p50_ns": h.get_value_at_percentile(50), "p99_ns": h.get_value_at_percentile(99),
            "max_ns": h.get_max_value(), "mean_ns": round(float(np.mean(values_ns)), 1),
            "count": len(values_ns)}


def main(argv: list[str] | None = None) -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations: within 60 s")
    ap.add_argument("--iterations", type=positive_int, default=None, help="per mode (default 1000, quick 200)")
    ap.add_argument("--sched", choices=["fifo", "other"], default=None,
                    help="fifo (default where permitted): client 30, gateways 20, engine 10")
    ap.add_argument("--keep-awake", action="store_true",
                    help="run a SCHED_IDLE busy loop on every CPU during the run, so that no vCPU "
                         "halts between iterations (any other task preempts it at once)")
    args = ap.parse_args(argv)
    sched = args.sched or ("fifo" if fifo_permitted() else "other")
    if sched == "fifo" and not fifo_permitted():
        raise SystemExit("wire_passive: --sched fifo: SCHED_FIFO is not permitted for this user")
    prio = {"client": 30, "gateway": 20, "engine": 10} if sched == "fifo" else \
        {"client": 0, "gateway": 0, "engine": 0}
    idle_spin_us = 0 if sched == "fifo" else 50
    n = args.iterations or (200 if args.quick else 1000)
    if n < 1:
        raise SystemExit("wire_passive: --iterations must be >= 1")
    load_before = os.getloadavg()
    passive: dict[str, list[int]] = {m: [] for m in MODES}
    aggressor: dict[str, list[int]] = {m: [] for m in MODES}
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        venue = Venue(Path(tmp), prio["engine"], prio["gateway"], idle_spin_us)
        awake = _keep_awake() if args.keep_awake else []
        try:
            set_fifo(0, prio["client"])
            makers = {m: Client.connect("127.0.0.1", venue.ports[m], 1, 1, "maker",
                                        keepalive_ms=30000) for m in MODES}
            taker = Client.connect("127.0.0.1", venue.ports["taker"], 2, 2, "taker",
                                   keepalive_ms=30000)
            for i in range(n * len(MODES) + 20):          # 20 warm-up iterations, not recorded
                mode = MODES[i % 2]
                maker = makers[mode]
                cid = maker.new_order(1, Side.SELL, 1, 1, price=PRICE)
                maker.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == cid)
                time.sleep(0.002 + rng.random() * 0.001)   # both maker gateways go to sleep
                t0 = time.perf_counter_ns()
                taker.new_order(1, Side.BUY, 1, 2, price=PRICE,
                                time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
                _trade(maker)
                t1 = time.perf_counter_ns()
                _trade(taker)
                t2 = time.perf_counter_ns()
                if i >= 20:
                    passive[mode].append(t1 - t0)
                    aggressor[mode].append(t2 - t0)
            for c in (*makers.values(), taker):
                c.terminate()
        finally:
            set_fifo(0, 0)
            for p in awake:
                p.kill()
                p.wait()
            err = venue.close()
    load_after = os.getloadavg()
    metrics = {m: {"passive_fill": _summary(passive[m]),
                   "aggressor_report_incl_passive": _summary(aggressor[m])} for m in MODES}
    print("passive fill: taker's IOC sent (its own gateway) -> maker's Trade report received on "
          "an idle second gateway; loopback TCP, sync Python clients in one thread")
    print(f"gateways: epoll backoff ({idle_spin_us} us idle spin, then epoll_wait up to 1 ms), "
          f"not pinned; sched {sched} {prio if sched == 'fifo' else ''}; engine backoff; "
          f"{'SCHED_IDLE spinner per CPU' if args.keep_awake else 'CPUs may halt when idle'}; {os.cpu_count()} CPUs; load average before/after "
          f"{load_before[0]:.2f}/{load_after[0]:.2f} (other work on these cores)")
    print(f"{'maker gateway':<16}{'n':>6}{'P50 us':>9}{'P99 us':>9}{'max us':>9}{'mean us':>9}"
          f"   aggressor's own report P50/P99 us (read after the maker's)")
    for m in MODES:
        p, a = metrics[m]["passive_fill"], metrics[m]["aggressor_report_incl_passive"]
        print(f"{m.replace('_', ' '):<16}{p['count']:>6}{p['p50_ns'] / 1e3:>9.1f}"
              f"{p['p99_ns'] / 1e3:>9.1f}{p['max_ns'] / 1e3:>9.1f}{p['mean_ns'] / 1e3:>9.1f}"
              f"   {a['p50_ns'] / 1e3:.1f}/{a['p99_ns'] / 1e3:.1f}")
    for line in err.splitlines():
        if "doorbell wakes" in line:
            print(line)
    d, nd = metrics["doorbell"]["passive_fill"], metrics["no_doorbell"]["passive_fill"]
    ratios = {"p50_doorbell_to_no_doorbell": round(d["p50_ns"] / nd["p50_ns"], 3),
              "p99_doorbell_to_no_doorbell": round(d["p99_ns"] / nd["p99_ns"], 3),
              "mean_doorbell_to_no_doorbell": round(d["mean_ns"] / nd["mean_ns"], 3)}
    machine = {"cores": os.cpu_count(), "platform": platform.platform(), "pinning": "none",
               "keep_awake": "SCHED_IDLE spinner per CPU" if args.keep_awake else "no",
               "sched": sched, "fifo_priorities": prio if sched == "fifo" else None,
               "gateway_wait": f"epoll backoff ({idle_spin_us} us spin, 1 ms sleep)",
               "engine_wait": "backoff (defaults)", "clients": "sync Python, one thread",
               "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)]}
    print(json.dumps({"bench": "wire_passive", "machine": machine, "metrics": metrics,
                      "baselines": {"no_doorbell_passive_fill": nd}, "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(launcher.run_main(main, "wire_passive"))
