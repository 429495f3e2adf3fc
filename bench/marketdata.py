"""bench/marketdata.py: how long from an engine event to a subscriber holding it decoded and
applied, with the venue as it runs: `python -m gateway engine` (its own process), the publisher's
C loop in `python -m gateway md publish --engine` (its own process), and a subscriber process whose
receive loop is C (md_subrx_poll: recv, validate, sequence, apply to the L3 book, timestamp).

Latency = subscriber CLOCK_MONOTONIC after applying the packet - the event's ts_ns, which the
engine takes from CLOCK_MONOTONIC when it dequeues the command (native/runner/runner_loop.c); one host,
one clock. A driver submits one order per planned instant (open loop, modest fixed rate) through
shm.client; how late the engine dequeued each command against its plan is reported separately
(driver + engine wake-up, not the feed). Measured for UDP multicast on loopback (unicast if
multicast cannot work here; the output says which) and ZeroMQ PUB/SUB over TCP loopback, with a
raw UDP ping-pong between two processes (both busy-polling, C) as the baseline in the same run.
Throughput: the publisher's C loop draining a pre-filled broadcast log (encode, pack, sendmmsg),
in this process to a loopback sink; and per veth path (kernel UDP, UDP with SO_BUSY_POLL, AF_XDP at
the subscriber, AF_XDP at both ends; root): the publisher process in one namespace drains the same
kind of log as fast as it goes while the subscriber's C loop in the other applies every message,
recovering losses over TCP; messages applied per second from its first packet to its last
message, with the gaps it had to recover (the delivered rate: the slower of the two ends bounds
it). Prints a table, then one JSON line.

What 2 shared cores allow: four processes (driver, engine, publisher, subscriber) cannot all
busy-poll, and the cores are shared with other work: a SCHED_OTHER spinning publisher is
time-sliced with it (P99 in milliseconds), a SCHED_FIFO one that never sleeps is RT-throttled
(50 ms of every second). Default where permitted (--sched fifo, pinned): the publisher alone on
cpu 0, SCHED_FIFO, polling the log with 10 us sleeps (no timer slack); engine, subscriber and
driver SCHED_FIFO on cpu 1; every wake-up then preempts other work at once. The older defaults
follow with --sched other --no-pin: the publisher spins (the log has no doorbell). In both, the
engine uses backoff with a short spin (woken by the driver's doorbell; its wake-up is before
ts_ns, so outside the figure), the subscriber spins briefly and then blocks in poll(2) (its wake-up
is inside the figure; --subscriber-wait spin shows the other side of that trade, and starves the
engine). The ping-pong baseline busy-polls on both sides under the same policy and CPUs, so it is
the floor, not a like-for-like.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway import launcher  # noqa: E402
from gateway.cli_numbers import non_negative_float, positive_float, positive_int  # noqa: E402
from gateway.marketdata import zmq_native  # noqa: E402
from gateway.marketdata.book import FeedBook  # noqa: E402
from gateway.marketdata.encoder import EncoderConfig  # noqa: E402
from gateway.marketdata.log_publisher import LogPublisher, LoopConfig  # noqa: E402
from gateway.marketdata.publisher import PublisherConfig  # noqa: E402
from gateway.marketdata.recovery import RecoveryClient  # noqa: E402
from gateway.marketdata.transport import UdpChannel, UdpReceiver, ZmqReceiver, multicast_works  # noqa: E402
from gateway.marketdata.netns import PUB_ADDR, SUB_ADDR, VethPair, veth_pair, why_no_netns  # noqa: E402
from gateway.marketdata.xdp_transport import XdpReceiver, interface_mac_and_ipv4  # noqa: E402
from gateway.orderentry.io_backend import incoming_napi_id  # noqa: E402
from native import records  # noqa: E402
from native._venue import ffi, lib  # noqa: E402
from native.messages import AddInstrument, Cancel, Command, NewOrder, SetPhase  # noqa: E402
from native.engine import Engine  # noqa: E402
from shm.client import REPLY_DTYPE, EngineClient  # noqa: E402
from shm.rings import BroadcastWriter  # noqa: E402
from shm.segment import KIND_BROADCAST, Segment, unlink_segment  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sched_state import dma_state, fifo_permitted, schedstat, set_fifo  # noqa: E402

HERE = Path(__file__).resolve()


def _order_flow(n: int, seed: int, first_oid: int = 1_000) -> list[dict[str, int]]:
    """n commands on instrument 1: limit orders around a fixed mid (a share crossing), and
    cancels of earlier orders."""
    rng = np.random.default_rng(seed)
    cmds: list[Command] = []
    live: list[int] = []
    for i in range(n):
        if live and rng.random() < 0.35:
            oid = live.pop(int(rng.integers(len(live))))
            cmds.append(Cancel(instrument_id=1, order_id=oid))
            continue
        side = int(rng.integers(1, 3))
        off = int(rng.integers(-3, 20))
        price = 10_000 - off if side == 1 else 10_000 + off
        oid = first_oid + i
        live.append(oid)
        cmds.append(NewOrder(instrument_id=1, order_id=oid, price=price, qty=int(rng.integers(1, 10)) * 100,
                             side=side, ord_type=1, tif=2))
    return cmds


def _pct(ns: np.ndarray) -> dict[str, float]:
    if len(ns) == 0:
        return {"p50_ns": float("nan"), "p99_ns": float("nan"), "p999_ns": float("nan"),
                "max_ns": float("nan"), "samples": 0}
    return {"p50_ns": float(np.percentile(ns, 50)), "p99_ns": float(np.percentile(ns, 99)),
            "p999_ns": float(np.percentile(ns, 99.9)), "max_ns": float(ns.max()), "samples": int(len(ns))}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(cpu: int | None) -> None:
    if cpu is not None and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def _run_delay_ms(pid: int) -> float:
    """ms the process's threads spent runnable but waiting for a CPU (schedstat)."""
    return schedstat(pid)[0] / 1e6


# ---- helper processes ----------------------------------------------------------------------------
def _sub_source(args: argparse.Namespace) -> tuple[ZmqReceiver | UdpReceiver | XdpReceiver, Any]:
    """The subscriber's receive socket (args.transport: udp / zmq / xdp) and the md_subrx_io_t
    naming it; the receiver object must outlive the io."""
    io = ffi.new("md_subrx_io_t *")
    io.fd = -1
    io.xdp = ffi.NULL
    src: ZmqReceiver | UdpReceiver | XdpReceiver
    if args.transport == "zmq":
        src = ZmqReceiver(args.endpoint)
        src.socket.setsockopt(zmq.RCVTIMEO, 10)
        io.zmq_socket = zmq_native.socket_handle(src.socket)
        io.zmq_recv = zmq_native.recv_fn()
    elif args.transport == "xdp":
        src = XdpReceiver(args.ifname, args.port)      # raises with the reason: run fails
        print(f"note {src.description}", flush=True)
        io.xdp = src.handle
    else:
        src = UdpReceiver(UdpChannel(args.address, args.port), unicast=not args.address.startswith("239."),
                          busy_poll_us=args.busy_poll_us, rcvbuf_bytes=args.rcvbuf_bytes)
        io.fd = src.fileno()
    return src, io


def _recover_gap(book: FeedBook, rec: RecoveryClient, pkt: bytes) -> None:
    """A datagram the kernel dropped: recovers the range from the recovery server, then applies
    the packet the loop stopped at."""
    first = int.from_bytes(pkt[10:18], "big")
    while book.next_seq < first:
        got = rec.retransmit(book.next_seq, min(first - book.next_seq, 65535))
        for p in got:
            book.apply_packet(p)
    book.apply_packet(pkt)


def role_sub(args: argparse.Namespace) -> None:
    """Joins from a snapshot, waits for the first live packet (the feed reaches it), says ready,
    then collects `count` latency samples in C."""
    _pin(args.cpu)
    set_fifo(0, args.fifo)
    host, port = args.recovery.rsplit(":", 1)
    rec = RecoveryClient((host, int(port)), "VENUE")
    book = FeedBook(max_instruments=64)
    src, io = _sub_source(args)
    buf = np.zeros(int(lib.MD_MAX_PACKET_BYTES) * 2, dtype=np.uint8)
    lat = np.zeros(args.count, dtype=np.int64)
    io.buf = ffi.cast("uint8_t *", ffi.from_buffer(buf))
    io.buf_cap = len(buf)
    io.lat_ns = ffi.cast("int64_t *", ffi.from_buffer(lat))
    io.lat_cap = args.count
    io.spin_polls = 0xFFFFFFFF if args.sub_wait == "spin" else 200
    book.apply_snapshot(rec.snapshot())
    gaps = resyncs = 0

    def poll(max_packets: int, idle_ns: int) -> None:
        nonlocal gaps, resyncs
        rc = lib.md_subrx_poll(book.handle, io, max_packets, idle_ns)
        if rc == lib.MD_GAP:
            gaps += 1
            _recover_gap(book, rec, bytes(buf[:io.pkt_len]))
        elif rc < 0:
            resyncs += 1
            book.apply_snapshot(rec.snapshot())

    deadline = time.monotonic() + 20
    while io.packets == 0 and time.monotonic() < deadline:
        poll(1, 100_000_000)
    io.lat_count = 0
    print("ready", flush=True)
    # every command that changes the book yields one sample; rejected ones (a cancel of a filled
    # order) yield none, so the end is: count samples, or a second with no new sample
    deadline = time.monotonic() + args.timeout_s
    last_n, last_t = 0, time.monotonic()
    while io.lat_count < args.count and time.monotonic() < deadline:
        poll(64, 20_000_000)
        if io.lat_count != last_n:
            last_n, last_t = int(io.lat_count), time.monotonic()
        elif last_n and time.monotonic() - last_t > 1.0:
            break
    n = int(io.lat_count)
    napi = 0
    if isinstance(src, UdpReceiver):
        with socket.fromfd(src.fileno(), socket.AF_INET, socket.SOCK_DGRAM) as dup:
            napi = incoming_napi_id(dup)
    print(json.dumps({"lat": lat[:n].tolist(), "gaps": gaps, "resyncs": resyncs,
                      "book_stats": book.stats(), "napi_id": napi}), flush=True)
    rec.close()


def role_sub_throughput(args: argparse.Namespace) -> None:
    """The receiving end of a throughput run: a fresh book (the publisher starts at seq 1 once this
    says ready) takes every packet of a publisher draining a pre-filled log as fast as it can,
    recovering each gap from the publisher's recovery server (args.recovery), until no message
    was applied for half a second. Reports messages applied, gaps, and the time from its first
    packet to its last message (heartbeats do not count)."""
    _pin(args.cpu)
    set_fifo(0, args.fifo)
    book = FeedBook(max_instruments=64)
    src, io = _sub_source(args)
    buf = np.zeros(int(lib.MD_MAX_PACKET_BYTES) * 2, dtype=np.uint8)
    io.buf = ffi.cast("uint8_t *", ffi.from_buffer(buf))
    io.buf_cap = len(buf)
    io.lat_cap = 0
    io.spin_polls = 200
    host, port = args.recovery.rsplit(":", 1)
    rec: RecoveryClient | None = None
    print("ready", flush=True)
    gaps = errors = 0
    deadline = time.monotonic() + args.timeout_s
    while io.packets == 0 and time.monotonic() < deadline:
        lib.md_subrx_poll(book.handle, io, 1, 10_000_000)   # the first packet starts the clock
    t_first = time.monotonic_ns()
    t_last, last_msgs = t_first, 0
    while time.monotonic() < deadline:
        # a few packets per call: the heartbeats after the drain must not hold the last ones back
        rc = lib.md_subrx_poll(book.handle, io, 8, 100_000_000)
        if rc == lib.MD_GAP:
            gaps += 1
            rec = rec or RecoveryClient((host, int(port)), "VENUE")
            _recover_gap(book, rec, bytes(buf[:io.pkt_len]))
        elif rc < 0 and rc != lib.MD_END_OF_SESSION:
            errors += 1
            break
        msgs = int(book.stats()["messages"])
        now = time.monotonic_ns()
        if msgs != last_msgs:
            t_last, last_msgs = now, msgs
        elif now - t_last > 500_000_000:
            break
    print(json.dumps({"messages": last_msgs, "packets": int(io.packets), "gaps": gaps,
                      "errors": errors, "seconds": (t_last - t_first) / 1e9,
                      "book_stats": book.stats()}), flush=True)
    if rec is not None:
        rec.close()
    del src


def role_echo(args: argparse.Namespace) -> None:
    _pin(args.cpu)
    set_fifo(0, args.fifo)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", args.port))
    print("ready", flush=True)
    lib.md_probe_udp_echo(s.fileno(), args.count, 5_000_000_000)


def _spawn(*extra: str, prefix: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """A helper role of this script (prefix: e.g. `ip netns exec NS`); waits for its "ready"."""
    p = subprocess.Popen([*prefix, sys.executable, str(HERE), *extra], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline() if p.stdout else ""
    while line.startswith("note "):
        print(f"  subscriber: {line[5:].strip()}", flush=True)
        line = p.stdout.readline() if p.stdout else ""
    if line.strip() != "ready":
        p.kill()
        raise RuntimeError(f"helper process {extra} did not start: {line!r}")
    return p


# ---- measurements --------------------------------------------------------------------------------
def udp_pingpong(count: int, cpus: tuple[int | None, int | None], prio: dict[str, int]
                 ) -> np.ndarray:
    port = _free_port()
    warmup = 1000
    echo = _spawn("--role", "echo", "--port", str(port), "--count", str(count + warmup),
                  "--fifo", str(prio["subscriber"]),
                  *(["--cpu", str(cpus[1])] if cpus[1] is not None else []))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    rtt = np.zeros(count, dtype=np.int64)
    old = os.sched_getaffinity(0)
    _pin(cpus[0])
    set_fifo(0, prio["publisher"])
    try:
        rc = lib.md_probe_udp_ping(s.fileno(), 0x7F000001, port, 64, warmup, count,
                                   ffi.cast("int64_t *", ffi.from_buffer(rtt)), 2_000_000_000)
    finally:
        set_fifo(0, 0)
        os.sched_setaffinity(0, old)
    s.close()
    echo.wait(timeout=10)
    if rc != 0:
        raise OSError(-rc, "UDP ping-pong failed")
    return rtt // 2


class LiveVenue:
    def __init__(self, engine_wait: str, engine_cpu: int | None, engine_fifo: int = 0) -> None:
        self.venue = launcher.Venue(prefix="mdb")
        self.name = self.venue.name
        argv = ["--instruments", "1", "--producers", "2", "--no-mlock", "--wait", engine_wait]
        if engine_wait == "backoff":
            # a short spin: on 2 shared cores a long one would keep the engine's core busy
            # between commands and starve the driver and the subscriber beside it
            argv += ["--spin", "200", "--yields", "10", "--sleep-us", "1000"]
        if engine_cpu is not None:
            argv += ["--cpu", str(engine_cpu)]
        argv += ["--fifo", str(engine_fifo)]
        self.engine = self.venue.start_engine(*argv)
        self.client = EngineClient(self.name)
        self.publisher: subprocess.Popen[str] | None = None

    def start_publisher(self, transport: str, port: int, address: str, pub_spin: bool,
                        pub_cpu: int | None, pub_fifo: int = 0, pub_sleep_us: float = 20.0,
                        veth: VethPair | None = None, xdp_tx_mac: str = "") -> tuple[str, str]:
        """veth: the publisher runs in the pair's 'pub' namespace, its recovery server on the
        pair's address."""
        argv = ["--engine", self.name, "--recovery-port", "0", "--instruments", "1:BENCH:1:1:10000", "--duration-s", "600",
                "--heartbeat-ms", "20", "--conflate-ms", "100"]
        if veth is not None:
            argv += ["--recovery-host", PUB_ADDR]
        if veth is not None and xdp_tx_mac:
            argv += ["--xdp-tx", veth.pub_if, "--xdp-dst-mac", xdp_tx_mac]
        if transport == "zmq":
            argv += ["--no-udp", "--zmq", "tcp://127.0.0.1:0"]
        else:
            argv += ["--udp", f"{address}:{port}",
                     "--udp-l2", f"{address if veth else '127.0.0.1'}:{_free_port()}"]
        argv += ["--idle-sleep-us", "0"] if pub_spin else \
            ["--spin-polls", "200" if pub_fifo else "2000", "--idle-sleep-us", str(pub_sleep_us)]
        prefix = veth.exec_prefix("pub") if veth is not None else []
        self.publisher = self.venue.spawn("publisher", prefix + launcher.gateway_command("md", "publish", *argv),
                                          stdout=subprocess.PIPE)
        if pub_cpu is not None:
            os.sched_setaffinity(self.publisher.pid, {pub_cpu})
        line = self.publisher.stdout.readline() if self.publisher.stdout else ""
        if "recovery on" not in line:
            raise RuntimeError(f"publisher did not start: {line!r}")
        if pub_fifo:
            set_fifo(self.publisher.pid, pub_fifo)    # its threads all exist once it is ready
        rec = line.rsplit("recovery on ", 1)[1].strip()
        zmq_ep = line.split("zmq ", 1)[1].split(";", 1)[0]
        note = line.split(": ", 1)[1].split(";", 1)[0]
        return rec, zmq_ep if transport == "zmq" else note

    def stop_publisher(self) -> dict[str, int]:
        if self.publisher is None:
            return {}
        self.publisher.send_signal(signal.SIGTERM)
        out, _ = self.publisher.communicate(timeout=30)
        self.publisher = None
        return dict(json.loads(out.strip().splitlines()[-1])["md_publisher_stats"])

    def close(self) -> None:
        self.client.close()
        self.venue.close()


def feed_latency(venue: LiveVenue, transport: str, count: int, rate_per_s: float, pub_spin: bool,
                 sub_wait: str, cpus: dict[str, int | None], first_oid: int,
                 prio: dict[str, int], pub_sleep_us: float, veth: VethPair | None = None,
                 busy_poll_us: int = 0, xdp_tx_mac: str = "") -> dict[str, object]:
    """transport udp / zmq / xdp; veth: publisher and subscriber in the pair's namespaces, the
    feed across it (udp: kernel sockets both ends; xdp: AF_XDP at the subscriber)."""
    port = _free_port()
    ok, _ = multicast_works()
    address = SUB_ADDR if veth else ("239.255.91.7" if (ok and transport == "udp") else "127.0.0.1")
    rec, ep_or_note = venue.start_publisher("zmq" if transport == "zmq" else "udp", port, address,
                                            pub_spin, cpus["publisher"], prio["publisher"],
                                            pub_sleep_us, veth, xdp_tx_mac)
    sub_args = ["--role", "sub", "--count", str(count), "--timeout-s", "60", "--recovery", rec,
                "--transport", transport, "--subscriber-wait", sub_wait,
                "--fifo", str(prio["subscriber"]), "--busy-poll-us", str(busy_poll_us)]
    sub_args += ["--endpoint", ep_or_note] if transport == "zmq" else ["--address", address, "--port", str(port)]
    if veth is not None:
        sub_args += ["--ifname", veth.sub_if]
    if cpus["subscriber"] is not None:
        sub_args += ["--cpu", str(cpus["subscriber"])]
    sub = _spawn(*sub_args, prefix=tuple(veth.exec_prefix("sub")) if veth else ())
    recs = records.encode_commands(_order_flow(count, seed=7, first_oid=first_oid))
    raw = [recs[i:i + 1].tobytes() for i in range(len(recs))]
    period_ns = int(1e9 / rate_per_s)
    planned = np.zeros(count, dtype=np.int64)
    dequeued = np.zeros(count, dtype=np.int64)
    procs = {"engine": venue.engine.pid, "publisher": venue.publisher.pid,  # type: ignore[union-attr]
             "subscriber": sub.pid}

    def delays() -> dict[str, float]:
        out: dict[str, float] = {}
        for name, pid in procs.items():
            try:
                out[name] = _run_delay_ms(pid)
            except OSError:
                out[name] = float("nan")    # it exited already
        return out

    d0 = delays()
    set_fifo(0, prio["driver"])
    start = time.monotonic_ns() + 20_000_000
    for i in range(count):
        t = start + i * period_ns
        planned[i] = t
        # sleep to ~150 us before the planned instant, then spin: keeps the driver off the CPU
        # between commands (2 cores shared by 4 processes) yet on time
        ahead = t - time.monotonic_ns() - 150_000
        if ahead > 0:
            time.sleep(ahead / 1e9)
        while time.monotonic_ns() < t:
            pass
        venue.client.submit_bytes(raw[i])
        dequeued[i] = int(venue.client.last_reply_raw[:REPLY_DTYPE.itemsize].view(REPLY_DTYPE)["ts_ns"][0])
    set_fifo(0, 0)
    d1 = delays()
    out, _ = sub.communicate(timeout=90)
    stats = venue.stop_publisher()
    result = json.loads(out.strip().splitlines()[-1])
    note = "ZeroMQ PUB/SUB over TCP loopback" if transport == "zmq" else ep_or_note
    if veth is not None:
        note = {"udp": "UDP over a veth pair (kernel sockets)", "xdp": "AF_XDP over a veth pair"}[transport] \
            + (f", SO_BUSY_POLL {busy_poll_us} us" if busy_poll_us else "") \
            + (" (publisher too)" if "AF_XDP" in ep_or_note else (
                f" (publisher fell back: {ep_or_note})" if xdp_tx_mac else ""))
    return {"lat": np.asarray(result["lat"], dtype=np.int64), "note": note,
            "napi_id": result.get("napi_id", 0),
            "plan_to_dequeue": dequeued - planned, "gaps": result["gaps"],
            "resyncs": result["resyncs"], "publisher": stats,
            "run_delay_ms": {n: round(d1[n] - d0[n], 3) for n in d0}}


@contextlib.contextmanager
def _prefilled_log(n_commands: int) -> Iterator[tuple[str, int]]:
    """A broadcast log segment holding the engine's events for n_commands of the seeded flow
    (instrument set-up first): its path and the number of events. Removed after."""
    eng = Engine(max_orders=400_000, max_levels=20_000, max_instruments=4)
    boot: list[Command] = [
        AddInstrument(instrument_id=1, seq=1, ts_ns=1, tick_size=1, lot_size=1, reference_price=10_000,
                      market_collar_ticks=1000),
        SetPhase(instrument_id=1, seq=2, ts_ns=2, phase=1), SetPhase(instrument_id=1, seq=3, ts_ns=3, phase=2)]
    flow = [msgspec.structs.replace(c, seq=i + 4, ts_ns=i + 4)
            for i, c in enumerate(_order_flow(n_commands, seed=9))]
    events = eng.submit_records(records.encode_commands(boot + flow))
    eng.close()
    path = f"/dev/shm/venue-mdbench-{os.getpid()}-events"
    cap = 1 << 27
    while cap < len(events) * 112 * 2:
        cap <<= 1
    seg = Segment.create(path, KIND_BROADCAST, cap)
    try:
        w = BroadcastWriter(seg)
        flat = np.ascontiguousarray(events).view(np.uint8).reshape(len(events), -1)
        for row in flat:
            w.transmit(int(lib.RING_MSG_ENG_EVT), row)
        yield path, len(events)
    finally:
        seg.detach()
        unlink_segment(path)


def throughput(n_commands: int) -> dict[str, float]:
    """The C loop alone: a broadcast log pre-filled with the events of n_commands, drained,
    encoded, packed and sent (sendmmsg to a UDP sink)."""
    with _prefilled_log(n_commands) as (path, n_events):
        port = _free_port()
        sink = UdpReceiver(UdpChannel("127.0.0.1", port), rcvbuf_bytes=64 << 20)
        pub = LogPublisher(path, PublisherConfig(encoder=EncoderConfig(max_orders=400_000),
                                                 udp_l3=UdpChannel("127.0.0.1", port),
                                                 recovery_port=None, conflate_interval_ns=1 << 62),
                           LoopConfig(idle_sleep_ns=0, from_start=True))
        t0 = time.perf_counter()
        pub.start()
        deadline = time.monotonic() + 60
        while pub.stats()["events"] < n_events and time.monotonic() < deadline:
            time.sleep(0.001)
        dt = time.perf_counter() - t0
        st = pub.stats()
        pub.stop()
        pub.close()
        sink.close()
    return {"events": float(st["events"]), "messages": float(st["messages"]),
            "packets": float(st["packets_sent"]), "seconds": dt,
            "publisher_msgs_per_s": st["messages"] / dt, "publisher_events_per_s": st["events"] / dt,
            "publisher_packets_per_s": st["packets_sent"] / dt, "send_errors": float(st["send_errors"])}


VETH_PATHS = {   # name: (subscriber transport, SO_BUSY_POLL us, publisher on AF_XDP TX)
    "udp_veth": ("udp", 0, False), "udp_veth_busy_poll": ("udp", 50, False),
    "af_xdp_veth": ("xdp", 0, False), "af_xdp_both_veth": ("xdp", 0, True)}


def veth_throughput(venue: LiveVenue, log_path: str, pair: VethPair, name: str, sub_mac: str,
                    cpus: dict[str, int | None], prio: dict[str, int], rcvbuf_bytes: int
                    ) -> dict[str, object]:
    """One veth path's throughput: the publisher (its own process in the 'pub' namespace) drains
    the pre-filled log from its start as fast as its C loop goes, the subscriber (C receive loop
    in the 'sub' namespace, started first) applies every message, recovering what was lost over
    TCP. Messages applied per second at the subscriber, first packet to last message."""
    transport, busy, xdp_tx = VETH_PATHS[name]
    port, rport = _free_port(), _free_port()
    sub_args = ["--role", "subtp", "--recovery", f"{PUB_ADDR}:{rport}", "--transport", transport,
                "--address", SUB_ADDR, "--port", str(port), "--busy-poll-us", str(busy),
                "--ifname", pair.sub_if, "--fifo", str(prio["subscriber"]), "--timeout-s", "40",
                "--rcvbuf-bytes", str(rcvbuf_bytes)]
    if cpus["subscriber"] is not None:
        sub_args += ["--cpu", str(cpus["subscriber"])]
    sub = _spawn(*sub_args, prefix=tuple(pair.exec_prefix("sub")))
    argv = ["--log", log_path, "--udp", f"{SUB_ADDR}:{port}", "--udp-l2", f"{SUB_ADDR}:{_free_port()}",
            "--recovery-port", str(rport), "--recovery-host", PUB_ADDR,
            "--instruments", "1:BENCH:1:1:10000", "--duration-s", "60", "--heartbeat-ms", "20",
            "--conflate-ms", "100000", "--spin-polls", "200", "--idle-sleep-us", "100"]
    if xdp_tx:
        argv += ["--xdp-tx", pair.pub_if, "--xdp-dst-mac", sub_mac]
    pub = venue.venue.spawn("publisher-tp", pair.exec_prefix("pub") + launcher.gateway_command(
        "md", "publish", *argv), stdout=subprocess.PIPE)
    try:
        if cpus["publisher"] is not None:
            os.sched_setaffinity(pub.pid, {cpus["publisher"]})
        line = pub.stdout.readline() if pub.stdout else ""
        if "recovery on" not in line:
            raise RuntimeError(f"publisher did not start: {line!r}")
        if prio["publisher"]:
            set_fifo(pub.pid, prio["publisher"])
        out, _ = sub.communicate(timeout=60)
    finally:
        pub.send_signal(signal.SIGTERM)
        pub_out, _ = pub.communicate(timeout=30)
        if sub.poll() is None:
            sub.kill()
    r = json.loads(out.strip().splitlines()[-1])
    st = dict(json.loads(pub_out.strip().splitlines()[-1])["md_publisher_stats"])
    secs = max(float(r["seconds"]), 1e-9)
    return {"msgs_per_s": r["messages"] / secs, "messages": r["messages"], "packets": r["packets"],
            "gaps": r["gaps"], "errors": r["errors"], "seconds": secs,
            "publisher_messages": st["messages"], "publisher_packets": st["packets_sent"],
            "complete": r["messages"] == st["messages"],
            "publisher_note": line.split(": ", 1)[1].split(";", 1)[0]}


def veth_paths(venue: LiveVenue, count: int, args: argparse.Namespace, cpus: dict[str, int | None],
               prio: dict[str, int], pub_sleep_us: float) -> dict[str, Any]:
    """The feed between two network namespaces over a veth pair (the kernel's software path; no
    NIC): kernel UDP sockets, the same with SO_BUSY_POLL at the subscriber, and AF_XDP at the
    subscriber, and AF_XDP at both ends (the publisher's C loop on an AF_XDP TX ring; its kernel UDP
    socket on the other paths)."""
    why = "--no-veth" if args.no_veth else why_no_netns()
    if why:
        return {"runs": {}, "throughput": {}, "skipped": why}
    runs: dict[str, dict[str, object]] = {}
    tput: dict[str, dict[str, object]] = {}
    with veth_pair() as pair:
        with pair.inside("sub"):
            sub_mac = ":".join(f"{b:02x}" for b in interface_mac_and_ipv4(pair.sub_if)[0])
        for i, (name, (transport, busy, xdp_tx)) in enumerate(VETH_PATHS.items()):
            try:
                runs[name] = feed_latency(venue, transport, count, args.rate,
                                          args.publisher_wait == "spin", args.sub_wait, cpus,
                                          20_000_000 + 10_000_000 * i, prio, pub_sleep_us,
                                          veth=pair, busy_poll_us=busy,
                                          xdp_tx_mac=sub_mac if xdp_tx else "")
            except (RuntimeError, OSError) as exc:
                venue.stop_publisher()
                return {"runs": runs, "throughput": tput, "skipped": f"{name}: {exc}"}
        with _prefilled_log(args.tp_commands) as (log_path, _):
            for name in VETH_PATHS:
                try:
                    tput[name] = veth_throughput(venue, log_path, pair, name, sub_mac, cpus, prio,
                                                 args.rcvbuf_bytes)
                except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
                    return {"runs": runs, "throughput": tput, "skipped": f"{name} throughput: {exc}"}
    return {"runs": runs, "throughput": tput, "skipped": ""}


def report_veth(veth: dict[str, Any], pingpong: dict[str, float]
                ) -> tuple[dict[str, object], dict[str, float]]:
    """Prints the veth paths' notes; their metrics and ratios (to kernel UDP over the same veth,
    and to the raw UDP ping-pong's half round trip)."""
    runs = veth["runs"]
    if veth["skipped"]:
        print(f"veth paths not measured: {veth['skipped']}")
    metrics: dict[str, object] = {}
    ratios: dict[str, float] = {}
    for name, r in runs.items():
        metrics[name] = {**_pct(np.asarray(r["lat"])), "gaps": r["gaps"], "napi_id": r["napi_id"]}
    base = metrics.get("udp_veth")
    for name in runs:
        m = metrics[name]
        assert isinstance(m, dict)
        ratios[f"{name}_p50_over_pingpong_p50"] = round(m["p50_ns"] / pingpong["p50_ns"], 3)
        ratios[f"{name}_p99_over_pingpong_p99"] = round(m["p99_ns"] / pingpong["p99_ns"], 3)
        if base is not None and name != "udp_veth":
            m = metrics[name]
            assert isinstance(m, dict) and isinstance(base, dict)
            ratios[f"{name}_p50_over_udp_veth_p50"] = round(m["p50_ns"] / base["p50_ns"], 3)
            ratios[f"{name}_p99_over_udp_veth_p99"] = round(m["p99_ns"] / base["p99_ns"], 3)
    if runs:
        print("veth paths: subscriber socket NAPI id " + ", ".join(
            f"{n} {metrics[n]['napi_id']}" for n in runs if not n.startswith("af_xdp"))  # type: ignore[index]
            + " (0: no NAPI context for busy polling to spin on); AF_XDP at the subscriber "
              "skips the kernel's IP/UDP receive and socket queue, in copy mode (veth has no "
              "zero-copy): the payload is applied in place in its UMEM frame")
        print("ratios (to UDP over the same veth; to the raw ping-pong): "
              + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    tput = veth.get("throughput", {})
    if tput:
        print(f"{'veth throughput (pre-filled log drained at full speed)':58} {'M msgs/s':>9} "
              f"{'messages':>9} {'packets':>8} {'gaps':>5} {'complete':>8}  publisher")
        for name, t in tput.items():
            print(f"{name:58} {t['msgs_per_s'] / 1e6:9.3f} {t['messages']:9d} {t['packets']:8d} "
                  f"{t['gaps']:5d} {str(t['complete']):>8}  {t['publisher_note']}")
        metrics["veth_throughput"] = tput
        base_tp = tput.get("udp_veth")
        for name, t in tput.items():
            if base_tp is not None and name != "udp_veth":
                ratios[f"{name}_msgs_per_s_over_udp_veth"] = round(
                    float(t["msgs_per_s"]) / float(base_tp["msgs_per_s"]), 3)  # type: ignore[arg-type]
        print("throughput ratios (to UDP over the same veth): " + ", ".join(
            f"{k} {v:.2f}" for k, v in ratios.items() if k.endswith("_msgs_per_s_over_udp_veth")))
    if veth["skipped"] and not runs:
        metrics["veth_skipped"] = veth["skipped"]
    elif veth["skipped"]:
        metrics["veth_partly_skipped"] = veth["skipped"]
    return metrics, ratios


def main(argv: list[str] | None = None) -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    ap.add_argument("--rate", type=positive_float, default=1000.0, help="open-loop commands per second")
    ap.add_argument("--engine-wait", choices=("spin", "backoff"), default="backoff")
    ap.add_argument("--publisher-wait", choices=("spin", "backoff"), default=None,
                    help="default: spin with --sched other, backoff with --sched fifo (a FIFO "
                         "loop that never sleeps is RT-throttled: 50 ms of every second)")
    ap.add_argument("--publisher-sleep-us", type=non_negative_float, default=None,
                    help="backoff: sleep per empty poll (default 20; 10 with --sched fifo, where "
                         "timers have no slack: shorter sleeps kept the loop busy enough to be "
                         "RT-throttled once in two runs)")
    ap.add_argument("--sched", choices=("other", "fifo"), default=None,
                    help="fifo (default where permitted): engine 30, subscriber 25, publisher 20, "
                         "driver 10 (SCHED_FIFO); other: SCHED_OTHER everywhere")
    ap.add_argument("--subscriber-wait", dest="sub_wait", choices=("spin", "block"), default="block")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin (default: the publisher on cpu 0; the engine, subscriber "
                         "and driver on cpu 1)")
    ap.add_argument("--role", choices=("sub", "subtp", "echo"), help=argparse.SUPPRESS)
    ap.add_argument("--transport", default="udp", help=argparse.SUPPRESS)
    ap.add_argument("--address", default="127.0.0.1", help=argparse.SUPPRESS)
    ap.add_argument("--endpoint", default="", help=argparse.SUPPRESS)
    ap.add_argument("--recovery", default="", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--fifo", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--timeout-s", type=float, default=30.0, help=argparse.SUPPRESS)
    ap.add_argument("--ifname", default="", help=argparse.SUPPRESS)
    ap.add_argument("--busy-poll-us", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--throughput-commands", dest="tp_commands", type=positive_int, default=None,
                    help="commands in the pre-filled log of the throughput runs (default 300k; "
                         "--quick 100k)")
    ap.add_argument("--rcvbuf-bytes", type=positive_int, default=8 << 20,
                    help="the subscriber's UDP SO_RCVBUF in the veth throughput runs (default 8 MiB, "
                         "as the feed's subscriber)")
    ap.add_argument("--no-veth", action="store_true",
                    help="skip the veth-pair paths (kernel UDP, UDP with SO_BUSY_POLL, AF_XDP "
                         "between two network namespaces; they need root)")
    args = ap.parse_args(argv)
    if args.role == "sub":
        role_sub(args)
        return 0
    if args.role == "subtp":
        role_sub_throughput(args)
        return 0
    if args.role == "echo":
        role_echo(args)
        return 0
    count = 5_000 if args.quick else 30_000
    if args.tp_commands is None:
        args.tp_commands = 100_000 if args.quick else 300_000
    ncpu = len(os.sched_getaffinity(0))
    cpus: dict[str, int | None] = {"publisher": None, "subscriber": None, "engine": None,
                                   "driver": None}
    if args.pin and ncpu >= 2:
        cpus = {"publisher": 0, "subscriber": 1, "engine": 1, "driver": 1}
    if args.sched is None:
        args.sched = "fifo" if fifo_permitted() else "other"
    if args.sched == "fifo" and not fifo_permitted():
        raise SystemExit("marketdata: --sched fifo: SCHED_FIFO is not permitted for this user")
    if args.publisher_wait is None:
        args.publisher_wait = "backoff" if args.sched == "fifo" else "spin"
    if args.sched == "fifo" and args.publisher_wait == "spin":
        raise SystemExit("marketdata: --publisher-wait spin with --sched fifo would be RT-throttled")
    pub_sleep_us = args.publisher_sleep_us if args.publisher_sleep_us is not None else (
        10.0 if args.sched == "fifo" else 20.0)
    prio = ({"engine": 30, "subscriber": 25, "publisher": 20, "driver": 10} if args.sched == "fifo"
            else {"engine": 0, "subscriber": 0, "publisher": 0, "driver": 0})
    dma, _ = dma_state()
    load_before = os.getloadavg()[0]
    base = udp_pingpong(count, (cpus["publisher"], cpus["subscriber"]), prio)
    venue = LiveVenue(args.engine_wait, cpus["engine"], prio["engine"])
    _pin(cpus["driver"])
    try:
        udp = feed_latency(venue, "udp", count, args.rate, args.publisher_wait == "spin",
                           args.sub_wait, cpus, 1_000, prio, pub_sleep_us)
        zq = feed_latency(venue, "zmq", count, args.rate, args.publisher_wait == "spin",
                          args.sub_wait, cpus, 10_000_000, prio, pub_sleep_us)
        veth = veth_paths(venue, count, args, cpus, prio, pub_sleep_us)
    finally:
        venue.close()
    load_after = os.getloadavg()[0]
    tp = throughput(50_000 if args.quick else 300_000)
    wait = (f"publisher {args.publisher_wait}"
            + (f" ({pub_sleep_us:g} us sleeps)" if args.publisher_wait == "backoff" else "")
            + f", subscriber {args.sub_wait}, engine {args.engine_wait}")
    print(f"placement: {'publisher cpu0; engine, subscriber, driver cpu1' if args.pin else 'not pinned'}; "
          f"sched {args.sched}{' ' + str(prio) if args.sched == 'fifo' else ''}; {wait}")
    print(f"cpuidle driver {dma['cpuidle_driver']}, cpu_dma_latency {dma['cpu_dma_latency_us']} us "
          f"(not held by this bench); load average before/after {load_before:.2f}/{load_after:.2f}")
    print(f"run-queue wait during the udp run (ms): {udp['run_delay_ms']}; zmq run: {zq['run_delay_ms']}")
    rows = [("raw UDP ping-pong, C, busy-poll (half RTT)", base),
            (f"feed over {udp['note']}", udp["lat"]), (f"feed over {zq['note']}", zq["lat"])]
    rows += [(f"feed over {r['note']}", r["lat"]) for r in veth["runs"].values()]
    print(f"{'path (engine dequeue -> subscriber applied)':72} {'p50 us':>8} {'p99 us':>8} "
          f"{'p99.9 us':>9} {'max us':>9} {'n':>7}")
    for name, lat in rows:
        p = _pct(np.asarray(lat))
        print(f"{name:72} {p['p50_ns'] / 1e3:8.1f} {p['p99_ns'] / 1e3:8.1f} {p['p999_ns'] / 1e3:9.1f} "
              f"{p['max_ns'] / 1e3:9.1f} {p['samples']:7d}")
    pd = _pct(np.concatenate([udp["plan_to_dequeue"], zq["plan_to_dequeue"]]))
    print(f"planned send -> engine dequeue (driver + engine wake-up, not in the figures above): "
          f"p50 {pd['p50_ns'] / 1e3:.1f} us, p99 {pd['p99_ns'] / 1e3:.1f} us")
    print(f"subscriber gaps recovered: udp {udp['gaps']}, zmq {zq['gaps']}; resyncs: "
          f"{udp['resyncs']}, {zq['resyncs']}")
    veth_metrics, veth_ratios = report_veth(veth, _pct(base))
    print(f"publisher C loop (log -> encode -> pack -> sendmmsg): "
          f"{tp['publisher_msgs_per_s'] / 1e6:.2f} M msgs/s, {tp['publisher_events_per_s'] / 1e6:.2f} "
          f"M events/s, {tp['publisher_packets_per_s'] / 1e3:.0f} k packets/s")
    pb, pu, pz = _pct(base), _pct(udp["lat"]), _pct(zq["lat"])
    print(json.dumps({
        "bench": "marketdata",
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                    "pinning": "publisher cpu0; engine, subscriber, driver cpu1" if args.pin
                    else "none",
                    "engine_wait": args.engine_wait, "publisher_wait": args.publisher_wait,
                    "subscriber_wait": args.sub_wait, "tuning": "none applied",
                    "sched": args.sched, "fifo_priorities": prio if args.sched == "fifo" else None,
                    "publisher_sleep_us": pub_sleep_us if args.publisher_wait == "backoff" else None,
                    "dma_latency": dma, "load_average_before_after": [round(load_before, 2),
                                                                      round(load_after, 2)],
                    "run_delay_ms": {"udp": udp["run_delay_ms"], "zmq": zq["run_delay_ms"]},
                    "baseline_sched": args.sched,
                    "udp_transport": udp["note"], "open_loop_rate_per_s": args.rate,
                    "processes": "driver, engine, publisher, subscriber on the same cores",
                    "latency_from": "engine dequeue (event ts_ns, CLOCK_MONOTONIC)",
                    "latency_to": "subscriber applied the packet to its C book (CLOCK_MONOTONIC)"},
        "metrics": {"udp": pu, "zmq": pz, "plan_to_dequeue": pd, "throughput": tp,
                    "udp_gaps": udp["gaps"], "zmq_gaps": zq["gaps"], **veth_metrics},
        "baselines": {"udp_pingpong_half_rtt": pb},
        "ratios": {"udp_p50_over_pingpong_p50": pu["p50_ns"] / pb["p50_ns"],
                   "udp_p99_over_pingpong_p99": pu["p99_ns"] / pb["p99_ns"],
                   "zmq_p99_over_pingpong_p99": pz["p99_ns"] / pb["p99_ns"],
                   "udp_p99_over_target_20us": pu["p99_ns"] / 20_000.0, **veth_ratios}}))
    return 0


if __name__ == "__main__":
    sys.exit(launcher.run_main(main, "marketdata"))
