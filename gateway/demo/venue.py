"""Runs the demo flow through a real venue: the matching engine in its own pinned process, the
order-entry gateway in another, a trading client on TCP, and a reader of the broadcast event log.

Owns the process choreography of the demo (start, wait for readiness, load, drain, stop) and the
measurements taken on the way. The venue's set-up, its pre-open orders and the opening auction go
in through the shared-memory rings (the operator's path: risk limits and phase changes have no
order-entry message); the continuous session, the part that is timed, is sent by a client over
TCP to the gateway, one request at a time, each awaited before the next. The engine and the gateway
stamp every request at the seven points of the order path and record the stages into their
shared-memory histograms (venue_layout.h Section 5), which are read here before the venue stops.
The engine journals every command (async durability), so the demo can replay exactly the commands
the engine sequenced. Nothing here is simulated: every figure comes from this run.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gateway import launcher
from gateway.enginehost import journal
from gateway.client import Client
from gateway.demo.flow import INSTRUMENTS, MAKER_ACCOUNTS, TAKER_ACCOUNTS, TICK, DemoFlow
from gateway.demo.execution_algo import READY_LINE as ALGO_READY_LINE
from gateway.demo.market_maker import READY_LINE
from gateway.latency import END_TO_END, Snapshot
from gateway.latency.region import STAGE_NAMES
from gateway.latency.venue import snapshot_venue
from gateway.orderentry.sbe_codec import (BusinessMessageReject, ExecutionReport, OrderCancelReject,
                               OrderFlags, OrdType, SelfTradePrevention, Side, Terminate, TimeInForce)
from native import records
from native.messages import Cancel, Command, Event, NewOrder, Replace
from native.records import Reason, type_name
from shm.client import EngineClient, EventStream

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0
ANSWER_DEADLINE_S = 10.0
GATEWAY_REASONS_FROM = 900      # venue_layout.h: 900-999 are the gateway's own reason codes
SESSION_ID, FIRM_ID, SESSION_KEY = 1, 1, "demo"
# Engine capacities: the in-process replay of the determinism check must use the same ones.
MAX_ORDERS, MAX_LEVELS, MAX_ACCOUNTS = 1 << 16, 1 << 14, 64
# The live market maker (gateway/demo/market_maker.py): its instrument and its own account, apart
# from the flow's makers and takers; its own producer slot is the engine's third.
MM_INSTRUMENT, MM_ACCOUNT = INSTRUMENTS[0].instrument_id, 20
# The live execution algorithm (gateway/demo/execution_algo.py): a POV parent buy on the second
# instrument, its own account and the engine's fourth producer slot.
ALGO_INSTRUMENT, ALGO_ACCOUNT = INSTRUMENTS[1].instrument_id, 21


class VenueError(RuntimeError):
    """A process could not be started, reached or stopped; the message says which."""


@dataclass
class VenueRun:
    """What the demo measured."""
    events: list[Event]            # every event the engine published after the boot commands
    event_records: np.ndarray      # the same events as raw 96-byte records, in log order
    sequenced: np.ndarray          # every command as the engine sequenced it (its journal)
    first_seq: int                 # seq of the first event in `events`
    ring_commands: int             # set-up, pre-open and auction, through the shm rings
    gateway_requests: int          # continuous-session requests sent over TCP
    round_trip_ns: np.ndarray      # client-measured request -> first answer, each request
    gateway_answered: Counter[str]  # requests the gateway answered without the engine, by reason
    latency: Snapshot              # the engine's and the gateway's stage histograms
    lapped: bool
    engine_cpu: int
    gateway_cpu: int
    client_cpu: int
    market_maker_cpu: int
    wait: str
    engine_exit_code: int
    gateway_exit_code: int
    engine_stderr: str
    gateway_stderr: str
    market_maker: dict[str, Any]   # the market maker's own account of its run (its JSON line)
    execution: dict[str, Any]      # the execution algorithm's parent order at the end (its JSON line)


def _cpus() -> tuple[int, int]:
    """(engine cpu, gateway and client cpu): the engine alone where there are two cores; the
    client blocks while the gateway works, so those two take turns on the other core."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-1], cpus[0]


def _mm_cpu(engine_cpu: int, client_cpu: int) -> int:
    """The market maker's cpu: one of its own where there is one to spare, else the gateway's and
    the client's (never the engine's: the engine's core is what the latency report measures)."""
    spare = sorted(os.sched_getaffinity(0) - {engine_cpu, client_cpu})
    return spare[0] if spare else client_cpu


def _instruments_arg() -> str:
    return ",".join(f"{i.instrument_id}:{TICK}:1:{i.reference_price}" for i in INSTRUMENTS)


def _gateway_config() -> dict:
    accounts = sorted(set(MAKER_ACCOUNTS) | set(TAKER_ACCOUNTS))
    # No cancel-on-disconnect: the books printed are the ones the session left.
    return {"firms": [{"firm_id": FIRM_ID, "accounts": accounts, "name": "demo"}],
            "sessions": [{"session_id": SESSION_ID, "firm_id": FIRM_ID, "key": SESSION_KEY,
                          "cancel_on_disconnect": False}]}


def _send(client: Client, cmd: Command, order_ids: dict[int, int]) -> int:
    """Sends one flow command as the matching order-entry request; returns its clOrdId."""
    iid = cmd.instrument_id
    if isinstance(cmd, NewOrder):
        ord_type = OrdType(cmd.ord_type)
        # 0 is "not given" in the engine record; the client takes None for an absent field.
        return client.new_order(
            iid, Side(cmd.side), cmd.qty, cmd.account_id, price=cmd.price or None,
            ord_type=ord_type, time_in_force=TimeInForce(cmd.tif),
            stop_px=cmd.stop_price or None, display_qty=cmd.display_qty or None,
            stp_group=cmd.stp_group,
            stp_mode=SelfTradePrevention(cmd.stp_mode),
            flags=OrderFlags(cmd.flags))
    # The venue's order id, learned from the order's New report (closed loop: always known).
    if isinstance(cmd, Cancel):
        return client.cancel(order_ids[cmd.order_id], iid)
    if isinstance(cmd, Replace):
        return client.replace(order_ids[cmd.order_id], iid, cmd.price, cmd.qty)
    raise VenueError(f"the continuous session has no {type_name(cmd)} request")


def _reason_name(code: int) -> str:
    try:
        return Reason(code).name
    except ValueError:
        return "unknown reason"


def _answer(client: Client, cl_ord_id: int) -> object:
    """Reads until the first message answering cl_ord_id (an ExecutionReport, OrderCancelReject
    or BusinessMessageReject naming it). One request is in flight, so everything read before or
    with it belongs to this or earlier requests and is dropped."""
    deadline = time.monotonic() + ANSWER_DEADLINE_S
    sock, core = client.sock, client.core
    terminate: Terminate | None = None
    while True:
        for msg in client.inbox:
            if isinstance(msg, Terminate):
                terminate = msg
            if isinstance(msg, (ExecutionReport, OrderCancelReject)) and msg.cl_ord_id == cl_ord_id:
                client.inbox.clear()
                return msg
            if isinstance(msg, BusinessMessageReject) and msg.business_reject_ref_id == cl_ord_id:
                client.inbox.clear()
                return msg
        client.inbox.clear()
        left = deadline - time.monotonic()
        if left <= 0:
            raise VenueError(f"no answer to clOrdId {cl_ord_id} within {ANSWER_DEADLINE_S} s")
        sock.settimeout(left)
        try:
            data = sock.recv(1 << 16)
        except socket.timeout:
            continue
        if not data:
            why = (f": Terminate reason {terminate.reason_code} ({_reason_name(terminate.reason_code)}) "
                   f"{terminate.reason.decode(errors='replace')!r}" if terminate is not None else " without a Terminate")
            raise VenueError(f"the gateway closed the demo's session{why}")
        client.inbox.extend(core.feed(data))


def run_venue(flow: DemoFlow, journal_dir: Path, wait: str = "backoff") -> VenueRun:
    """Starts engine and gateway, plays the flow (rings, then TCP) with the live market maker
    quoting through the continuous session, reads the latency histograms and the event log, stops
    all three cleanly and reads back the engine's command journal, which stays in journal_dir (a
    directory that must not exist yet; the caller owns it)."""
    engine_cpu, client_cpu = _cpus()
    mm_cpu = _mm_cpu(engine_cpu, client_cpu)
    setup = flow.setup(include_instruments=False)
    opening = flow.pre_open_and_auction()
    continuous = flow.continuous_list()
    ring_cmds = records.encode_commands(setup + opening)

    with tempfile.TemporaryDirectory(prefix="venue-demo-") as tmp:
        cfg_path = Path(tmp) / "gateway.json"
        cfg_path.write_text(json.dumps(_gateway_config()))
        procs = launcher.Venue(prefix="demo", stop_deadline_s=STOP_DEADLINE_S)
        name = procs.name
        gateway: subprocess.Popen[str] | None = None
        admin = stream = client = None
        try:
            engine = procs.start_engine(
                "--cpu", str(engine_cpu), "--instruments", _instruments_arg(), "--phase", "closed",
                "--wait", wait, "--max-orders", str(MAX_ORDERS), "--max-levels", str(MAX_LEVELS),
                "--max-accounts", str(MAX_ACCOUNTS), "--producers", "4", "--event-log-bytes", str(1 << 26),
                "--no-mlock", "--journal", str(journal_dir), "--durability", "async", "--segment-mb", "32",
                "--snapshot-every", "0", deadline_s=START_DEADLINE_S)
            stream = EventStream(name, buffer_events=1 << 16)
            admin = EngineClient(name)
            admin.submit_records(ring_cmds)
            admin.close()
            admin = None
            # The opening auction is done: the market maker attaches now and quotes through the
            # continuous session (its book view is built from the events after it attached).
            mm = procs.spawn("marketmaker", [
                sys.executable, "-m", "gateway.demo.market_maker", "--venue", name,
                "--instrument", str(MM_INSTRUMENT), "--account", str(MM_ACCOUNT), "--tick", str(TICK),
                "--cpu", str(mm_cpu)], stdout=subprocess.PIPE)
            assert mm.stdout is not None
            if mm.stdout.readline().strip() != READY_LINE:
                raise launcher.LaunchError(f"the market maker did not attach: {launcher.output(mm)}")
            algo = procs.spawn("execalgo", [
                sys.executable, "-m", "gateway.demo.execution_algo", "--venue", name,
                "--instrument", str(ALGO_INSTRUMENT), "--account", str(ALGO_ACCOUNT), "--tick", str(TICK),
                "--cpu", str(mm_cpu)], stdout=subprocess.PIPE)
            assert algo.stdout is not None
            if algo.stdout.readline().strip() != ALGO_READY_LINE:
                raise launcher.LaunchError(f"the execution algorithm did not attach: {launcher.output(algo)}")
            gateway, port = procs.start_gateway(Path(tmp) / "port", "--listen", "127.0.0.1:0", "--config",
                                                 str(cfg_path), "--cpu", str(client_cpu), "--idle-spin-us", "0",
                                                 deadline_s=START_DEADLINE_S)

            previous_affinity = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {client_cpu})
            # The client shares the gateway's core. Under SCHED_OTHER its wake-up on a report
            # preempts the gateway inside send(), and the gateway's transmit stamp would then
            # include the client's Python time; SCHED_BATCH does not preempt on wake-up.
            previous_policy = os.sched_getscheduler(0)
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
            client = Client.connect("127.0.0.1", port, SESSION_ID, FIRM_ID, SESSION_KEY, keepalive_ms=30_000)
            order_ids: dict[int, int] = {}
            gateway_answered: Counter[str] = Counter()
            rtt = np.empty(len(continuous), dtype=np.int64)
            clock = time.perf_counter_ns
            for i, cmd in enumerate(continuous):
                t0 = clock()
                answer = _answer(client, _send(client, cmd, order_ids))
                rtt[i] = clock() - t0
                if isinstance(cmd, NewOrder) and isinstance(answer, ExecutionReport):
                    order_ids[cmd.order_id] = answer.order_id
                reason = getattr(answer, "reason_code", 0)
                if reason >= GATEWAY_REASONS_FROM:
                    gateway_answered[f"{str(type_name(cmd)).lower()}: {Reason(reason).name}"] += 1
            os.sched_setscheduler(0, previous_policy, os.sched_param(0))
            os.sched_setaffinity(0, previous_affinity)
            # The transmit stamp follows the flush of the last answer: wait for its record.
            procs.wait_for(lambda: _all_transmitted(snapshot_venue(name)), "the last transmit stamp",
                           START_DEADLINE_S)
            latency = snapshot_venue(name)
            client.terminate()
            client = None
            # Stopped before the log is drained: its cancels of the quotes it left are in it.
            mm_exit = procs.stop("marketmaker")
            mm_lines = mm.stdout.read().strip().splitlines()
            if mm_exit != 0 or not mm_lines:
                raise VenueError(f"the market maker exited with {mm_exit}: "
                                 f"{' '.join(mm_lines[-1:])} {launcher.output(mm)}")
            market_maker = json.loads(mm_lines[-1])
            algo_exit = procs.stop("execalgo")
            algo_lines = algo.stdout.read().strip().splitlines()
            if algo_exit != 0 or not algo_lines:
                raise VenueError(f"the execution algorithm exited with {algo_exit}: "
                                 f"{' '.join(algo_lines[-1:])} {launcher.output(algo)}")
            execution = json.loads(algo_lines[-1])
            chunks, lapped = [], False
            while True:
                payloads, lap = stream.poll(1 << 16)
                lapped |= lap
                if len(payloads) == 0:
                    break
                chunks.append(payloads.copy())
            event_records = np.concatenate(chunks) if chunks else np.empty((0, 96), np.uint8)
        except launcher.LaunchError as exc:
            raise VenueError(str(exc)) from None
        finally:
            for handle in (client, admin, stream):
                if handle is not None:
                    handle.close()
            for role in ("marketmaker", "execalgo", "gateway", "engine"):
                if role in procs.procs:
                    procs.stop(role)
            engine_err = launcher.output(procs.procs["engine"]) if "engine" in procs.procs else ""
            gateway_err = launcher.output(gateway) if gateway is not None else ""
            procs.close()
        if engine.returncode != 0:
            raise VenueError(f"engine process exited with {engine.returncode}:\n{engine_err}")
        _, _, sequenced = journal.read_records(str(journal_dir), journal.KIND_CMD)

    events = records.decode_events(event_records.view(records.RECORD_DTYPE).ravel())
    return VenueRun(events=events, event_records=event_records,
                    sequenced=np.ascontiguousarray(sequenced),
                    first_seq=int(events[0].seq) if events else 0,
                    ring_commands=len(ring_cmds), gateway_requests=len(continuous),
                    round_trip_ns=rtt, gateway_answered=gateway_answered, latency=latency,
                    lapped=lapped, engine_cpu=engine_cpu,
                    gateway_cpu=client_cpu, client_cpu=client_cpu, market_maker_cpu=mm_cpu, wait=wait,
                    engine_exit_code=engine.returncode,
                    gateway_exit_code=gateway.returncode if gateway is not None else -1,
                    engine_stderr=engine_err, gateway_stderr=gateway_err, market_maker=market_maker,
                    execution=execution)


def _all_transmitted(snap: Snapshot) -> bool:
    """Every stamped request has its end-to-end record (each stage counts each request once)."""
    return snap.get(END_TO_END).total_count >= snap.get(STAGE_NAMES[0]).total_count
