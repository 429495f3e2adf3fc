"""bench/wire.py: how fast is the order-entry gateway wire to wire, against a raw TCP echo?

Measures NewOrderSingle sent -> ExecutionReport(New) received over loopback TCP, through the
gateway process (C epoll loop, busy-polling) and the engine process (backoff wait), with an
open-loop (wrk2-style) C load generator in this process: orders go out at planned times whatever
the replies do, and each order's latency is taken from its planned send time (corrected for
coordinated omission) and, for comparison, from its actual send time (uncorrected). Fixed rates
(10k, 50k, 100k orders/s), then the maximum rate one connection sustains with a window of
orders in flight, checking that every order got its New and its final report (nothing lost).
Baseline, same run, same CPUs: native/probe_tcp.c's C TCP ping-pong echo (closed loop, one
message in flight) with the NewOrderSingle frame size. Orders are IOC limit buys priced below
the book so nothing rests: each order gives New + Canceled. The last line is the JSON summary.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram

from gateway.client import Client
from native._venue import ffi, lib
from shm import errors
from shm.engine_segments import control_path, remove_leftovers
from shm.segment import KIND_CONTROL, Segment

NOS_FRAME_BYTES = 6 + 8 + 81
CONFIG = {"firms": [{"firm_id": 1, "accounts": [1]}],
          "sessions": [{"session_id": 1, "firm_id": 1, "key": "bench"}]}


def _wait_for(cond, what: str, deadline_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline_s
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"wire: timed out waiting for {what}")
        time.sleep(0.01)


def _hist(values_ns: np.ndarray) -> HdrHistogram:
    h = HdrHistogram(1, 60_000_000_000, 3)
    for v in values_ns:
        h.record_value(int(max(v, 1)))
    return h


def _pcts(h: HdrHistogram) -> dict[str, int]:
    return {"p50_ns": h.get_value_at_percentile(50), "p99_ns": h.get_value_at_percentile(99),
            "p999_ns": h.get_value_at_percentile(99.9), "max_ns": h.get_max_value(),
            "count": h.get_total_count()}


class Venue:
    """Engine + gateway processes for the run, pinned as the JSON reports."""

    def __init__(self, engine_cpu: int, gateway_cpu: int, gateway_spin: bool, tmp: Path) -> None:
        self.name = f"wire{uuid.uuid4().hex[:6]}"
        cfg = tmp / "gw.json"
        cfg.write_text(json.dumps(CONFIG))
        port_file = tmp / "port"
        self.engine = subprocess.Popen(
            [sys.executable, "-m", "gateway", "engine", "--name", self.name, "--cpu",
             str(engine_cpu), "--wait", "backoff", "--spin", "2000", "--yields", "0",
             "--instruments", "1", "--producers", "2",
             "--no-mlock", "--event-log-bytes", str(1 << 26), "--cmd-ring-bytes", str(1 << 20)],
            stderr=subprocess.PIPE, text=True)
        _wait_for(self._engine_ready, "the engine")
        self.gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway", "gateway", "--engine", self.name, "--listen",
             "127.0.0.1:0", "--config", str(cfg), "--cpu", str(gateway_cpu),
             *(["--busy-poll"] if gateway_spin else []),
             "--port-file", str(port_file), "--tx-buffer-bytes", str(1 << 23),
             "--out-log-msgs", str(1 << 16)],
            stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: port_file.exists() or self.gateway.poll() is not None, "the gateway")
        if self.gateway.poll() is not None:
            raise SystemExit(f"wire: gateway failed: {self.gateway.stderr.read()}")  # type: ignore[union-attr]
        self.port = int(port_file.read_text())

    def _engine_ready(self) -> bool:
        if self.engine.poll() is not None:
            raise SystemExit(f"wire: engine failed: {self.engine.stderr.read()}")  # type: ignore[union-attr]
        try:
            seg = Segment.attach(control_path(self.name), KIND_CONTROL, 0, 2_000_000_000)
        except errors.SegmentError:
            return False
        ok = seg.control().producer_count > 0
        seg.detach()
        return ok

    def close(self) -> str:
        err = ""
        for p in (self.gateway, self.engine):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
            err += p.stderr.read() if p.stderr else ""
        remove_leftovers(self.name)
        return err


def run_load(client: Client, count: int, interval_ns: int, window: int) -> dict[str, object]:
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
    planned = np.empty(count, dtype=np.int64)
    sent = np.empty(count, dtype=np.int64)
    res = ffi.new("gw_loadgen_result_t *")
    client.sock.setblocking(False)
    rc = lib.gw_loadgen_run(cfg, ffi.cast("int64_t *", ffi.from_buffer(planned)),
                            ffi.cast("int64_t *", ffi.from_buffer(sent)), res)
    client.sock.setblocking(True)
    client.core.next_seq_out += int(res.sent)
    client.core.next_cl_ord_id += count
    ok = planned >= 0
    out: dict[str, object] = {
        "rc": rc, "sent": int(res.sent), "acked": int(res.acked), "finished": int(res.finished),
        "refused": int(res.refused), "elapsed_ns": int(res.elapsed_ns),
        "max_send_behind_plan_ns": int(res.max_behind_ns), "send_calls": int(res.send_calls),
        "lost": int(res.sent) - int(res.acked),
    }
    out["achieved_orders_per_s"] = (int(res.acked) / (res.elapsed_ns / 1e9)
                                    if res.elapsed_ns > 0 else 0.0)
    out["corrected"] = _pcts(_hist(planned[ok]))
    out["uncorrected"] = _pcts(_hist(sent[ok]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs: finishes within 60 s")
    ap.add_argument("--seconds", type=float, default=None, help="seconds per fixed rate")
    ap.add_argument("--rates", default="10000,50000,100000")
    ap.add_argument("--engine-cpu", type=int, default=None,
                    help="default: the client's CPU on a 2-core machine (the client blocks)")
    ap.add_argument("--gateway-wait", choices=["spin", "backoff"], default="spin")
    args = ap.parse_args()
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    max_orders = 300_000 if args.quick else 1_000_000
    cpus = sorted(os.sched_getaffinity(0))
    client_cpu = cpus[0]
    gateway_cpu = cpus[-1]
    engine_cpu = args.engine_cpu if args.engine_cpu is not None else (
        cpus[0] if len(cpus) < 3 else cpus[1])
    gateway_spin = args.gateway_wait == "spin"

    rtt = np.zeros(20_000 if args.quick else 100_000, dtype=np.uint64)
    rc = lib.probe_tcp_pingpong(ffi.cast("uint64_t *", ffi.from_buffer(rtt)), len(rtt), 2000,
                                NOS_FRAME_BYTES, client_cpu, gateway_cpu, 5000)
    if rc != 0:
        raise SystemExit(f"wire: echo baseline failed: {os.strerror(-rc)}")
    echo = _pcts(_hist(rtt.astype(np.int64)))

    with tempfile.TemporaryDirectory() as tmp:
        venue = Venue(engine_cpu, gateway_cpu, gateway_spin, Path(tmp))
        try:
            os.sched_setaffinity(0, {client_cpu})
            client = Client.connect("127.0.0.1", venue.port, 1, 1, "bench", keepalive_ms=30000)
            run_load(client, 2000, 100_000, 0)          # warm-up: caches, page faults, branch
            results: dict[str, dict[str, object]] = {}
            for rate in [int(r) for r in args.rates.split(",")]:
                results[f"rate_{rate}"] = run_load(client, int(rate * seconds),
                                                   1_000_000_000 // rate, 0)
            results["max_rate"] = run_load(client, max_orders, 0, 512)
            client.terminate()
        finally:
            os.sched_setaffinity(0, set(cpus))
            gw_err = venue.close()

    print(f"wire-to-wire NewOrderSingle -> ExecutionReport(New), loopback TCP; "
          f"client cpu {client_cpu} (ppoll), gateway cpu {gateway_cpu} ({args.gateway_wait}), "
          f"engine cpu {engine_cpu} (backoff)")
    hdr = f"{'run':<14}{'orders/s':>12}{'lost':>6}{'P50 us':>9}{'P99 us':>9}{'P99.9 us':>10}" \
          f"{'max us':>10}{'P50/echo':>10}{'P99/echo':>10}  (uncorrected P50/P99 us)"
    print(hdr)
    print(f"{'tcp echo':<14}{'closed':>12}{0:>6}{echo['p50_ns'] / 1e3:>9.1f}"
          f"{echo['p99_ns'] / 1e3:>9.1f}{echo['p999_ns'] / 1e3:>10.1f}{echo['max_ns'] / 1e3:>10.1f}")
    ratios: dict[str, float] = {}
    for name, r in results.items():
        c, u = r["corrected"], r["uncorrected"]
        assert isinstance(c, dict) and isinstance(u, dict)
        p50r = c["p50_ns"] / echo["p50_ns"]
        p99r = c["p99_ns"] / echo["p99_ns"]
        ratios[f"{name}_p50_to_echo"] = round(p50r, 3)
        ratios[f"{name}_p99_to_echo"] = round(p99r, 3)
        print(f"{name:<14}{r['achieved_orders_per_s']:>12.0f}{r['lost']:>6}"
              f"{c['p50_ns'] / 1e3:>9.1f}{c['p99_ns'] / 1e3:>9.1f}{c['p999_ns'] / 1e3:>10.1f}"
              f"{c['max_ns'] / 1e3:>10.1f}{p50r:>10.2f}{p99r:>10.2f}  "
              f"({u['p50_ns'] / 1e3:.1f} / {u['p99_ns'] / 1e3:.1f})")
    stopped = [line for line in gw_err.splitlines() if "stopped" in line]
    for line in stopped:
        print(line)
    machine = {"cores": len(cpus), "platform": platform.platform(),
               "client_cpu": client_cpu, "gateway_cpu": gateway_cpu, "engine_cpu": engine_cpu,
               "client_wait": "ppoll (blocking, 1 ns timer slack)", "gateway_wait": "busy-poll" if gateway_spin else "epoll backoff",
               "engine_wait": "backoff: 2000 idle polls, then futex sleep (no yields: it shares the "
                              "client's core)", "echo_wait": "blocking recv",
               "tcp_nodelay": True, "tuning": "none applied by this bench"}
    print(json.dumps({"bench": "wire", "machine": machine, "metrics": results,
                      "baselines": {"tcp_echo_rtt": echo}, "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
