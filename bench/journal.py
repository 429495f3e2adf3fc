"""bench/journal.py: what does journaling cost the order path, how fast does recovery replay, and
how long does a snapshot stop matching?

1. Order path through the engine process (pinned, busy-spin) from one Python producer on the
   other core, with journaling off and in each durability mode (async, group commit, fsync per
   command), in one run on the same cores and the same seeded command stream:
   throughput (commands/s: the whole stream in one C call that keeps the command ring full and
   takes replies as they come, the producer backing off while it waits; the median of REPS runs
   taken in turn, off/async/group/each, so load from other work on a shared machine falls on
   every mode alike; each mode as a ratio to journaling off; also per second the engine loop was
   on its CPU, which leaves out what other work on a shared machine took from its core) and
   round-trip latency of single commands (P50/P99/P99.9, closed
   loop with one command in flight, timed in Python around each call; ratio to off). Also where
   the engine loop's time went per journaled mode (syncs, commands per sync, time the loop
   waited for the disk, commits forced by full hold buffers, segment opening on the loop, sync
   thread CPU, idle loop passes), from the engine's own counters, and the producer's CPU time
   and how often it slept waiting for acks.
2. Recovery speed: the journal of N commands (1M and 10M; --quick: 1M) replayed through
   eng_process in one C call, commands/s, the median of RECOVERY_REPS runs taken in turn (min-max
   beside it): replay only (the C loop of jrnl_replay, the journal validated before it), and full
   start-up recovery (journal.recover, wall clock: engine creation, the command journal's open
   with every checksum, then jrnl_recover: the event journal's open with every checksum, in the
   same pass as the replay and the byte-for-byte check of the events, on a checker thread when
   a second CPU is free), each as a ratio to the target of RECOVERY_TARGET commands/s.
   Also where full recovery's time went (C replay loop with the event check vs the rest: engine
   creation, command journal open, Python). Snapshots are off in these runs (the copy-on-write
   faults after each fork would be charged to the journal modes); their cost is part 3.
   --recovery-only runs this part alone (for iterating on recovery; the JSON then holds only
   its metrics).
3. Snapshot pause: fork() time of jrnl_snapshot_fork with an engine of 1M order slots holding
   N resting orders (the loop's only pause), against writing the same snapshot inline (the pause
   a stop-the-world snapshot would cost); also the pauses the engine process measured in run 1.
4. The order path as a client sees it (bench/journal_wire.py): orders over TCP through the
   gateway to the engine and the ExecutionReports back, journaling off and in each mode: the
   maximum rate with a window of orders in flight (ratio to off) and the latency at a fixed
   rate. Here the gateway's TCP work shares the cost, and group commit's sync thread competes
   with the client, gateway and engine for the two CPUs. SCHED_OTHER by default
   (--gateway-fifo: SCHED_FIFO, which on two CPUs starves the kernel threads an msync waits
   for; bench/journal_wire.py says more). --no-gateway skips it.
5. The durable ack of a lone order (bench/journal_wire.py lone_order_acks): one IOC every 3 ms
   through the gateway, per durability mode (and group commit synced on the engine thread,
   --group-inline-max), beside the disk's own durable 4 KiB write in the same directory per
   mechanism (bench/disk_sync.py: O_DIRECT|O_DSYNC, msync of one page, RWF_DSYNC, fdatasync, a
   fallocated file, two writes in flight; sampled between the variants), and the TCP echo, all
   in this run. --no-gateway skips it.
Journals go to --dir (default: a fresh directory under /var/tmp, a real disk; tmpfs would make
fsync free). The last line is the JSON summary.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# This process does no BLAS work; OpenBLAS worker threads that spin after a numpy call would
# take the second CPU from recovery's checker thread. Before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gateway import launcher  # noqa: E402
from gateway.enginehost import journal  # noqa: E402
from native import records  # noqa: E402
from native._venue import ffi, lib  # noqa: E402
from native.messages import Time  # noqa: E402
from shm.client import EngineClient  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from journal_wire import WINDOW as WIRE_WINDOW, gateway_order_path  # noqa: E402
from journal_wire import add_lone_ratios, lone_order_acks, print_lone_order_acks  # noqa: E402
from journal_files import snapshot_engine  # noqa: E402

SEED = 20261123
MODES = ["off", "async", "group", "each"]
MAX_ORDERS = 1 << 20
# Command and reply rings of 4 MiB: about 32k commands in flight, like a gateway holding the
# orders of many clients. Throughput with acks held for a sync is (commands in flight) / (time
# to an ack); with 1 MiB rings (8k in flight) a 2-3 ms sync on this shared disk capped group
# commit at 3-4 M/s before anything else did. 8 MiB rings (64k in flight, the engine's hold
# buffer) measured no different (1M commands, group: 1.23-1.54 M/s against 1.31-1.63 M/s at
# 4 MiB, three runs each in turn). Journaling off runs with the same rings.
RING_BYTES = 4 << 20
# Throughput runs per mode (the median is reported): one run of the quick stream lasts ~50 ms,
# so one slow sync or a burst of other work on the machine moved a single run by 2x.
REPS = 3
# Segments each journal makes ahead (at start, before orders, and after every roll): the 1M
# stream writes about 0.5 GB of journal, 64 MiB segments, so every roll finds its segment made.
SPARES = 8
# Recovery runs per size (median reported): a 1M recovery lasts ~0.3 s, so other work on a
# shared 2-CPU machine moves a single run by 1.5x.
RECOVERY_REPS = 3
EACH_WARMUP = 256               # commands before fsync-per-command's timed stream
RECOVERY_TARGET = 5_000_000     # commands/s, issue 5: full recovery of 1M and 10M commands


def order_records(n: int, first_oid: int, seed: int) -> np.ndarray:
    """n command records: limit GTC orders within +/-5 ticks of 10000 (so about half trade) and
    20% cancels of recent ids; vectorised, seeded."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=records.RECORD_DTYPE)
    new = out.view(records.CMD_DTYPES[int(records.CmdType.NEW_ORDER)])
    oid = np.arange(first_oid, first_oid + n, dtype=np.uint64)
    new["type"] = int(records.CmdType.NEW_ORDER)
    new["instrument_id"] = 1
    new["order_id"] = oid
    new["client_order_id"] = oid
    new["price"] = 10000 + rng.integers(-5, 6, n)
    new["qty"] = rng.integers(1, 20, n)
    new["side"] = rng.integers(1, 3, n)
    new["ord_type"] = int(records.OrdType.LIMIT)
    new["tif"] = int(records.Tif.GTC)
    new["account_id"] = rng.integers(0, 64, n)
    cx = np.nonzero(rng.random(n) < 0.2)[0]
    cx = cx[cx > 0]
    cancel = out.view(records.CMD_DTYPES[int(records.CmdType.CANCEL)])
    back = rng.integers(1, 50, len(cx))
    target = oid[np.maximum(cx - back, 0)]
    raw = out.view(np.uint8).reshape(n, 96)
    raw[cx] = 0
    cancel["type"][cx] = int(records.CmdType.CANCEL)
    cancel["instrument_id"][cx] = 1
    cancel["order_id"][cx] = target
    return out


def start_engine(name: str, cpu: int, extra: list[str], workdir: str, role: str,
                 stop_deadline_s: float) -> tuple[launcher.Venue, subprocess.Popen[str]]:
    """The engine process, its stderr in WORKDIR/ROLE.log; returned once it takes producers."""
    venue = launcher.Venue(name=name, log_dir=Path(workdir), stop_deadline_s=stop_deadline_s)
    proc = venue.start_engine("--cpu", str(cpu), "--wait", "spin", "--producers", "1", "--instruments", "1",
                              "--max-orders", str(MAX_ORDERS), "--max-accounts", "64",
                              "--cmd-ring-bytes", str(RING_BYTES), "--no-mlock", *extra,
                              role=role, deadline_s=120)
    return venue, proc


def engine_schedstat(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of the engine's loop thread (its main
    thread): the loop spins, so wall time it did not get is time other work took its core."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        on_cpu, waiting, _ = f.read().split()
    return int(on_cpu), int(waiting)


def order_path(mode: str, workdir: str, cmds: np.ndarray, lat_n: int, cpus: tuple[int, int],
               snapshot_every: int, segment_mb: int = 64, warmup: int = 4096
               ) -> dict[str, float]:
    """One engine process in `mode`: throughput of the stream, then lat_n single round trips
    (lat_n 0: throughput only). The engine makes SPARES segments of segment_mb per journal
    before it takes orders (written zeros): 1 GiB at 64 MiB, which took seconds per start on
    this shared disk; --quick's stream (100 k commands, about 60 MB of journal) fits in the
    first segment and 4 spares of 16 MiB (128 MiB made per start), so no roll waits for the
    segment maker either way."""
    name = f"bj{uuid.uuid4().hex[:6]}"
    jdir = os.path.join(workdir, f"journal-{mode}")
    extra = [] if mode == "off" else ["--journal", jdir, "--durability", mode,
                                      "--group-records", "8192", "--group-us", os.environ.get("BJ_GROUP_US", "500"),
                                      "--snapshot-every", str(snapshot_every),
                                      "--journal-spares", str(SPARES if segment_mb >= 64 else 4),
                                      "--segment-mb", str(segment_mb)]
    log_path = os.path.join(workdir, f"engine-{mode}.log")
    venue, proc = start_engine(name, cpus[1], extra, workdir, f"engine-{mode}", 120)
    os.sched_setaffinity(0, {cpus[0]})
    try:
        # The producer backs off (spin, yield, sleep) while it waits for replies: on two cores
        # the journal's sync thread runs on the producer's core and needs its CPU time.
        with EngineClient(name, spin=False, timeout_ns=60_000_000_000) as client:
            client.submit_records(cmds[:warmup])        # warm-up
            body = cmds[warmup:]
            wait = client.handle.wait
            sleeps0, yields0 = wait.sleeps, wait.yields
            c0 = time.thread_time_ns()
            e0 = engine_schedstat(proc.pid)
            t0 = time.perf_counter_ns()
            # One call for the whole stream: the C client keeps the ring full and collects
            # replies as they come, so the window never drains (batches of 64k drained it once
            # per batch: two syncs of idle producer per 64k commands with journaling).
            client.submit_records(body)
            elapsed = time.perf_counter_ns() - t0
            e1 = engine_schedstat(proc.pid)
            producer_cpu = time.thread_time_ns() - c0
            producer_sleeps, producer_yields = wait.sleeps - sleeps0, wait.yields - yields0
            lat = np.empty(lat_n, dtype=np.int64)
            one = records.encode_command(Time())
            for i in range(lat_n):
                t = time.perf_counter_ns()
                client.submit_bytes(one)
                lat[i] = time.perf_counter_ns() - t
    finally:
        venue.close()
        os.sched_setaffinity(0, set(cpus))
    text = open(log_path).read()
    out = {"commands_per_s": len(body) / (elapsed / 1e9),
           # as if the engine's core had been its own: the stream over the time the loop was on
           # its CPU (spinning included), leaving out the time other work on the machine took
           "commands_per_engine_cpu_s": len(body) / max((e1[0] - e0[0]) / 1e9, 1e-9),
           "engine_runq_wait_ns": e1[1] - e0[1],
           "engine_commands": len(cmds) + lat_n,
           "producer_cpu_ns": producer_cpu, "producer_sleeps": producer_sleeps,
           "producer_yields": producer_yields}
    if lat_n:
        out.update({"latency_p50_ns": float(np.percentile(lat, 50)),
                    "latency_p99_ns": float(np.percentile(lat, 99)),
                    "latency_p999_ns": float(np.percentile(lat, 99.9))})
    m = re.search(r"journal: (\d+) syncs \(longest (\d+) us\), (\d+) snapshots \(last seq \d+, "
                  r"longest fork pause (\d+) us", text)
    if m:
        out.update({"syncs": int(m.group(1)), "sync_max_ns": int(m.group(2)) * 1000,
                    "snapshots": int(m.group(3)), "snapshot_fork_pause_max_ns":
                    int(m.group(4)) * 1000})
    # where the loop's time went (engine_process prints it after every journaled run)
    m = re.search(r"journal time: (\d+) us per sync, (\d+) us waiting for syncs, (\d+) commits "
                  r"forced by full hold buffers, (\d+) us opening segments, sync thread cpu "
                  r"(\d+) us, (\d+) ms preallocating \d+ spare segments per journal at start, "
                  r"(\d+) idle loop passes, (\d+) polls stopped by full reply rings, sync "
                  r"thread (\w+)", text)
    if m:
        out.update({"sync_mean_ns": int(m.group(1)) * 1000,
                    "loop_wait_for_sync_ns": int(m.group(2)) * 1000,
                    "forced_commits": int(m.group(3)), "loop_segment_open_ns": int(m.group(4)) * 1000,
                    "sync_thread_cpu_ns": int(m.group(5)) * 1000,
                    "prealloc_ns": int(m.group(6)) * 1_000_000,
                    "idle_loop_passes": int(m.group(7)),
                    "reply_room_waits": int(m.group(8)),
                    "sync_thread_fifo": 1.0 if m.group(9) == "SCHED_FIFO" else 0.0})
    if mode != "off":
        shutil.rmtree(jdir, ignore_errors=True)
    return out


def build_journal(workdir: str, n: int, cpus: tuple[int, int]) -> str:
    """Journals n commands through the engine process (async mode: fastest to write)."""
    name = f"bj{uuid.uuid4().hex[:6]}"
    jdir = os.path.join(workdir, f"journal-recovery-{n}")
    venue, _ = start_engine(name, cpus[1], ["--journal", jdir, "--durability", "async", "--snapshot-every", "0",
                                            "--segment-mb", "256"], workdir, f"engine-build-{n}", 600)
    try:
        with EngineClient(name, spin=True, timeout_ns=60_000_000_000) as client:
            step = 1 << 20
            for first in range(0, n, step):
                k = min(step, n - first)
                cmds = order_records(k, 1 + first, SEED + first)
                for i in range(0, k, 1 << 16):
                    client.submit_records(cmds[i:i + (1 << 16)])
    finally:
        venue.close()
    return jdir


def recovery_speed(jdir: str, reps: int = RECOVERY_REPS) -> dict[str, float]:
    """Replay only and full recovery of the journal in jdir, reps runs of each taken in turn;
    the median run of each (by rate) with min and max."""
    limits = journal.journal_limits(jdir)
    replays, fulls = [], []
    for _ in range(reps):
        c0 = time.thread_time_ns()
        res, eng = journal.verify(jdir)                      # replay only (no event check)
        replay_cpu_ns = time.thread_time_ns() - c0           # engine creation included
        eng.close()
        replays.append({"commands": res.commands, "events": res.events,
                        "replay_commands_per_s": res.commands_per_s, "replay_ns": res.elapsed_ns,
                        "replay_commands_per_cpu_s": res.commands / (replay_cpu_ns / 1e9)})
        t0 = time.perf_counter_ns()
        c0 = time.process_time_ns()
        rec = journal.recover(lambda: journal.create_engine(limits), lib.eng_destroy, jdir,
                              limits, 256 << 20)
        full_ns = time.perf_counter_ns() - t0
        full_cpu_ns = time.process_time_ns() - c0
        assert rec.result.state_hash == res.state_hash
        assert rec.result.events_checked == res.events and rec.result.events_written == 0
        lib.eng_destroy(rec.engine)
        rec.close()
        fulls.append({"recovery_with_checks_ns": full_ns,
                      "recovery_with_checks_commands_per_s": res.commands / (full_ns / 1e9),
                      # the C call: replay + event journal open and check
                      "recovery_replay_and_check_ns": rec.result.elapsed_ns,
                      # engine creation (overlapped with it), command journal open, Python
                      "recovery_other_ns": full_ns - rec.result.elapsed_ns,
                      # per CPU-second: what the rate would be on a machine nobody else loads
                      "recovery_with_checks_commands_per_cpu_s":
                          res.commands / (full_cpu_ns / 1e9),
                      # event chunks the engine thread checked itself: the checker thread was
                      # behind (its CPU taken by other work), 1.0 without a second CPU
                      "recovery_checked_on_engine_thread": (rec.result.check_chunks_inline /
                                                            max(rec.result.check_chunks, 1))})
    replays.sort(key=lambda r: r["replay_commands_per_s"])
    fulls.sort(key=lambda r: r["recovery_with_checks_commands_per_s"])
    return {**replays[len(replays) // 2], **fulls[len(fulls) // 2],
            "replay_commands_per_s_min": replays[0]["replay_commands_per_s"],
            "replay_commands_per_s_max": replays[-1]["replay_commands_per_s"],
            "recovery_with_checks_commands_per_s_min":
                fulls[0]["recovery_with_checks_commands_per_s"],
            "recovery_with_checks_commands_per_s_max":
                fulls[-1]["recovery_with_checks_commands_per_s"],
            "recovery_reps": reps}


def snapshot_pause(workdir: str, resting: int, repeats: int) -> dict[str, float]:
    eng = snapshot_engine(resting, MAX_ORDERS, SEED)
    sdir = os.path.join(workdir, "snapshots")
    os.makedirs(sdir, exist_ok=True)
    pauses, child_ns = [], []
    pid = ffi.new("int32_t *")
    pause = ffi.new("int64_t *")
    for i in range(repeats):
        t0 = time.perf_counter_ns()
        rc = lib.jrnl_snapshot_fork(eng.handle, sdir.encode(), 1000 + i, 1000 + i, pid, pause)
        if rc != 0:
            raise OSError(-rc, "fork snapshot failed")
        _, status = os.waitpid(pid[0], 0)
        child_ns.append(time.perf_counter_ns() - t0)
        if status != 0:
            raise RuntimeError("snapshot child failed")
        pauses.append(pause[0])
    path = os.path.join(sdir, "inline.snap")
    t0 = time.perf_counter_ns()
    rc = lib.jrnl_snapshot_save(eng.handle, path.encode())
    inline_ns = time.perf_counter_ns() - t0
    size = os.path.getsize(path)
    eng.close()
    shutil.rmtree(sdir, ignore_errors=True)
    return {"resting_orders": resting, "snapshot_bytes": size,
            "fork_pause_p50_ns": float(np.median(pauses)), "fork_pause_max_ns": float(max(pauses)),
            "child_write_ns_p50": float(np.median(child_ns)),
            "inline_snapshot_pause_ns": float(inline_ns)}


def print_order_path(path: dict[str, dict[str, float]], n_path: int, each_n: int,
                     cpus: tuple[int, int], load_before: float) -> None:
    print(f"order path: {n_path} commands ('each': {each_n}), one producer (C loop under Python) "
          f"on cpu {cpus[0]} with {RING_BYTES >> 20} MiB rings, engine spinning on cpu {cpus[1]}; "
          f"cmd/s is the median of {REPS} runs per mode taken in turn (min-max beside it), "
          f"per eng-cpu-s the median rate over the time the engine loop was on its CPU (what "
          f"other work on the machine took from it left out); "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (a shared "
          f"machine: other work competes for both cores)")
    print(f"{'mode':<7}{'cmd/s':>12}{'min-max M/s':>14}{'ratio':>8}{'per eng-cpu-s':>14}{'ratio':>7}"
          f"{'p50 ns':>13}{'p99 ns':>13}{'p99.9 ns':>14}{'lat ratio':>10}{'prod cpu':>10}"
          f"{'sleeps':>8}")
    off = path["off"]
    for m in MODES:
        r = path[m]
        spread = f"{r['commands_per_s_min'] / 1e6:.2f}-{r['commands_per_s_max'] / 1e6:.2f}"
        print(f"{m:<7}{r['commands_per_s']:>12,.0f}{spread:>14}"
              f"{r['commands_per_s'] / off['commands_per_s']:>8.2f}"
              f"{r['commands_per_engine_cpu_s']:>14,.0f}"
              f"{r['commands_per_engine_cpu_s'] / off['commands_per_engine_cpu_s']:>7.2f}"
              f"{r['latency_p50_ns']:>13,.0f}{r['latency_p99_ns']:>13,.0f}"
              f"{r['latency_p999_ns']:>14,.0f}{r['latency_p50_ns'] / off['latency_p50_ns']:>10.2f}"
              f"{r['producer_cpu_ns'] / 1e6:>8.0f}ms{r['producer_sleeps']:>8}")
    print("where the engine loop's time went (journaled modes, whole run):")
    print(f"{'mode':<7}{'syncs':>7}{'sync us':>9}{'cmds/sync':>10}{'loop waits':>11}"
          f"{'forced':>8}{'seg open':>9}{'sync cpu':>9}{'idle passes':>12}{'reply full':>11}")
    for m in MODES[1:]:
        r = path[m]
        if "sync_mean_ns" not in r:
            continue
        n_cmds = r["engine_commands"]      # the engine counters cover the median run's life
        print(f"{m:<7}{r.get('syncs', 0):>7}{r['sync_mean_ns'] / 1e3:>9.0f}"
              f"{n_cmds / max(r.get('syncs', 0), 1):>10.0f}"
              f"{r['loop_wait_for_sync_ns'] / 1e6:>9.1f}ms{r['forced_commits']:>8}"
              f"{r['loop_segment_open_ns'] / 1e6:>7.1f}ms{r['sync_thread_cpu_ns'] / 1e6:>7.0f}ms"
              f"{r['idle_loop_passes']:>12}{r['reply_room_waits']:>11}")


def print_gateway_path(wire: dict[str, dict[str, float]], quick: bool) -> None:
    off = wire["off"]["orders_per_s"]
    print(f"order path through the gateway (bench/journal_wire.py: TCP client -> gateway -> engine "
          f"-> ExecutionReports; client alone on the first CPU, gateway and engine on the last, "
          f"{'SCHED_FIFO' if wire['off']['sched_fifo'] else 'SCHED_OTHER'}; max rate with "
          f"{WIRE_WINDOW} orders in flight, median of {1 if quick else REPS}; latency at a fixed "
          f"rate, from each order's planned send to its New):")
    print(f"{'mode':<7}{'orders/s':>11}{'min-max k/s':>14}{'ratio':>7}{'rate/s':>8}"
          f"{'p50 us':>9}{'p99 us':>10}{'lost':>6}")
    for m, r in wire.items():
        print(f"{m:<7}{r['orders_per_s']:>11,.0f}"
              f"{r['orders_per_s_min'] / 1e3:>7.0f}-{r['orders_per_s_max'] / 1e3:<6.0f}"
              f"{r['orders_per_s'] / off:>7.2f}{r['fixed_rate_per_s']:>8.0f}"
              f"{r['latency_p50_ns'] / 1e3:>9.1f}{r['latency_p99_ns'] / 1e3:>10.1f}"
              f"{r['lost']:>6.0f}")


LONE_ONLY_QUICK_ORDERS = 600


def lone_only(quick: bool, directory: str | None) -> int:
    """Part 5 alone (for measuring a lone order's durable ack at a quiet moment): 600 orders per
    mode with --quick, so that the P99 is the 6th-worst ack rather than the 3rd (one stall moved
    it), still within the 60 s of --quick."""
    lone = lone_order_acks(quick, directory, LONE_ONLY_QUICK_ORDERS if quick else None)
    print_lone_order_acks(lone)
    baselines: dict[str, float] = {}
    ratios: dict[str, float] = {}
    add_lone_ratios(lone, baselines, ratios)
    print(json.dumps({"bench": "journal",
                      "machine": {"cores": len(os.sched_getaffinity(0)),
                                  "kernel": platform.release(), "quick": quick,
                                  "lone_only": True},
                      "metrics": {"lone_order_durable_ack": lone},
                      "baselines": baselines, "ratios": ratios}))
    return 0


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: finishes within 60 s")
    ap.add_argument("--dir", default=None, help="work directory for journals (default /var/tmp)")
    ap.add_argument("--recovery-only", action="store_true",
                    help="run part 2 (recovery speed) only")
    ap.add_argument("--lone-only", action="store_true",
                    help="run part 5 (a lone order's durable ack per mode) alone")
    ap.add_argument("--no-gateway", action="store_true",
                    help="skip part 4 (the order path through the gateway over TCP)")
    ap.add_argument("--gateway-fifo", action="store_true",
                    help="part 4 with client, gateway and engine SCHED_FIFO (see "
                         "bench/journal_wire.py for why the default is SCHED_OTHER)")
    args = ap.parse_args()
    if args.lone_only:
        return lone_only(args.quick, args.dir)
    workdir = tempfile.mkdtemp(prefix="venue-bench-journal-", dir=args.dir or "/var/tmp")
    load_before = os.getloadavg()[0]
    cores = sorted(os.sched_getaffinity(0))
    cpus = (cores[0], cores[-1])
    n_path = 100_000 if args.quick else 1_000_000
    # --quick within 60 s on a shared 2-CPU host: a journaled round trip waits a disk sync
    # (0.2-4 ms here under load; 'each' syncs both journals per command), so the closed-loop
    # samples and fsync-per-command's stream are what take the time (2,000 / 1,000 latency
    # samples and a 5,000-command 'each' stream took 165 s of order path at load 5-7)
    lat_n = 1_000 if args.quick else 20_000
    each_lat_n = 100 if args.quick else 1_000
    recovery_sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
    # fsync per command runs at the disk's round-trip rate: a shorter stream keeps the run
    # bounded (its cmd/s is still a rate over thousands of commands)
    each_n = 500 if args.quick else 20_000
    path: dict[str, dict[str, float]] = {}
    snap: dict[str, float] = {}
    try:
        cmds = order_records(n_path + 4096, 1, SEED)
        runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
        for rep in range(0 if args.recovery_only else REPS):   # in turn: drifting load hits
            for m in MODES:                                      # every mode alike
                if m == "each" and rep and args.quick:
                    continue    # --quick: fsync per command once (disk-bound: seconds a run)
                n_lat = 0 if rep else (lat_n if m != "each" else each_lat_n)
                # 'each' warms up on 256 commands, not 4,096: one disk sync apiece
                runs[m].append(order_path(m, workdir, cmds if m != "each"
                                          else cmds[:each_n + EACH_WARMUP], n_lat, cpus, 0,
                                          16 if args.quick else 64,
                                          4096 if m != "each" else EACH_WARMUP))
        for m in MODES if not args.recovery_only else []:
            # the run with the median throughput, with the latency of the first run
            by_rate = sorted(runs[m], key=lambda r: r["commands_per_s"])
            path[m] = {**by_rate[len(by_rate) // 2],
                       **{k: v for k, v in runs[m][0].items() if k.startswith("latency_")},
                       "commands_per_engine_cpu_s": float(np.median(
                           [r["commands_per_engine_cpu_s"] for r in runs[m]])),
                       "commands_per_s_min": by_rate[0]["commands_per_s"],
                       "commands_per_s_max": by_rate[-1]["commands_per_s"]}
        rec = {}
        for n in recovery_sizes:
            jdir = build_journal(workdir, n, cpus)
            load = os.getloadavg()[0]
            rec[n] = {**recovery_speed(jdir), "loadavg_1m_before": load,
                      "loadavg_1m_after": os.getloadavg()[0]}
            shutil.rmtree(jdir, ignore_errors=True)
        if not args.recovery_only:
            snap = snapshot_pause(workdir, 20_000 if args.quick else 500_000,
                                  3 if args.quick else 10)
        wire: dict[str, dict[str, float]] = {}
        lone: dict[str, object] = {}
        if not args.recovery_only and not args.no_gateway:
            wire = gateway_order_path(args.quick, 1 if args.quick else REPS, args.gateway_fifo)
            lone = lone_order_acks(args.quick, args.dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.recovery_only:
        print_order_path(path, n_path, each_n, cpus, load_before)
    if wire:
        print_gateway_path(wire, args.quick)
    if lone:
        print_lone_order_acks(lone)

    print(f"recovery: journal of N commands through eng_process in one C call; M/s is the "
          f"median of {RECOVERY_REPS} runs taken in turn (min-max beside it), ratio to the target "
          f"of {RECOVERY_TARGET / 1e6:.0f} M/s; 'replay only' is the C loop of jrnl_replay "
          f"(journal validated before it), 'full' the wall clock of journal.recover (engine "
          f"creation, both journals opened with every checksum, replay, byte-for-byte event "
          f"check; the event "
          f"journal's check on a checker thread when a second CPU is free; {len(cores)} CPUs, "
          f"not pinned)")
    print(f"{'commands':>11}{'replay M/s':>12}{'min-max':>11}{'ratio':>7}{'full M/s':>10}"
          f"{'min-max':>11}{'ratio':>7}{'full/replay':>12}{'loop ms':>9}{'other ms':>9}"
          f"{'full/cpu-s':>11}{'inline':>7}{'load':>6}")
    for n, r in rec.items():
        rp, fu = r["replay_commands_per_s"], r["recovery_with_checks_commands_per_s"]
        print(f"{n:>11,}{rp / 1e6:>12.2f}"
              f"{r['replay_commands_per_s_min'] / 1e6:>6.2f}-"
              f"{r['replay_commands_per_s_max'] / 1e6:<4.2f}"
              f"{rp / RECOVERY_TARGET:>7.2f}{fu / 1e6:>10.2f}"
              f"{r['recovery_with_checks_commands_per_s_min'] / 1e6:>6.2f}-"
              f"{r['recovery_with_checks_commands_per_s_max'] / 1e6:<4.2f}"
              f"{fu / RECOVERY_TARGET:>7.2f}{fu / rp:>12.2f}"
              f"{r['recovery_replay_and_check_ns'] / 1e6:>9.0f}{r['recovery_other_ns'] / 1e6:>9.0f}"
              f"{r['recovery_with_checks_commands_per_cpu_s'] / 1e6:>11.2f}"
              f"{r['recovery_checked_on_engine_thread']:>7.2f}{r['loadavg_1m_before']:>6.1f}")
    print("  (loop: the C call, replay + event journal check; other: engine creation, command "
          "journal open, Python; inline: share of event chunks the engine thread checked itself "
          "because the checker thread was behind; load: 1-min load average before)")
    if snap:
        print(f"snapshot of {snap['resting_orders']:,} resting orders "
              f"({snap['snapshot_bytes'] / 1e6:.0f} MB): fork pause p50 "
              f"{snap['fork_pause_p50_ns'] / 1e3:.0f} us, max "
              f"{snap['fork_pause_max_ns'] / 1e3:.0f} us; inline (stop-the-world) "
              f"{snap['inline_snapshot_pause_ns'] / 1e6:.1f} ms")

    metrics: dict[str, float] = {}
    for m, r in path.items():
        for k, v in r.items():
            metrics[f"order_path_{m}_{k}"] = v
    for n, r in rec.items():
        for k, v in r.items():
            metrics[f"recovery_{n}_{k}"] = v
    for k, v in snap.items():
        metrics[f"snapshot_{k}"] = v
    for m, r in wire.items():
        for k, v in r.items():
            metrics[f"gateway_path_{m}_{k}"] = v
    baselines: dict[str, float] = {"recovery_target_commands_per_s": RECOVERY_TARGET}
    ratios: dict[str, float] = {}
    if path:
        off = path["off"]
        baselines.update({"order_path_off_commands_per_s": off["commands_per_s"],
                          "order_path_off_latency_p50_ns": off["latency_p50_ns"]})
        for m in MODES[1:]:
            ratios[f"throughput_{m}_vs_off"] = path[m]["commands_per_s"] / off["commands_per_s"]
            ratios[f"throughput_per_engine_cpu_{m}_vs_off"] = (
                path[m]["commands_per_engine_cpu_s"] / off["commands_per_engine_cpu_s"])
            ratios[f"latency_p50_{m}_vs_off"] = path[m]["latency_p50_ns"] / off["latency_p50_ns"]
            ratios[f"latency_p99_{m}_vs_off"] = path[m]["latency_p99_ns"] / off["latency_p99_ns"]
    if wire:
        off = wire["off"]
        baselines["gateway_path_off_orders_per_s"] = off["orders_per_s"]
        for m in MODES[1:]:
            ratios[f"gateway_throughput_{m}_vs_off"] = (wire[m]["orders_per_s"] /
                                                        off["orders_per_s"])
            if m != "each":     # 'each' runs at a lower fixed rate: its latency is not comparable
                ratios[f"gateway_latency_p50_{m}_vs_off"] = (wire[m]["latency_p50_ns"] /
                                                             off["latency_p50_ns"])
    if lone:
        metrics["lone_order_durable_ack"] = lone  # type: ignore[assignment]
        add_lone_ratios(lone, baselines, ratios)
    for n, r in rec.items():
        ratios[f"recovery_{n}_replay_vs_target"] = r["replay_commands_per_s"] / RECOVERY_TARGET
        ratios[f"recovery_{n}_full_vs_target"] = (r["recovery_with_checks_commands_per_s"] /
                                                  RECOVERY_TARGET)
        ratios[f"recovery_{n}_full_vs_replay"] = (r["recovery_with_checks_commands_per_s"] /
                                                  r["replay_commands_per_s"])
    if snap:
        ratios["snapshot_fork_pause_vs_inline"] = (snap["fork_pause_max_ns"] /
                                                   snap["inline_snapshot_pause_ns"])
    fs = subprocess.run(["stat", "-f", "-c", "%T", args.dir or "/var/tmp"], capture_output=True,
                        text=True).stdout.strip()
    print(json.dumps({
        "bench": "journal",
        "machine": {"cores": len(cores), "engine_cpu": cpus[1], "producer_cpu": cpus[0],
                    "pinning": not args.recovery_only, "wait": "spin",
                    "recovery": "not pinned; event check on a checker thread when a second CPU "
                                "is free",
                    "tuning": "none applied by this bench",
                    "journal_fs": fs, "kernel": platform.release(), "quick": args.quick,
                    "recovery_only": args.recovery_only,
                    "ring_bytes": RING_BYTES, "journal_spares": SPARES, "reps": REPS,
                    "recovery_reps": RECOVERY_REPS,
                    "sync_thread_fifo": bool(path.get("group", {}).get("sync_thread_fifo", 0)),
                    "loadavg_1m_before": load_before, "loadavg_1m_after": os.getloadavg()[0],
                    "crc32c_hw": bool(lib.jrnl_crc32c_hw_available())},
        "metrics": metrics,
        "baselines": baselines,
        "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(launcher.run_main(main, "journal"))
