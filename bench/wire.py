"""bench/wire.py: how fast is the order-entry gateway wire to wire, against a raw TCP echo?

Measures NewOrderSingle sent -> ExecutionReport(New) received over loopback TCP, through the
gateway process (C epoll loop) and the engine process (backoff wait), with an
open-loop (wrk2-style) C load generator in this process: orders go out at planned times whatever
the replies do, and each order's latency is taken from its planned send time (corrected for
coordinated omission) and, for comparison, from its actual send time (uncorrected). Fixed rates
(10k, 50k, 100k orders/s), then the maximum rate one connection sustains with a window of
orders in flight, checking that every order got its New and its final report (nothing lost).
Baseline, same run, same CPUs: native/bench/probe_tcp.c's C TCP ping-pong echo (closed loop, one
message in flight) with the NewOrderSingle frame size. Orders are IOC limit buys priced below
the book so nothing rests: each order gives New + Canceled. The last line is the JSON summary.

Socket paths side by side (--paths, default the first four, each with its own venue, one after the
other, same placement): "epoll" (today's path), "busy-poll" (the same loop with SO_BUSY_POLL and
SO_PREFER_BUSY_POLL on the client sockets) and "io_uring" (the gateway's io_uring backend:
multishot receive, batched sends; gateway/orderentry/io_backend.py); "io_uring-sqpoll" (a kernel
thread polls the submission queue; it wants a spare core, which 2 vCPUs do not have) on request;
"tls" (the same epoll gateway, the session on its TLS 1.3 listener with a client certificate,
the load generator reading and writing through OpenSSL: bench/wire_tls.py; its ratios to epoll
are TLS against plain TCP) and "tls-io_uring" on request.
Each path's P50/P99 is given as a ratio to the echo and to the epoll path, with the gateway's
I/O system calls and user-space copies per frame (its own counters, whole run incl. warm-up) as
the measured reason for a difference, and the client socket's SO_INCOMING_NAPI_ID (0 on loopback:
busy polling has no NAPI context to spin on). All of it is loopback TCP, the kernel's software
path: no NIC is involved.

Placement and scheduling (stated in the output and the JSON): on 2 vCPUs shared with other work,
a spinning loop under SCHED_OTHER is time-sliced with whatever else runs on its core (the P99 then
shows those slices, milliseconds), and a SCHED_FIFO loop that never blocks is throttled by the
kernel (sched_rt_runtime_us: 50 ms of every second). So the default here is --sched fifo where
permitted with every loop blocking when idle (an RT loop's spin is RT time), placement "paired":
client FIFO 30 alone on the first CPU; gateway FIFO 20 (epoll, blocking when idle) and engine
FIFO 30 (backoff, 20 polls) on the last, so the gateway's doorbell preempts it for the engine at
once and the engine hands the CPU back as soon as it is idle, and each hop's wake-up preempts
other work at once. Measured on the 2-vCPU VM: "split" (engine with the client) is RT-throttled
at 100k/s (client and engine together pass 95% of their core); SCHED_OTHER shows the other work's
time slices in the P99 (milliseconds). The echo baseline runs under the same policy and CPUs.
For each run the table shows how long each process waited on a run queue (schedstat run_delay)
and how often it was switched in; /dev/cpu_dma_latency and the cpuidle driver are reported (on a
VM whose cpuidle driver is "none", holding it changes nothing: the guest halts the same way).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from gateway.client import Client
from gateway.orderentry.io_backend import incoming_napi_id, io_uring_unavailable
from native._venue import ffi, lib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from journal_wire import add_lone_ratios, lone_order_acks, print_lone_order_acks  # noqa: E402
from loadgen import run_loadgen  # noqa: E402
from sched_state import dma_state, fifo_permitted, schedstat, set_fifo, steal_ticks  # noqa: E402
from gateway import launcher  # noqa: E402
from gateway.cli_numbers import dma_latency_us, int_list, non_negative_int, positive_float  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402
from loadgen import ONE_SESSION_CONFIG  # noqa: E402
from wire_tls import connect_tls, make_pki, tls_version  # noqa: E402

NOS_FRAME_BYTES = 6 + 8 + 81


# The gateway options of each socket path (--paths).
PATHS: dict[str, tuple[str, ...]] = {
    "epoll": (),
    "busy-poll": ("--so-busy-poll-us", "50", "--prefer-busy-poll"),
    "io_uring": ("--io-backend", "io_uring"),
    "io_uring-sqpoll": ("--io-backend", "io_uring", "--io-uring-sqpoll-ms", "10"),
    # the session on the gateway's TLS 1.3 listener (bench/wire_tls.py): its ratios to epoll
    # are TLS against plain TCP, the same backend and loop otherwise
    "tls": (),
    "tls-io_uring": ("--io-backend", "io_uring"),
}
DEFAULT_PATHS = "epoll,busy-poll,io_uring,tls"
_STOPPED = re.compile(r"(\d+) frames in, (\d+) out, .*?(\d+) I/O system calls, (\d+) bytes copied")
_SENDS = re.compile(r"(\d+) sends \((\d+) linked in a chain, (\d+) waits behind a chain\)")


def gateway_io_counts(gw_err: str) -> dict[str, object]:
    """The gateway's own I/O counters from its 'stopped' line, per frame in or out, and its
    start-up line's I/O description (what it really ran, after any fallback)."""
    m = _STOPPED.search(gw_err)
    listening = next((ln for ln in gw_err.splitlines() if "listening on" in ln), "")
    io = re.search(r"I/O (.*?), ((?:no )?busy-poll sockets(?: \([^)]*\))?),", listening)
    if not m:
        return {"io": io.group(1) if io else "", "busy_poll": io.group(2) if io else ""}
    frames = int(m.group(1)) + int(m.group(2))
    return {"io": io.group(1) if io else "", "busy_poll": io.group(2) if io else "",
            "frames": frames, "io_syscalls": int(m.group(3)), "copied_bytes": int(m.group(4)),
            "syscalls_per_frame": round(int(m.group(3)) / frames, 3) if frames else None,
            "copied_bytes_per_frame": round(int(m.group(4)) / frames, 1) if frames else None,
            **_send_counts(gw_err, int(m.group(2)))}


def _send_counts(gw_err: str, frames_out: int) -> dict[str, object]:
    """Send operations per outbound frame, and (io_uring) how many were linked behind another
    send of their connection (several in flight) or waited behind a chain in the kernel."""
    m = _SENDS.search(gw_err)
    if not m or not frames_out:
        return {}
    sends, linked, waited = (int(m.group(i)) for i in (1, 2, 3))
    return {"sends": sends, "sends_linked": linked, "sends_waited": waited,
            "frames_out_per_send": round(frames_out / sends, 2) if sends else None}


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

    def __init__(self, engine_cpu: int, gateway_cpu: int, gateway_spin: bool, tmp: Path,
                 engine_fifo: int = 0, gateway_fifo: int = 0, engine_spin_polls: int = 2000,
                 gateway_idle_spin_us: int = 50, gateway_extra: tuple[str, ...] = (),
                 tls: bool = False) -> None:
        """tls: the gateway also listens for TLS 1.3 (certificates made in tmp) and the
        measured session connects there."""
        self.name = f"wire{uuid.uuid4().hex[:6]}"
        cfg = tmp / "gw.json"
        self.pki = make_pki(tmp) if tls else None
        gw_cfg: dict[str, object] = dict(ONE_SESSION_CONFIG)
        if self.pki:
            gw_cfg["tls"] = {k: v for k, v in self.pki.items() if not k.startswith("_")}
            gateway_extra = gateway_extra + ("--tls-port-file", str(tmp / "tls_port"))
        cfg.write_text(json.dumps(gw_cfg))
        self.procs = launcher.Venue(name=self.name)
        self.engine = self.procs.start_engine(
            "--cpu", str(engine_cpu), "--wait", "backoff", "--spin", str(engine_spin_polls),
            "--yields", "0", "--fifo", str(engine_fifo), "--instruments", "1", "--producers", "2",
            "--no-mlock", "--event-log-bytes", str(1 << 26), "--cmd-ring-bytes", str(1 << 20))
        self.gateway, self.port = self.procs.start_gateway(
            tmp / "port", "--listen", "127.0.0.1:0", "--config", str(cfg),
            "--cpu", str(gateway_cpu),
            *(["--busy-poll"] if gateway_spin else
              ["--idle-spin-us", str(gateway_idle_spin_us), "--fifo", str(gateway_fifo)]),
            "--tx-buffer-bytes", str(1 << 23), "--out-log-msgs", str(1 << 16), *gateway_extra)
        self.tls_port = 0
        self.tls_version = "none"
        if self.pki:
            launcher.wait_for(lambda: (tmp / "tls_port").exists(), "the TLS port file", 10.0)
            self.tls_port = int((tmp / "tls_port").read_text())

    def connect(self) -> Client:
        """The measured session: plain TCP, or TLS 1.3 on the TLS listener."""
        if self.pki:
            return connect_tls(self.tls_port, self.pki, 1, 1, "bench", keepalive_ms=30000)
        return Client.connect("127.0.0.1", self.port, 1, 1, "bench", keepalive_ms=30000)

    def close(self) -> str:
        return self.procs.close()


def run_load(client: Client, count: int, interval_ns: int, window: int) -> dict[str, object]:
    run = run_loadgen(client, count, interval_ns, window)
    res, planned, sent = run.result, run.corrected, run.uncorrected
    ok = planned >= 0
    out: dict[str, object] = {
        "rc": run.rc, "sent": int(res.sent), "acked": int(res.acked), "finished": int(res.finished),
        "refused": int(res.refused), "elapsed_ns": int(res.elapsed_ns),
        "max_send_behind_plan_ns": int(res.max_behind_ns), "send_calls": int(res.send_calls),
        "lost": int(res.sent) - int(res.acked),
    }
    out["achieved_orders_per_s"] = (int(res.acked) / (res.elapsed_ns / 1e9)
                                    if res.elapsed_ns > 0 else 0.0)
    out["corrected"] = _pcts(_hist(planned[ok]))
    out["uncorrected"] = _pcts(_hist(sent[ok]))
    return out


PLACEMENTS = {
    # name: (client cpu index, gateway cpu index, engine cpu index) into the sorted CPU list
    "split": (0, -1, 0),    # engine shares the client's core; the gateway has its own
    "paired": (0, -1, -1),  # engine shares the gateway's core (engine FIFO above the gateway)
}


def _measure(venue: Venue, client_cpu: int, client_prio: int, seconds: float, max_orders: int,
             rates: str, sched_of: Any, sched_delta: Any
             ) -> tuple[dict[str, dict[str, object]], int]:
    """The fixed rates, then the maximum rate, on one venue; and the client socket's NAPI id."""
    os.sched_setaffinity(0, {client_cpu})
    client = venue.connect()
    napi = incoming_napi_id(client.sock.raw if venue.pki else client.sock)  # type: ignore[attr-defined]
    venue.tls_version = tls_version(client)
    set_fifo(0, client_prio)
    run_load(client, 2000, 100_000, 0)          # warm-up: caches, page faults, branch
    pids = {"client": os.getpid(), "gateway": venue.gateway.pid, "engine": venue.engine.pid}
    results: dict[str, dict[str, object]] = {}
    plan = [(f"rate_{int(r)}", int(int(r) * seconds), 1_000_000_000 // int(r), 0)
            for r in rates.split(",")] + [("max_rate", max_orders, 0, 512)]
    for name, count, interval, window in plan:
        s0, steal0 = sched_of(pids), steal_ticks()
        results[name] = run_load(client, count, interval, window)
        results[name]["sched"] = sched_delta(s0, sched_of(pids))
        results[name]["steal_ticks"] = steal_ticks() - steal0
    set_fifo(0, 0)
    client.terminate()
    return results, napi


def _print_paths(by_path: dict[str, dict[str, dict[str, object]]],
                 io_counts: dict[str, dict[str, object]], echo: dict[str, int]
                 ) -> dict[str, float]:
    """One table row per path and run, with ratios to the echo and to the epoll path; returns
    the ratios for the JSON (keys PATH_RUN_p50_to_echo / _to_epoll, ...)."""
    hdr = f"{'path':<16}{'run':<12}{'orders/s':>10}{'lost':>5}{'P50 us':>8}{'P99 us':>8}" \
          f"{'P99.9 us':>9}{'max us':>9}{'P50/echo':>9}{'P99/echo':>9}{'P50/epl':>8}" \
          f"{'P99/epl':>8}{'tput/epl':>9}  uncorr. P50/P99 us; run-queue wait ms (switches) " \
          f"client/gateway/engine; steal"
    print(hdr)
    print(f"{'tcp echo':<28}{'closed':>10}{0:>5}{echo['p50_ns'] / 1e3:>8.1f}"
          f"{echo['p99_ns'] / 1e3:>8.1f}{echo['p999_ns'] / 1e3:>9.1f}{echo['max_ns'] / 1e3:>9.1f}")
    ratios: dict[str, float] = {}
    base = by_path.get("epoll")
    for path, results in by_path.items():
        for name, r in results.items():
            c, u, sd = r["corrected"], r["uncorrected"], r["sched"]
            assert isinstance(c, dict) and isinstance(u, dict) and isinstance(sd, dict)
            key = f"{path}_{name}"
            ratios[f"{key}_p50_to_echo"] = round(c["p50_ns"] / echo["p50_ns"], 3)
            ratios[f"{key}_p99_to_echo"] = round(c["p99_ns"] / echo["p99_ns"], 3)
            to_epoll = ["", "", ""]
            if base is not None and name in base:
                b = base[name]["corrected"]
                assert isinstance(b, dict)
                tput = float(r["achieved_orders_per_s"]) / max(float(base[name]["achieved_orders_per_s"]), 1.0)  # type: ignore[arg-type]
                ratios[f"{key}_p50_to_epoll"] = round(c["p50_ns"] / b["p50_ns"], 3)
                ratios[f"{key}_p99_to_epoll"] = round(c["p99_ns"] / b["p99_ns"], 3)
                ratios[f"{key}_throughput_to_epoll"] = round(tput, 3)
                to_epoll = [f"{c['p50_ns'] / b['p50_ns']:.2f}", f"{c['p99_ns'] / b['p99_ns']:.2f}",
                            f"{tput:.2f}"]
            waits = "/".join(f"{sd[n]['run_delay_ms']:.1f}({sd[n]['switched_in']})"
                             for n in ("client", "gateway", "engine"))
            print(f"{path:<16}{name:<12}{r['achieved_orders_per_s']:>10.0f}{r['lost']:>5}"
                  f"{c['p50_ns'] / 1e3:>8.1f}{c['p99_ns'] / 1e3:>8.1f}{c['p999_ns'] / 1e3:>9.1f}"
                  f"{c['max_ns'] / 1e3:>9.1f}{c['p50_ns'] / echo['p50_ns']:>9.2f}"
                  f"{c['p99_ns'] / echo['p99_ns']:>9.2f}{to_epoll[0]:>8}{to_epoll[1]:>8}"
                  f"{to_epoll[2]:>9}  {u['p50_ns'] / 1e3:.1f}/{u['p99_ns'] / 1e3:.1f}; {waits}; "
                  f"{r['steal_ticks']}")
    print("gateway I/O per frame in or out (its own counters, whole run incl. warm-up):")
    for path, io in io_counts.items():
        print(f"  {path:<16}{io.get('io', '')}; {io.get('busy_poll', '')}: "
              f"{io.get('syscalls_per_frame')} system calls, {io.get('copied_bytes_per_frame')} "
              f"bytes copied in user space by the backend; client socket NAPI id "
              f"{io.get('client_socket_napi_id')} (0: no NAPI context, busy polling has nothing "
              f"to spin on); {io.get('frames_out_per_send')} frames out per send operation"
              + (f"; the session over {io['tls']} (the load generator through OpenSSL)"
                 if io.get("tls", "none") != "none" else "")
              + (f" ({io['sends_linked']} of {io['sends']} sends linked behind another of their "
                 f"connection, {io['sends_waited']} flushes waited behind a chain in the kernel)"
                 if io.get("io", "").startswith("io_uring") and "sends" in io else ""))
    return ratios


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs: finishes within 60 s")
    ap.add_argument("--seconds", type=positive_float, default=None, help="seconds per fixed rate")
    ap.add_argument("--rates", default="10000,50000,100000", help="orders/s, comma-separated")
    ap.add_argument("--placement", choices=sorted(PLACEMENTS), default="paired",
                    help="split: client+engine on the first CPU, gateway on the last; paired: "
                         "client alone, gateway+engine together")
    ap.add_argument("--sched", choices=["fifo", "other"], default=None,
                    help="fifo (default where permitted): client 30, gateway 20, engine 10 "
                         "(30 when paired with the gateway); other: SCHED_OTHER everywhere")
    ap.add_argument("--gateway-wait", choices=["spin", "backoff"], default=None,
                    help="default backoff (a SCHED_FIFO loop must block when idle); spin: "
                         "--busy-poll, only with --sched other")
    ap.add_argument("--gateway-idle-spin-us", type=non_negative_int, default=None,
                    help="backoff: how long the gateway polls after its last work (default 0 "
                         "fifo: every spin is RT time; 50 other)")
    ap.add_argument("--gateway-inflight-spin-us", type=non_negative_int, default=None,
                    help="backoff: how long the gateway polls with a command in flight before "
                         "blocking on its waker (default: the gateway's own, 100; 0: block at "
                         "once, the loop before the in-flight spin, for before/after)")
    ap.add_argument("--engine-spin", type=non_negative_int, default=None,
                    help="engine backoff: idle polls before sleeping (default 20 fifo, 2000 other)")
    ap.add_argument("--dma-latency-us", type=dma_latency_us, default=None,
                    help="hold /dev/cpu_dma_latency at this value for the whole run (echo too)")
    ap.add_argument("--no-event-doorbell", action="store_true",
                    help="gateway --no-event-doorbell (its idle epoll_wait is not ended by the "
                         "engine's event-log doorbell), to compare the doorbell's cost")
    ap.add_argument("--no-durable-ack", action="store_true",
                    help="skip the last part: a lone order's durable ack per journal durability "
                         "mode beside the disk's own durable write and the TCP echo "
                         "(bench/journal_wire.py)")
    ap.add_argument("--paths", default=DEFAULT_PATHS,
                    help=f"socket paths to measure side by side, of {', '.join(PATHS)} (default "
                         f"{DEFAULT_PATHS}); each gets its own venue")
    ap.add_argument("--passive-fill", action="store_true",
                    help="instead: the passive-fill measure of bench/wire_passive.py (a resting "
                         "order's report on an idle gateway, event doorbell on vs off)")
    args, rest = ap.parse_known_args()
    if args.passive_fill:
        from wire_passive import main as passive_fill_main
        return passive_fill_main((["--quick"] if args.quick else []) + rest)
    if rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    try:                                  # whole rates > 0 (they were a ValueError mid-run)
        args.rates = ",".join(map(str, int_list(args.rates)))
    except argparse.ArgumentTypeError as exc:
        ap.error(f"--rates: {exc}")
    paths = [p for p in args.paths.split(",") if p]
    bad = [p for p in paths if p not in PATHS]
    if bad or not paths:
        ap.error(f"--paths: {', '.join(bad) or 'none given'}: use some of {', '.join(PATHS)}")
    uring_why = io_uring_unavailable() if any(p.startswith("io_uring") for p in paths) else ""
    seconds = args.seconds or ((0.5 if len(paths) > 1 else 1.0) if args.quick else 5.0)
    max_orders = (100_000 if len(paths) > 1 else 300_000) if args.quick else 1_000_000
    cpus = sorted(os.sched_getaffinity(0))
    ci, gi, ei = PLACEMENTS[args.placement]
    client_cpu, gateway_cpu, engine_cpu = cpus[ci], cpus[gi], cpus[ei]
    sched = args.sched or ("fifo" if fifo_permitted() else "other")
    sched_note = "" if args.sched or sched == "fifo" else " (SCHED_FIFO not permitted here)"
    if sched == "fifo" and not fifo_permitted():
        raise SystemExit("wire: --sched fifo: SCHED_FIFO is not permitted for this user")
    gateway_wait = args.gateway_wait or "backoff"
    if sched == "fifo" and gateway_wait == "spin":
        raise SystemExit("wire: --gateway-wait spin with --sched fifo: a FIFO loop that never "
                         "blocks is RT-throttled (sched_rt_runtime_us); use --sched other")
    prio = {"client": 30, "gateway": 20,
            "engine": (30 if engine_cpu == gateway_cpu else 10)} if sched == "fifo" else \
        {"client": 0, "gateway": 0, "engine": 0}
    engine_spin = args.engine_spin if args.engine_spin is not None else (
        20 if sched == "fifo" else 2000)
    if args.gateway_idle_spin_us is None:
        args.gateway_idle_spin_us = 0 if sched == "fifo" else 50
    try:
        dma, dma_fd = dma_state(args.dma_latency_us)
    except OSError as exc:
        raise SystemExit(f"wire: cannot hold /dev/cpu_dma_latency at {args.dma_latency_us} us: "
                         f"{exc.strerror}") from None
    load_before = os.getloadavg()

    def sched_of(pids: dict[str, int]) -> dict[str, tuple[int, int]]:
        return {name: schedstat(pid) for name, pid in pids.items()}

    def sched_delta(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]
                    ) -> dict[str, dict[str, float]]:
        return {n: {"run_delay_ms": round((b[n][0] - a[n][0]) / 1e6, 3),
                    "switched_in": b[n][1] - a[n][1]} for n in a}

    try:
        # The echo baseline: same CPUs as client and gateway, same policy (its threads inherit).
        rtt = np.zeros(20_000 if args.quick else 100_000, dtype=np.uint64)
        set_fifo(0, prio["client"])
        steal0 = steal_ticks()
        rc = lib.probe_tcp_pingpong(ffi.cast("uint64_t *", ffi.from_buffer(rtt)), len(rtt), 2000,
                                    NOS_FRAME_BYTES, client_cpu, gateway_cpu, 5000)
        set_fifo(0, 0)
        if rc != 0:
            raise SystemExit(f"wire: echo baseline failed: {os.strerror(-rc)}")
        echo = _pcts(_hist(rtt.astype(np.int64)))
        echo["steal_ticks"] = steal_ticks() - steal0

        by_path: dict[str, dict[str, dict[str, object]]] = {}
        io_counts: dict[str, dict[str, object]] = {}
        skipped: dict[str, str] = {}
        for path in paths:
            if path.startswith("io_uring") and uring_why:
                skipped[path] = f"io_uring cannot run here: {uring_why}"
                continue
            with tempfile.TemporaryDirectory() as tmp:
                venue = Venue(engine_cpu, gateway_cpu, gateway_wait == "spin", Path(tmp),
                              prio["engine"], prio["gateway"], engine_spin,
                              args.gateway_idle_spin_us,
                              (("--no-event-doorbell",) if args.no_event_doorbell else ())
                              + (() if args.gateway_inflight_spin_us is None else
                                 ("--inflight-spin-us", str(args.gateway_inflight_spin_us)))
                              + PATHS[path], tls=path.startswith("tls"))
                try:
                    by_path[path], napi = _measure(venue, client_cpu, prio["client"], seconds,
                                                   max_orders, args.rates, sched_of, sched_delta)
                finally:
                    set_fifo(0, 0)
                    os.sched_setaffinity(0, set(cpus))
                    gw_err = venue.close()
            io_counts[path] = gateway_io_counts(gw_err)
            io_counts[path]["client_socket_napi_id"] = napi
            io_counts[path]["tls"] = venue.tls_version
    finally:
        if dma_fd is not None:
            os.close(dma_fd)
    load_after = os.getloadavg()
    lone = {} if args.no_durable_ack else lone_order_acks(args.quick)

    print(f"wire-to-wire NewOrderSingle -> ExecutionReport(New), loopback TCP; placement "
          f"{args.placement}: client cpu {client_cpu} (ppoll), gateway cpu {gateway_cpu} "
          f"({'busy-poll' if gateway_wait == 'spin' else f'backoff, {args.gateway_idle_spin_us} us spin'}), "
          f"engine cpu {engine_cpu} (backoff, {engine_spin} polls); sched {sched}{sched_note} "
          f"{'' if sched == 'other' else str(prio)}")
    print(f"cpuidle driver {dma['cpuidle_driver']}, cpu_dma_latency {dma['cpu_dma_latency_us']} us "
          f"({'held at ' + str(args.dma_latency_us) + ' us by this bench' if args.dma_latency_us is not None else 'not held by this bench'}); "
          f"load average before/after {load_before[0]:.2f}/{load_after[0]:.2f} (other work on these cores)")
    ratios = _print_paths(by_path, io_counts, echo)
    for path, why in skipped.items():
        print(f"{path}: not measured ({why})")
    results: dict[str, object] = dict(by_path)
    results["gateway_io"] = io_counts
    results["skipped_paths"] = skipped
    baselines: dict[str, object] = {"tcp_echo_rtt": echo}
    if lone:
        print_lone_order_acks(lone)
        results["lone_order_durable_ack"] = lone
        add_lone_ratios(lone, baselines, ratios)  # type: ignore[arg-type]
    machine = {"cores": len(cpus), "platform": platform.platform(), "placement": args.placement,
               "client_cpu": client_cpu, "gateway_cpu": gateway_cpu, "engine_cpu": engine_cpu,
               "sched": sched, "fifo_priorities": prio if sched == "fifo" else None,
               "client_wait": "ppoll (blocking, 1 ns timer slack)",
               "gateway_wait": "busy-poll" if gateway_wait == "spin" else
               f"epoll backoff ({args.gateway_idle_spin_us} us spin, "
               f"{'default' if args.gateway_inflight_spin_us is None else args.gateway_inflight_spin_us}"
               f" us in flight, then blocking)",
               "engine_wait": f"backoff: {engine_spin} idle polls, then futex sleep (no yields)",
               "gateway_event_doorbell": not args.no_event_doorbell,
               "echo_wait": "blocking recv", "echo_sched": sched,
               "tcp_nodelay": True, "dma_latency": dma,
               "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
               "tuning": "none applied by this bench",
               "network_path": "loopback TCP (the kernel's software path; no NIC)",
               "paths": {p: " ".join(PATHS[p]) or "(defaults)" for p in paths}}
    print(json.dumps({"bench": "wire", "machine": machine, "metrics": results,
                      "baselines": baselines, "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(launcher.run_main(main, "wire"))
