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
import re
import tempfile
import uuid
from pathlib import Path

import numpy as np

from gateway.client import Client

from disk_sync import MECHANISMS, DeviceCounters, DiskSamples

from loadgen import run_loadgen
from sched_state import fifo_permitted, set_fifo
from gateway import launcher
from gateway.control.up import GROUP_INLINE_MAX, engine_wait_args
from gateway.latency.venue import snapshot_venue
from loadgen import ONE_SESSION_CONFIG

MODES = ("off", "async", "group", "each")
# Orders in flight for the maximum rate. Group commit holds every ack for a sync (0.1-1 ms
# here), so by Little's law a window of W caps the rate at W / ack latency: 512 would cap it near
# 400k/s, a limit of the load, not of the venue (many clients keep thousands in flight).
WINDOW = 4096


def _venue(mode: str, workdir: Path, engine_cpu: int, gateway_cpu: int, fifo: bool,
           engine_extra: tuple[str, ...] = (), latency: bool = False
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
                       "--cmd-ring-bytes", str(1 << 20), *journal, *engine_extra)
    _, port = procs.start_gateway(workdir / f"port-{name}", "--listen", "127.0.0.1:0",
                                  "--config", str(cfg), "--cpu", str(gateway_cpu),
                                  "--idle-spin-us", "0", "--fifo", "20" if fifo else "0",
                                  *(() if latency else ("--no-latency",)),
                                  "--tx-buffer-bytes", str(1 << 23),
                                  "--out-log-msgs", str(1 << 16))
    return procs, port


def _default_venue(workdir: Path) -> tuple[launcher.Venue, int]:
    """The venue as `python -m gateway up` runs it with its default config: the engine's wait
    strategy from up (engine_wait_args), group commit with up's inline sync of a lone group
    (GROUP_INLINE_MAX), nothing pinned, the gateway with its
    defaults and its flow store; only the sessions are the bench's."""
    name = f"jd{uuid.uuid4().hex[:6]}"
    cfg = workdir / f"gw-{name}.json"
    cfg.write_text(json.dumps(ONE_SESSION_CONFIG))
    procs = launcher.Venue(name=name)
    procs.start_engine(*engine_wait_args("backoff"), "--instruments", "1", "--producers", "2",
                       "--no-mlock", "--journal", str(workdir / f"journal-{name}"),
                       "--durability", "group", "--group-inline-max", str(GROUP_INLINE_MAX))
    _, port = procs.start_gateway(workdir / f"port-{name}", "--listen", "127.0.0.1:0",
                                  "--config", str(cfg),
                                  "--state-file", str(workdir / f"gateway-{name}.state"))
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
    max_orders = 100_000 if quick else 1_000_000
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




# ---- Durable ack of a lone order, beside the disk's own durable write and the TCP echo ----------

LONE_INTERVAL_NS = 3_000_000     # one order every 3 ms: each ack is alone (no group to share)
# group: every group handed to the SCHED_FIFO sync thread (the default); group-inline: a lone
# order's group synced on the engine thread itself (--group-inline-max 8), two wake-ups fewer.
# These run with the bench's placement (client on the first CPU, gateway and engine pinned to
# the last). default: the default venue as `up` runs it (_default_venue), group commit.
LONE_VARIANTS = (("off", ()), ("async", ()), ("group", ()),
                 ("group-inline", ("--group-inline-max", "8")), ("each", ()), ("default", ()))
NOS_FRAME_BYTES = 6 + 8 + 81     # SOFH + SBE header + NewOrderSingle
LONE_BASELINE = "journal_writeback_flush_lone"


def _pcts(values_ns: np.ndarray) -> dict[str, float]:
    v = values_ns[values_ns >= 0]
    return {"p50_ns": float(np.percentile(v, 50)) if len(v) else 0.0,
            "p99_ns": float(np.percentile(v, 99)) if len(v) else 0.0}


def tcp_echo(cpus: list[int], samples: int) -> dict[str, float]:
    """native/bench/probe_tcp.c's C ping-pong of a NewOrderSingle-sized payload, client on the
    first CPU and echo on the last (the gateway's placement here)."""
    from native._venue import ffi, lib
    rtt = np.zeros(samples, dtype=np.uint64)
    rc = lib.probe_tcp_pingpong(ffi.cast("uint64_t *", ffi.from_buffer(rtt)), samples, 500,
                                NOS_FRAME_BYTES, cpus[0], cpus[-1], 5000)
    if rc != 0:
        raise SystemExit(f"journal_wire: echo baseline failed: {os.strerror(-rc)}")
    return _pcts(rtt.astype(np.int64))


def _lone_run(variant: str, extra: tuple[str, ...], workdir: Path, cpus: list[int],
              n: int) -> dict[str, float]:
    """n lone orders through one venue of `variant`: the client's planned-send-to-New percentiles
    and the engine's own matched-to-published stage (the journal's sync path for a journaled
    mode: group close, sync, release; from the venue's latency region); the device's write
    requests (a cache flush counts as one here too) and flushes per order over the run (-1: the
    journal's device is not in /proc/diskstats)."""
    default = variant == "default"
    # A lone-order run writes under 1 MB of journal: small segments and one spare, so each
    # venue's start does not write 256 MiB of zeros first (the default venue keeps up's).
    small = () if variant == "off" else ("--segment-mb", "8", "--journal-spares", "1")
    procs, port = (_default_venue(workdir) if default else
                   _venue(variant.split("-")[0], workdir, cpus[-1], cpus[-1], False,
                          (*extra, *small), latency=True))
    try:
        if not default:
            os.sched_setaffinity(0, {cpus[0]})
        client = Client.connect("127.0.0.1", port, 1, 1, "bench", keepalive_ms=30000)
        try:
            run_loadgen(client, LONE_WARMUP, LONE_INTERVAL_NS, 0)
            before = snapshot_venue(procs.name)
            counters = DeviceCounters(workdir)
            dev_before = counters.read() if counters.found else None
            run = run_loadgen(client, n, LONE_INTERVAL_NS, 0)
            dev_after = counters.read() if counters.found else None
            stages = snapshot_venue(procs.name).minus(before)
        finally:
            os.sched_setaffinity(0, set(cpus))
        client.terminate()
    finally:
        stderr = procs.close()
    sync = stages.get("matched_to_published").percentiles_ns((50.0, 99.0))
    dev = ((-1.0, -1.0) if dev_before is None or dev_after is None else
           ((dev_after[0] - dev_before[0]) / n, (dev_after[1] - dev_before[1]) / n))
    return {**_pcts(run.corrected), "lost": float(int(run.result.sent) - int(run.result.acked)),
            "sync_path_p50_ns": float(sync[50.0]), "sync_path_p99_ns": float(sync[99.0]),
            "device_writes_per_order": dev[0], "device_flushes_per_order": dev[1],
            **_sync_means(stderr, n + LONE_WARMUP)}


LONE_WARMUP = 50                    # orders before the measured ones, each run


def _sync_means(stderr: str, orders: int) -> dict[str, float]:
    """From the stop lines of the venue's processes: the engine's mean journal sync (the sync
    itself, timed by the engine around it, warm-up included), the gateway's mean flow-store
    sync (before bytes leave; 0 without a store), and whether each was made by writeback + the
    device's cache flush (1.0) or msync (0.0); the gateway's flow-store syncs per order over
    its whole run (the orders it was sent, warm-up included)."""
    out = {"engine_sync_mean_ns": 0.0, "store_sync_mean_ns": 0.0, "store_sync_max_ns": 0.0,
           "journal_sync_fast": 0.0, "store_sync_fast": 0.0, "store_syncs_per_order": 0.0}
    # 1.0: synced by writeback + the device's cache flush (native/journal/jrnl_durable.c)
    fast = "writeback + device flush"
    out["journal_sync_fast"] = float(f"command journal synced by {fast}" in stderr)
    out["store_sync_fast"] = float(re.search(r"flow store syncs \([^)]*by " + re.escape(fast),
                                             stderr) is not None)
    m = re.search(r"journal time: (\d+) us per sync", stderr)
    if m:
        out["engine_sync_mean_ns"] = float(m.group(1)) * 1e3
    m = re.search(r"(\d+) flow store syncs \(\d+ failed, (\d+) us each, longest (\d+) us[,)]",
                  stderr)
    if m and int(m.group(1)):
        out["store_syncs_per_order"] = int(m.group(1)) / orders
        out["store_sync_mean_ns"] = float(m.group(2)) * 1e3
        out["store_sync_max_ns"] = float(m.group(3)) * 1e3
    return out


def lone_order_acks(quick: bool, directory: str | None = None,
                    orders: int | None = None) -> dict[str, object]:
    """Durable ack of a lone order per durability mode (one IOC order every 3 ms through the
    gateway; from its planned send to its New, which leaves only once the order's record is
    durable as the mode says), beside the disk's own durable 4 KiB write (per mechanism,
    bench/disk_sync.py) and the TCP echo, all measured in this one call; ratios of each mode's
    P50 and P99 to the disk's and the echo's. The disk is sampled in slices before, between and
    after the variants, so its figure covers the same stretch of time (and load) as theirs."""
    cpus = sorted(os.sched_getaffinity(0))
    n = orders or (300 if quick else 2000)
    out: dict[str, object] = {"loadavg_1m_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="venue-bench-lone-ack-",
                                     dir=directory or "/var/tmp") as tmp:
        disk = DiskSamples(Path(tmp))
        slice_rounds = -(-n // (len(LONE_VARIANTS) + 1))
        echo = tcp_echo(cpus, 5000 if quick else 20000)
        modes: dict[str, dict[str, float]] = {}
        for m, extra in LONE_VARIANTS:
            disk.extend(slice_rounds)
            modes[m] = _lone_run(m, extra, Path(tmp), cpus, n if m != "each" else n // 3)
        disk.extend(slice_rounds)
    disk_pcts = disk.percentiles()
    d = disk_pcts["odirect_dsync_4k"]
    # The like-for-like baseline: a journal append after the lone orders' idle gap, made durable
    # the fastest way found (data writeback + cache flush; disk_sync.py)
    lone = disk_pcts[LONE_BASELINE]
    for m, r in modes.items():
        r["p50_over_lone_disk"] = r["p50_ns"] / lone["p50_ns"] if lone["p50_ns"] else 0.0
        r["p99_over_lone_disk"] = r["p99_ns"] / lone["p99_ns"] if lone["p99_ns"] else 0.0
        r["sync_path_p50_over_lone_disk"] = (r["sync_path_p50_ns"] / lone["p50_ns"]
                                             if lone["p50_ns"] else 0.0)
        r["sync_path_p99_over_lone_disk"] = (r["sync_path_p99_ns"] / lone["p99_ns"]
                                             if lone["p99_ns"] else 0.0)
        r["p50_over_disk"] = r["p50_ns"] / d["p50_ns"] if d["p50_ns"] else 0.0
        r["p99_over_disk"] = r["p99_ns"] / d["p99_ns"] if d["p99_ns"] else 0.0
        r["sync_path_p50_over_disk"] = r["sync_path_p50_ns"] / d["p50_ns"] if d["p50_ns"] else 0.0
        r["sync_path_p99_over_disk"] = r["sync_path_p99_ns"] / d["p99_ns"] if d["p99_ns"] else 0.0
        r["p50_over_echo"] = r["p50_ns"] / echo["p50_ns"] if echo["p50_ns"] else 0.0
    out.update({"orders_per_mode": n, "disk": disk_pcts, "tcp_echo": echo, "modes": modes,
                "loadavg_1m_after": os.getloadavg()[0]})
    return out


def print_lone_order_acks(r: dict[str, object]) -> None:
    disk = r["disk"]
    echo = r["tcp_echo"]
    assert isinstance(disk, dict) and isinstance(echo, dict)
    print(f"durable ack of a lone order (one IOC every {LONE_INTERVAL_NS // 1_000_000} ms through "
          f"the gateway, {r['orders_per_mode']} per mode; load {r['loadavg_1m_before']:.1f} -> "
          f"{r['loadavg_1m_after']:.1f}):")
    print("  disk: 4 KiB made durable per mechanism (bench/disk_sync.py), sampled in slices "
          f"between the variants; /disk: to odirect_dsync_4k (back to back); /lone: to "
          f"{LONE_BASELINE}, a journal append after the same 3 ms idle gap as a lone order, made "
          f"durable by data writeback + the device's cache flush (bench/disk_sync.py); writes / "
          f"flushes: the device's requests per sync (a flush counts as a write too)")
    print(f"{'':<34}{'p50 us':>9}{'p99 us':>10}{'p50/disk':>10}{'p99/disk':>10}"
          f"{'writes':>8}{'flushes':>8}")
    d = disk["odirect_dsync_4k"]
    for name in MECHANISMS:
        v = disk[name]
        counts = (f"{v['writes_per_sync']:>8.2f}{v['flushes_per_sync']:>8.2f}"
                  if "writes_per_sync" in v else "")
        print(f"{'disk ' + name:<34}{v['p50_ns'] / 1e3:>9.1f}{v['p99_ns'] / 1e3:>10.1f}"
              f"{v['p50_ns'] / d['p50_ns'] if d['p50_ns'] else 0.0:>10.2f}"
              f"{v['p99_ns'] / d['p99_ns'] if d['p99_ns'] else 0.0:>10.2f}{counts}")
    print(f"{'tcp echo':<34}{echo['p50_ns'] / 1e3:>9.1f}{echo['p99_ns'] / 1e3:>10.1f}")
    modes = r["modes"]
    assert isinstance(modes, dict)
    print("  ack: planned send -> New at the client; sync path: the engine's matched -> "
          "published (group close, sync, release); sync avg: the engine's own mean journal "
          "sync, * when by writeback + device flush (else msync); store avg / max: the "
          "gateway's flow-store sync, in series after the journal's (default venue), * as "
          "for the journal; st/o: its syncs per order (native/gateway/gw_store.c: none for an "
          "ack the durable journal can rebuild); dev w / f: the device's write requests "
          "(flushes included) and flushes per order over the run")
    print("  (times in us; each ratio pair: p50 then p99)")
    print(f"{'':<32}{'ack p50':>8}{'p99':>8}{'/disk':>7}{'/disk':>7}{'/lone':>7}{'/lone':>7}"
          f"{'sync p50':>9}{'p99':>7}{'/disk':>7}{'/disk':>7}{'/lone':>7}{'/lone':>7}"
          f"{'sync':>7}{'store':>7}{'max':>7}{'st/o':>6}{'dev w':>7}{'dev f':>7}")
    for m, v in modes.items():
        print(f"{'ack, journal ' + m:<32}{v['p50_ns'] / 1e3:>8.0f}{v['p99_ns'] / 1e3:>8.0f}"
              f"{v['p50_over_disk']:>7.2f}{v['p99_over_disk']:>7.2f}"
              f"{v['p50_over_lone_disk']:>7.2f}{v['p99_over_lone_disk']:>7.2f}"
              f"{v['sync_path_p50_ns'] / 1e3:>9.0f}{v['sync_path_p99_ns'] / 1e3:>7.0f}"
              f"{v['sync_path_p50_over_disk']:>7.2f}{v['sync_path_p99_over_disk']:>7.2f}"
              f"{v['sync_path_p50_over_lone_disk']:>7.2f}"
              f"{v['sync_path_p99_over_lone_disk']:>7.2f}"
              f"{v['engine_sync_mean_ns'] / 1e3:>6.0f}{'*' if v['journal_sync_fast'] else ' '}"
              f"{v['store_sync_mean_ns'] / 1e3:>6.0f}{'*' if v['store_sync_fast'] else ' '}"
              f"{v['store_sync_max_ns'] / 1e3:>7.0f}{v['store_syncs_per_order']:>6.2f}"
              f"{v['device_writes_per_order']:>7.2f}{v['device_flushes_per_order']:>7.2f}")


def add_lone_ratios(r: dict[str, object], baselines: dict[str, float],
                    ratios: dict[str, float]) -> None:
    """The lone-order figures into a bench's JSON baselines and ratios."""
    disk = r["disk"]
    echo = r["tcp_echo"]
    modes = r["modes"]
    assert isinstance(disk, dict) and isinstance(echo, dict) and isinstance(modes, dict)
    d = disk["odirect_dsync_4k"]
    for name in MECHANISMS:
        baselines[f"disk_{name}_p50_ns"] = disk[name]["p50_ns"]
        baselines[f"disk_{name}_p99_ns"] = disk[name]["p99_ns"]
        if "writes_per_sync" in disk[name]:
            baselines[f"disk_{name}_writes_per_sync"] = disk[name]["writes_per_sync"]
        if name != "odirect_dsync_4k" and d["p50_ns"]:
            ratios[f"disk_{name}_p50_vs_odirect_dsync"] = round(disk[name]["p50_ns"] / d["p50_ns"], 3)
    baselines.update({"lone_tcp_echo_p50_ns": echo["p50_ns"],
                      "lone_tcp_echo_p99_ns": echo["p99_ns"]})
    for m, v in modes.items():
        ratios[f"lone_ack_{m}_p50_vs_disk"] = round(v["p50_over_disk"], 3)
        ratios[f"lone_ack_{m}_p99_vs_disk"] = round(v["p99_over_disk"], 3)
        ratios[f"lone_ack_{m}_p50_vs_echo"] = round(v["p50_over_echo"], 3)
        ratios[f"lone_ack_{m}_p50_vs_lone_disk"] = round(v["p50_over_lone_disk"], 3)
        ratios[f"lone_ack_{m}_p99_vs_lone_disk"] = round(v["p99_over_lone_disk"], 3)
        ratios[f"lone_sync_path_{m}_p50_vs_disk"] = round(v["sync_path_p50_over_disk"], 3)
        ratios[f"lone_sync_path_{m}_p99_vs_disk"] = round(v["sync_path_p99_over_disk"], 3)
        ratios[f"lone_sync_path_{m}_p50_vs_lone_disk"] = round(
            v["sync_path_p50_over_lone_disk"], 3)
        ratios[f"lone_sync_path_{m}_p99_vs_lone_disk"] = round(
            v["sync_path_p99_over_lone_disk"], 3)
