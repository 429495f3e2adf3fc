"""Runs the demo flow through a real venue: the engine in its own pinned process, a producer that
talks to it through the shared-memory SPSC rings, and a reader of its broadcast event log.

Owns the process choreography of the demo (start, wait for readiness, load, drain, stop) and the
measurements taken on the way: each continuous-session command is submitted on its own and its
round trip (encode done beforehand; submit -> engine -> reply) is timed on the client, and the
same sequenced commands are then replayed in-process through eng_bench_run so the engine's own
per-message time is known. Nothing here is simulated: every figure comes from this run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import numpy as np

from gateway.demo_flow import INSTRUMENTS, TICK, DemoFlow
from native import records
from native._venue import ffi, lib
from shm import errors as shm_errors
from shm.client import EngineClient, EventStream
from shm.engine_segments import control_path, remove_leftovers
from shm.segment import KIND_CONTROL, Segment

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0


class VenueError(RuntimeError):
    """The engine process could not be started, reached or stopped; the message says which."""


@dataclass
class VenueRun:
    """What the demo measured."""
    events: list[dict]             # every event the engine published for the demo's commands
    event_records: np.ndarray      # the same events as raw 96-byte records, in log order
    replies: int
    round_trip_ns: np.ndarray      # client round trip of each continuous-session command
    engine_ns: np.ndarray          # in-process eng_process time of the same commands
    sequenced: np.ndarray          # the commands as the engine sequenced them (seq, ts_ns)
    lapped: bool
    engine_cpu: int
    client_cpu: int
    wait: str
    engine_exit_code: int
    engine_stderr: str


def _cpus() -> tuple[int, int]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) == 1:
        return cpus[0], cpus[0]
    return cpus[-1], cpus[0]


def _instruments_arg() -> str:
    return ",".join(f"{i.instrument_id}:{TICK}:1:{i.reference_price}" for i in INSTRUMENTS)


def _wait_ready(proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        if proc.poll() is not None:
            raise VenueError(f"engine process exited with {proc.returncode} during start-up: "
                             f"{proc.stderr.read() if proc.stderr else ''}")
        try:
            seg = Segment.attach(control_path(name), KIND_CONTROL, 0, 2_000_000_000)
            ready = seg.control().producer_count > 0
            seg.detach()
            if ready:
                return
        except shm_errors.SegmentError:
            pass
        if time.monotonic() > deadline:
            raise VenueError(f"engine process did not create its segments within {START_DEADLINE_S} s")
        time.sleep(0.005)  # polling interval of a condition wait


def _sequenced(cmds: np.ndarray, events: list[dict], event_records: np.ndarray) -> np.ndarray:
    """The commands with the seq and ts_ns the engine stamped on them. Every command produces
    at least one event (native/ENGINE.md), and events carry their command's seq and ts_ns, in
    order, so the k-th distinct seq in the log belongs to the k-th command."""
    seqs: list[int] = []
    stamps: list[int] = []
    for ev in events:
        if not seqs or ev["seq"] != seqs[-1]:
            seqs.append(ev["seq"])
            stamps.append(ev["ts_ns"])
    if len(seqs) != len(cmds):
        raise VenueError(f"{len(cmds)} commands but {len(seqs)} sequence numbers in the event log")
    out = cmds.copy()
    hdr = out.view(records.dtype_of("eng_cmd_hdr_t"))
    hdr["seq"] = np.asarray(seqs, dtype=np.uint64)
    hdr["ts_ns"] = np.asarray(stamps, dtype=np.int64)
    return out


def _engine_time_per_message(boot: list[dict], sequenced: np.ndarray, first_timed: int) -> np.ndarray:
    """Replays the sequenced commands in-process and times eng_process per message in C."""
    cfg = ffi.new("eng_config_t *", {"max_orders": 1 << 16, "max_levels": 1 << 14,
                                     "max_instruments": len(INSTRUMENTS), "max_accounts": 64})
    engp = ffi.new("eng_engine_t **")
    rc = lib.eng_create(cfg, engp)
    if rc < 0:
        raise VenueError(f"cannot create an in-process engine: {os.strerror(-rc)}")
    eng = engp[0]
    try:
        boot_recs = records.encode_commands(boot)
        result = ffi.new("eng_bench_result_t *")
        lib.eng_bench_run(eng, ffi.cast("eng_cmd_t *", ffi.from_buffer(boot_recs)), len(boot_recs),
                          ffi.NULL, result)
        head = np.ascontiguousarray(sequenced[:first_timed])
        lib.eng_bench_run(eng, ffi.cast("eng_cmd_t *", ffi.from_buffer(head)), len(head),
                          ffi.NULL, result)
        tail = np.ascontiguousarray(sequenced[first_timed:])
        lat = np.zeros(len(tail), dtype=np.uint32)
        lib.eng_bench_run(eng, ffi.cast("eng_cmd_t *", ffi.from_buffer(tail)), len(tail),
                          ffi.cast("uint32_t *", ffi.from_buffer(lat)), result)
        return lat.astype(np.int64)
    finally:
        lib.eng_destroy(eng)


def run_venue(flow: DemoFlow, wait: str = "backoff") -> VenueRun:
    """Starts the engine process, plays the flow through the rings, stops the engine cleanly."""
    name = f"demo{uuid.uuid4().hex[:8]}"
    engine_cpu, client_cpu = _cpus()
    setup = flow.setup(include_instruments=False)
    opening = flow.pre_open_and_auction()
    continuous = flow.continuous_list()
    all_cmds = records.encode_commands(setup + opening + continuous)
    first_timed = len(setup) + len(opening)

    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "engine", "--name", name, "--cpu", str(engine_cpu),
         "--instruments", _instruments_arg(), "--phase", "closed", "--wait", wait,
         "--max-orders", str(1 << 16), "--max-levels", str(1 << 14), "--max-accounts", "64",
         "--producers", "2", "--event-log-bytes", str(1 << 26), "--no-mlock"],
        stderr=subprocess.PIPE, text=True)
    client = stream = None
    try:
        _wait_ready(proc, name)
        previous_affinity = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {client_cpu})
        stream = EventStream(name, buffer_events=1 << 16)
        client = EngineClient(name)
        client.submit_records(all_cmds[:first_timed])
        timed = all_cmds[first_timed:]
        rtt = np.empty(len(timed), dtype=np.int64)
        submit, clock = client.submit_bytes, time.perf_counter_ns
        for i in range(len(timed)):
            rec = timed[i].tobytes()
            t0 = clock()
            submit(rec)
            rtt[i] = clock() - t0
        os.sched_setaffinity(0, previous_affinity)
        chunks, lapped = [], False
        while True:
            payloads, lap = stream.poll(1 << 16)
            lapped |= lap
            if len(payloads) == 0:
                break
            chunks.append(payloads.copy())
        event_records = np.concatenate(chunks) if chunks else np.empty((0, 96), np.uint8)
    finally:
        if client is not None:
            client.close()
        if stream is not None:
            stream.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        remove_leftovers(name)

    events = records.decode_events(event_records.view(records.RECORD_DTYPE).ravel())
    sequenced = _sequenced(all_cmds, events, event_records)
    boot = [{"type": "ADD_INSTRUMENT", "instrument_id": i.instrument_id, "seq": k + 1,
             "tick_size": TICK, "lot_size": 1, "reference_price": i.reference_price,
             "market_collar_ticks": 100} for k, i in enumerate(INSTRUMENTS)]
    engine_ns = _engine_time_per_message(boot, sequenced, first_timed)
    return VenueRun(events=events, event_records=event_records, replies=len(all_cmds),
                    round_trip_ns=rtt, engine_ns=engine_ns, sequenced=sequenced, lapped=lapped,
                    engine_cpu=engine_cpu, client_cpu=client_cpu, wait=wait,
                    engine_exit_code=proc.returncode, engine_stderr=stderr)
