"""bench/rings.py: how close do our rings and the engine process come to the machine's limit?

Latency (round trip, ns, P50/P99/P99.9, each also as a ratio to (a)):
  (a) raw cache-line ping-pong between two pinned processes (the physical limit here);
  (b) the same exchange through two of our SPSC rings (8-byte payloads);
  (c) a C producer submitting a NEW_ORDER through the engine process (busy-spin, pinned) and
      reading its reply; (d) the same from a Python producer (EngineClient.submit_bytes, timed
      in Python around each call).
Throughput: records/s through one SPSC ring (producer and consumer processes), and through the
broadcast log with three reader processes (unthrottled writer: readers may be lapped, and the
figures say how often).
On a 2-core machine CPUs 0 and 1 are used and the three broadcast readers share cores with the
writer; the JSON says so. Load is closed-loop ping-pong (one message in flight), so there is no
queueing for coordinated omission to hide. The last line is the JSON summary.
"""
from __future__ import annotations

import argparse
import json
import mmap
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gateway.cli_numbers import cpu_pair  # noqa: E402
from gateway import launcher  # noqa: E402
from native import records  # noqa: E402
from native._venue import ffi, lib  # noqa: E402
from native.messages import NewOrder  # noqa: E402
from shm.client import EngineClient  # noqa: E402
from shm.probe import cacheline_pingpong_ns, ring_pingpong_ns  # noqa: E402
from shm.segment import KIND_BROADCAST, KIND_SPSC, Segment, segment_path  # noqa
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

PCTS = (50, 99, 99.9)


def pcts(ns: np.ndarray) -> dict[str, float]:
    p = np.percentile(ns, PCTS)
    return {"p50_ns": float(p[0]), "p99_ns": float(p[1]), "p999_ns": float(p[2]),
            "samples": int(len(ns))}


def engine_latency(samples: int, cpus: tuple[int, int]) -> tuple[dict, dict]:
    venue = launcher.Venue(prefix="bench")
    name = venue.name
    venue.start_engine("--cpu", str(cpus[0]), "--wait", "spin", "--producers", "2", "--instruments", "1",
                       "--max-orders", "100000", deadline_s=60)
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpus[1]})
    try:
        with EngineClient(name, spin=True) as client:
            rtt = np.zeros(samples, dtype=np.uint64)
            types = np.zeros(samples, dtype=np.uint16)
            rc = lib.ring_probe_engine_rtt(client.handle, 1, 10000, 1, 0, 1, ffi.cast(
                "uint64_t *", ffi.from_buffer(rtt)), ffi.cast("uint16_t *", ffi.from_buffer(types)),
                samples, 2000, 5_000_000_000)
            if rc != 0:
                raise RuntimeError(f"engine probe failed: {rc}")
            accepted = float(np.mean(types == int(records.EvtType.ACCEPTED)))
            c_stats = pcts(rtt) | {"accepted_fraction": accepted}
            py = np.zeros(samples, dtype=np.int64)
            cmds = records.encode_commands([
                NewOrder(instrument_id=1, order_id=10_000_000 + i, price=10000, qty=1, side=1 + (i % 2),
                         ord_type=1, tif=1)
                for i in range(samples + 2000)])
            blobs = [cmds[i].tobytes() for i in range(len(cmds))]
            clock = time.perf_counter_ns
            for i, blob in enumerate(blobs):
                t0 = clock()
                client.submit_bytes(blob)
                t1 = clock()
                if i >= 2000:
                    py[i - 2000] = t1 - t0
            py_stats = pcts(py)
    finally:
        os.sched_setaffinity(0, before)
        venue.close()
    return c_stats, py_stats


def spsc_throughput(n: int, cpus: tuple[int, int]) -> dict:
    path = segment_path(f"tp{os.getpid()}", "spsc")
    seg = Segment.create(path, KIND_SPSC, 1 << 16)
    try:
        pid = os.fork()
        if pid == 0:
            os.sched_setaffinity(0, {cpus[1]})
            r = ffi.new("ring_spsc_t *")
            lib.ring_spsc_init(r, Segment.attach(path, KIND_SPSC).handle)
            res = ffi.new("ring_stress_result_t *")
            lib.ring_stress_spsc_produce(r, n, 96, 96, 10_000_000_000, res)
            os._exit(0 if res.rc == 0 else 1)
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpus[0]})
        r = ffi.new("ring_spsc_t *")
        lib.ring_spsc_init(r, seg.handle)
        res = ffi.new("ring_stress_result_t *")
        lib.ring_stress_spsc_consume(r, n, 96, 96, 10_000_000_000, res)
        os.sched_setaffinity(0, before)
        os.waitpid(pid, 0)
        ok = res.rc == 0 and res.records == n and res.corrupt == 0 and res.out_of_order == 0
        return {"records": int(res.records), "payload_bytes": 96, "ok": bool(ok),
                "records_per_s": res.records / (res.elapsed_ns / 1e9)}
    finally:
        seg.close()


def bcast_throughput(n: int, cpus: tuple[int, int]) -> dict:
    path = segment_path(f"tp{os.getpid()}", "bcast")
    seg = Segment.create(path, KIND_BROADCAST, 1 << 22)
    area = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED)
    out = np.frombuffer(area, dtype=np.uint64)
    kids = []
    try:
        for i in range(3):
            pid = os.fork()
            if pid == 0:
                os.sched_setaffinity(0, {cpus[(i + 1) % 2]})
                rx = ffi.new("ring_bcast_rx_t *")
                lib.ring_bcast_rx_init(rx, Segment.attach(path, KIND_BROADCAST).handle)
                out[64 + i] = 1
                res = ffi.new("ring_stress_result_t *")
                lib.ring_stress_bcast_receive(rx, n, 96, 96, ffi.NULL, 0, 3_000_000_000, res)
                for j, v in enumerate((res.records, res.lapped, res.skipped, res.corrupt,
                                       res.elapsed_ns)):
                    out[8 * i + j] = v
                os._exit(0)
            kids.append(pid)
        while not all(out[64 + i] == 1 for i in range(3)):
            time.sleep(0.001)
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpus[0]})
        tx = ffi.new("ring_bcast_tx_t *")
        lib.ring_bcast_tx_init(tx, seg.handle)
        res = ffi.new("ring_stress_result_t *")
        lib.ring_stress_bcast_transmit(tx, n, 96, 96, ffi.NULL, 0, 0, 0, 10_000_000_000, res)
        os.sched_setaffinity(0, before)
        for pid in kids:
            os.waitpid(pid, 0)
        readers = [{"records": int(out[8 * i]), "lapped": int(out[8 * i + 1]),
                    "skipped": int(out[8 * i + 2]), "corrupt": int(out[8 * i + 3]),
                    "records_per_s": float(out[8 * i] / (out[8 * i + 4] / 1e9))
                    if out[8 * i + 4] else 0.0} for i in range(3)]
        return {"records": n, "payload_bytes": 96,
                "writer_records_per_s": res.records / (res.elapsed_ns / 1e9), "readers": readers}
    finally:
        seg.close()


def machine(cpus: tuple[int, int]) -> dict:
    return {"cores": os.cpu_count(), "cpus_pinned": list(cpus), "kernel": platform.release(),
            "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                               if l.startswith("model name")), "unknown"),
            "wait": "spin (probes, engine --wait spin, client spins)",
            "pinning": f"(a),(b): ping side cpu {cpus[0]}, pong side cpu {cpus[1]}; (c),(d): engine "
                       f"cpu {cpus[0]}, producer cpu {cpus[1]}",
            "broadcast_readers_share_cores": (os.cpu_count() or 1) < 4,
            "tuning": "none applied (see python -m tuning audit)",
            "note": "2-core VM shared with other work: tails include interference"}


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples: finishes within 60 s")
    ap.add_argument("--cpus", type=cpu_pair, default="0,1", help="two CPUs: ping/engine side, pong/producer side")
    args = ap.parse_args()
    cpus = args.cpus
    samples = 50_000 if args.quick else 500_000
    eng_samples = 20_000 if args.quick else 200_000
    tp_n = 2_000_000 if args.quick else 10_000_000

    a = pcts(cacheline_pingpong_ns(samples, cpus))
    b = pcts(ring_pingpong_ns(samples, cpus))
    c, d = engine_latency(eng_samples, cpus)
    spsc = spsc_throughput(tp_n, cpus)
    bc = bcast_throughput(tp_n // 2, cpus)

    rows = [("(a) cache-line ping-pong", a), ("(b) SPSC ring ping-pong", b),
            ("(c) C producer -> engine -> reply", c), ("(d) Python producer -> engine", d)]
    print(f"{'round trip (ns)':36} {'P50':>9} {'P99':>9} {'P99.9':>9}   x(a) P50/P99/P99.9")
    for label, s in rows:
        r = [s[k] / a[k] for k in ("p50_ns", "p99_ns", "p999_ns")]
        print(f"{label:36} {s['p50_ns']:9.0f} {s['p99_ns']:9.0f} {s['p999_ns']:9.0f}   "
              f"{r[0]:.2f} / {r[1]:.2f} / {r[2]:.2f}")
    print(f"\nSPSC throughput (96-byte payloads): {spsc['records_per_s']:,.0f} records/s")
    print(f"broadcast writer (3 readers, unthrottled): {bc['writer_records_per_s']:,.0f} records/s")
    for i, r in enumerate(bc["readers"]):
        print(f"  reader {i}: {r['records']:,} received, {r['lapped']} laps, {r['skipped']:,} "
              f"skipped, {r['corrupt']} corrupt, {r['records_per_s']:,.0f} records/s")
    ratios = {}
    for key, s in (("spsc_ring", b), ("engine_c", c), ("engine_python", d)):
        for p in ("p50", "p99", "p999"):
            ratios[f"{key}_{p}_over_cacheline"] = s[f"{p}_ns"] / a[f"{p}_ns"]
    print(json.dumps({
        "bench": "rings", "machine": machine(cpus),
        "metrics": {"spsc_ring_rtt": b, "engine_c_rtt": c, "engine_python_rtt": d,
                    "spsc_throughput": spsc, "broadcast_throughput": bc,
                    "targets": {"spsc_p50_within_1_5x": b["p50_ns"] <= 1.5 * a["p50_ns"],
                                "engine_c_p99_under_1us": c["p99_ns"] < 1000,
                                "engine_python_p99_under_10us": d["p99_ns"] < 10000}},
        "baselines": {"cacheline_rtt": a}, "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(launcher.run_main(main, "rings"))
