"""``python -m gateway gateway``: the order-entry gateway as its own process.

Python does the set-up (arguments, the credentials file, the listening socket, the engine's
producer slot and event log, pinning) and then calls the C loop (native/gateway/gw_server.c) on this
thread; it returns after SIGTERM/SIGINT or when the engine stops. Exit status: 0 after a clean
stop (also after an orderly engine stop), 2 for bad arguments or a bad credentials file, 1 when
the engine cannot be reached or the --state-file cannot be used, 3 when the engine died under it (its process is gone, or its
heartbeat is older than --engine-stale-ms).

An engine that dies (SIGKILL, crash) leaves its segments orphaned; every connection is then
terminated with ENG_GW_ENGINE_GONE (959), but the gateway keeps its sessions (sequence numbers,
retransmission logs) and its orders, and waits up to --engine-wait-s for the engine to be
restarted (by its supervisor) from its journal. It then attaches the new engine's segments and
reads the journal (directory and recovered seq from the new control segment) for what became of
everything it had in flight: each session's outbound flow gets the reports the journal implies
(acks, fills, cancels of orders the dead engine journaled but never released), a request the dead
engine never sequenced is answered with 959, and owed cancels (mass cancel parts,
cancel-on-disconnect) are sent again (native/gateway/gw_resume.c). Clients reconnect to the same
session, see from EstablishmentAck.nextSeqNo what they missed and ask for retransmission. With
no restarted engine in time, an engine without a journal, or --engine-wait-s 0, it exits 3.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from typing import Any, Callable

import zmq

from gateway.cli_numbers import positive_int
from gateway.enginehost import journal
from gateway.orderentry.admin_server import AdminServer, new_admin_token, previous_admin_token
from gateway.security.curve import CurveError
from gateway.security.gateway_security import GatewaySecurity
from gateway.security.key_rotation import KeyRotation
from gateway.orderentry.config import ConfigError, GatewayConfig, load_config
from gateway.orderentry.tls_listener import TlsSetup, TlsSetupError, open_tls_listener
from gateway.orderentry.io_backend import (BACKENDS, ENV_BACKEND, choose_backend, choose_busy_poll,
                                           default_backend)
from gateway.latency.errors import LatencyError
from gateway.latency.venue import ProcessLatency
from native._venue import ffi, lib
from shm.client import EngineClient, EventStream
from shm.engine_segments import engine_serving
from shm.errors import ShmError
from shm.segment import segment_path

# Polling after the last work while a command is in flight, before the loop blocks on the
# waker thread (gw_server.c): longer than an engine's answer when it does not wait for the disk
# (a few us), far shorter than a durable ack's sync (100 us and more), which is slept through.
INFLIGHT_SPIN_US = 100


def _listen_addr(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"--listen {text!r}: use HOST:PORT, e.g. 127.0.0.1:9000")
    try:
        p = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--listen {text!r}: port must be an integer") from None
    if not 0 <= p <= 65535:
        raise argparse.ArgumentTypeError(f"--listen {text!r}: port must be 0..65535")
    return host, p


def _pow2(text: str) -> int:
    v = int(text)
    if v < 8 or v & (v - 1):
        raise argparse.ArgumentTypeError(f"{v} is not a power of two >= 8")
    return v


def _sample(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1 or v & (v - 1) or v > 1 << 20:
        raise argparse.ArgumentTypeError(f"{v} is not a power of two in [1, {1 << 20}]")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway gateway",
                                description="Run the SBE/FIXP order-entry gateway in front of an "
                                            "engine process.")
    p.add_argument("--engine", required=True, help="engine name (python -m gateway engine --name)")
    p.add_argument("--listen", type=_listen_addr, required=True,
                   help="HOST:PORT to accept clients on (port 0: any free port)")
    p.add_argument("--config", required=True, help="credentials file (.toml or .json)")
    p.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: not pinned)")
    p.add_argument("--busy-poll", action="store_true",
                   help="spin: never block in epoll_wait (for an isolated core)")
    p.add_argument("--so-busy-poll-us", type=int, default=0,
                   help="SO_BUSY_POLL microseconds on client sockets (0: off; needs CAP_NET_ADMIN "
                        "above net.core.busy_read: refused, the start-up line says so)")
    p.add_argument("--prefer-busy-poll", action="store_true",
                   help="with --so-busy-poll-us: SO_PREFER_BUSY_POLL too (CAP_NET_ADMIN)")
    p.add_argument("--io-backend", default=default_backend(),
                   help=f"epoll or io_uring (default: ${ENV_BACKEND}, else epoll); io_uring where "
                        "this kernel cannot run it: epoll, and the start-up line says why")
    p.add_argument("--io-uring-sqpoll-ms", type=int, default=0, metavar="MS",
                   help="io_uring: a kernel thread polls the submission queue, sleeping after MS "
                        "idle ms (for a host with a spare core; 0: off)")
    p.add_argument("--idle-spin-us", type=int, default=50,
                   help="without --busy-poll: keep polling this long after the last work before "
                        "blocking in epoll_wait (0: block at once)")
    p.add_argument("--inflight-spin-us", type=int, default=INFLIGHT_SPIN_US,
                   help="without --busy-poll: while a command is in flight, keep polling this "
                        "long after the last work before blocking (if longer than "
                        "--idle-spin-us; an engine answer within it costs no thread wake-ups, "
                        f"a durable ack's disk sync is slept through; default {INFLIGHT_SPIN_US})")
    p.add_argument("--fifo", type=int, default=0, metavar="PRIO",
                   help="run the loop thread SCHED_FIFO at this priority 1-99 (default 0: off); "
                        "with --busy-poll it would be RT-throttled, so that pair is refused")
    p.add_argument("--idle-sleep-ms", type=positive_int, default=1,
                   help="without --busy-poll: longest epoll wait when no command is in flight")
    p.add_argument("--no-event-doorbell", action="store_true",
                   help="without --busy-poll: do not let the engine's event-log doorbell end an "
                        "idle epoll wait (events this gateway did not cause, e.g. a passive fill, "
                        "then wait up to --idle-sleep-ms); for before/after measurements")
    p.add_argument("--engine-spin", action="store_true",
                   help="the engine runs --wait spin (skip its doorbell)")
    p.add_argument("--max-connections", type=positive_int, default=64)
    p.add_argument("--tx-buffer-bytes", type=positive_int, default=1 << 18,
                   help="outbound buffer per connection; a client that fills it is dropped")
    p.add_argument("--out-log-msgs", type=_pow2, default=1 << 16,
                   help="messages kept per session for retransmission (memory only)")
    p.add_argument("--retransmit-limit", type=positive_int, default=10000)
    p.add_argument("--keepalive-min-ms", type=positive_int, default=100)
    p.add_argument("--keepalive-max-ms", type=positive_int, default=60000)
    p.add_argument("--handshake-timeout-ms", type=positive_int, default=5000)
    p.add_argument("--order-capacity", type=_pow2, default=1 << 20)
    p.add_argument("--engine-stale-ms", type=int, default=2000, metavar="MS",
                   help="the engine counts as dead when its heartbeat is older than this (it "
                        "heartbeats every --heartbeat-us, default 1 ms); its process being gone "
                        "is detected within 5 ms regardless; 0: process check only (default "
                        "2000)")
    p.add_argument("--engine-wait-s", type=float, default=60.0, metavar="S",
                   help="after the engine died, wait this long for a restarted one (recovered "
                        "from its journal) and go on with it, sessions kept; 0: exit 3 at once "
                        "(default 60)")
    p.add_argument("--mass-cancel-timeout-ms", type=positive_int, default=30000, metavar="MS",
                   help="a mass cancel not finished this long after its request (the engine dead "
                        "or stuck) is answered with reason 965 ENG_GW_MASS_CANCEL_UNFINISHED and "
                        "the orders cancelled so far; the rest are still cancelled if the engine "
                        "comes back (default 30000: longer than an engine restart)")
    p.add_argument("--state-file", default=None, metavar="PATH",
                   help="keep the sessions' sequence numbers, outbound logs and the request "
                        "being handled in this file (mapped, written as they change), so that a "
                        "gateway restarted after its process died goes on from it: it rebuilds "
                        "its orders from the engine's journal and clients reconnect where they "
                        "were (native/gateway/gw_restore.c). Needs an engine with a journal. "
                        "Default: none (a restarted gateway's sessions start afresh)")
    p.add_argument("--restore-wait-s", type=float, default=10.0, metavar="S",
                   help="with --state-file after a crash: how long to wait for the engine to take "
                        "and journal the previous run's last commands (default 10)")
    p.add_argument("--dir", default=None, help="engine segment directory (default as the engine)")
    p.add_argument("--no-latency", action="store_true",
                   help="do not stamp or record order-path latency (default: on when the engine "
                        "records it; region <dir>/venue-ENGINE-latency-gw-SLOT)")
    p.add_argument("--latency-sample", type=_sample, default=1, metavar="N",
                   help="stamp the requests read by 1 recv() call in N (a power of two; default "
                        "1: every request). Each stamp is an rdtsc (~10-15 ns) and a request "
                        "takes seven: see bench/instrumentation.py for what sampling saves")
    p.add_argument("--port-file", default=None,
                   help="write the bound port here once listening (for port 0)")
    p.add_argument("--tls-port-file", default=None,
                   help="write the TLS listener's bound port here (the config's [tls] listen)")
    p.add_argument("--admin", default=None, metavar="ENDPOINT",
                   help="ZeroMQ endpoint to serve session admin on (gateway/gw_admin.py), e.g. "
                        "tcp://127.0.0.1:5720 or tcp://127.0.0.1:* (any port); default: none")
    p.add_argument("--admin-file", default=None,
                   help="write the admin endpoint actually bound here once it answers")
    p.add_argument("--admin-token-file", default=None, metavar="FILE",
                   help="make a fresh admin token and write it here (0600) before --admin-file: "
                        "admin requests without it are refused (default: no token, endpoint open)")
    p.add_argument("--admin-curve-secret", default=None, metavar="FILE",
                   help="serve the admin endpoint over CurveZMQ with this key pair (NAME.key_secret, "
                        "python -m gateway keys curve); needs --admin-curve-clients")
    p.add_argument("--admin-curve-clients", default=None, metavar="DIR",
                   help="with --admin-curve-secret: admit only the clients whose public keys "
                        "(NAME.key) are in DIR; others are refused and logged")
    return p


def _sessions_array(cfg: GatewayConfig) -> tuple[Any, Any]:
    sessions = ffi.new("gw_session_cfg_t[]", len(cfg.sessions))
    for i, s in enumerate(cfg.sessions):
        key = s.key.encode()        # empty for a hashed key (GatewaySecurity holds it)
        sessions[i].session_id = s.session_id
        sessions[i].firm_id = s.firm_id
        sessions[i].key_len = len(key)
        ffi.memmove(sessions[i].key, key, len(key))
        sessions[i].cancel_on_disconnect = int(s.cancel_on_disconnect)
        sessions[i].throttle_msgs_per_s = s.throttle_msgs_per_s
        sessions[i].throttle_action = (lib.GW_THROTTLE_DISCONNECT
                                       if s.throttle_action == "disconnect"
                                       else lib.GW_THROTTLE_REJECT)
    accounts = [(a, f.firm_id) for f in cfg.firms for a in f.accounts]
    arr = ffi.new("gw_account_cfg_t[]", max(1, len(accounts)))
    for i, (a, firm) in enumerate(accounts):
        arr[i].account_id = a
        arr[i].firm_id = firm
    return sessions, (arr, len(accounts))


ORDER_COUNTER_EPOCH_NS = 1_767_225_600_000_000_000     # 2026-01-01T00:00:00Z


def first_order_counter(now_realtime_ns: int) -> int:
    """The low 48 bits of this run's first engine order id: microseconds since 2026, so past every
    id a previous run on the same producer slot (same prefix) used, as long as that run averaged
    under one order per microsecond since it started; the engine's journal keeps its live orders
    across a restart and refuses a live id (ENG_REJ_DUPLICATE_ORDER_ID). Wraps after ~8.9 years."""
    counter = ((now_realtime_ns - ORDER_COUNTER_EPOCH_NS) // 1000) & ((1 << 48) - 1)
    return counter or 1


# execIDs start at first_order_counter << 8: past a previous run's as long as it sent under 256
# ExecutionReports per microsecond on average since it started.
EXEC_IDS_PER_US_BITS = 8


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def run(args: argparse.Namespace, cfg: GatewayConfig) -> int:
    try:
        client = EngineClient(args.engine, args.dir)
        events = EventStream(args.engine, args.dir)
    except (ShmError, OSError) as exc:
        print(f"gateway: cannot attach engine {args.engine!r}: {exc}", file=sys.stderr)
        return 1
    latency = None
    if not args.no_latency:
        try:
            # Before any thread of this process takes a timestamp: the engine's clock is adopted.
            latency = ProcessLatency.for_gateway(args.engine, client.slot, args.dir)
        except LatencyError as exc:
            print(f"gateway: latency region: {exc}", file=sys.stderr)
            events.close()
            client.close()
            return 1
    try:
        return _serve(args, cfg, client, events, latency)
    finally:
        if latency is not None:
            latency.close()


def _serve(args: argparse.Namespace, cfg: GatewayConfig, client: EngineClient,
           events: EventStream, latency: ProcessLatency | None) -> int:
    host, port = args.listen
    # before anything listens: a proof stamped at or before it cannot be for this process (a
    # replay from before a restart), one a client makes for this process always comes after it
    started_ns = time.time_ns()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        lsock.bind((host, port))
    except OSError as exc:
        print(f"gateway: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        client.close()
        return 1
    lsock.listen(128)
    lsock.setblocking(False)
    bound_port = lsock.getsockname()[1]
    tls: TlsSetup | None = None
    if cfg.tls is not None:
        try:
            tls = open_tls_listener(cfg.tls)
        except TlsSetupError as exc:
            print(f"gateway: {exc}", file=sys.stderr, flush=True)
            lsock.close()
            client.close()
            return 2

    sessions, (accounts, n_accounts) = _sessions_array(cfg)
    gcfg = ffi.new("gw_config_t *")
    gcfg.listen_fd = lsock.fileno()
    if tls is not None:
        gcfg.tls = tls.ctx
        gcfg.tls_listen_fd = tls.sock.fileno()
    gcfg.busy_poll = int(args.busy_poll)
    io = choose_backend(args.io_backend, args.io_uring_sqpoll_ms)
    gcfg.io_backend = io.backend
    gcfg.io_uring_sqpoll_ms = io.sqpoll_ms
    bp = choose_busy_poll(args.so_busy_poll_us, args.prefer_busy_poll)
    gcfg.so_busy_poll_us = bp.us
    gcfg.so_prefer_busy_poll = int(bp.prefer)
    gcfg.idle_sleep_ms = args.idle_sleep_ms
    gcfg.idle_spin_us = args.idle_spin_us
    gcfg.inflight_spin_us = args.inflight_spin_us
    gcfg.event_doorbell = int(not args.no_event_doorbell)
    gcfg.sessions = sessions
    gcfg.session_count = len(cfg.sessions)
    security = GatewaySecurity(cfg, started_ns)     # lives as long as the loop runs (this frame)
    gcfg.security = security.struct
    gcfg.accounts = accounts
    gcfg.account_count = n_accounts
    gcfg.max_connections = args.max_connections
    gcfg.tx_buffer_bytes = args.tx_buffer_bytes
    gcfg.out_log_msgs = args.out_log_msgs
    gcfg.retransmit_limit = args.retransmit_limit
    gcfg.keepalive_min_ms = args.keepalive_min_ms
    gcfg.keepalive_max_ms = args.keepalive_max_ms
    gcfg.handshake_timeout_ms = args.handshake_timeout_ms
    gcfg.order_capacity = args.order_capacity
    gcfg.order_id_prefix = client.slot + 1      # unique per producer slot, so per gateway
    gcfg.first_order_counter = first_order_counter(time.time_ns())
    gcfg.first_exec_id = gcfg.first_order_counter << EXEC_IDS_PER_US_BITS
    gcfg.engine_stale_ms = args.engine_stale_ms
    gcfg.first_seq = int(client.control.control().last_seq) + 1
    gcfg.events_durable = int(client.control.control().journal_durable)
    gcfg.mass_cancel_timeout_ms = args.mass_cancel_timeout_ms
    gcfg.cmd = client.cmd_ring
    gcfg.reply = client.reply_ring
    gcfg.events = events.reader.rx
    gcfg.engine_bell = client.handle.engine_bell
    gcfg.control_seg = client.control.handle
    if latency is not None:
        gcfg.latency = latency.hists
        gcfg.latency_sample_mask = args.latency_sample - 1
        every = ("every request" if args.latency_sample == 1
                 else f"the requests of 1 recv() in {args.latency_sample}")
        print(f"gateway: latency stamps on ({every}), region {latency.path}; "
              f"{latency.clock.description} (adopted from the engine)", file=sys.stderr, flush=True)
    else:
        print("gateway: latency stamps off (" + ("--no-latency" if args.no_latency else
              f"engine {args.engine} records no latency") + ")", file=sys.stderr, flush=True)

    admin: AdminServer | None = None
    if args.admin:
        try:
            previous = previous_admin_token(args.admin_token_file) if args.admin_token_file else ""
            admin = AdminServer(args.admin, len(cfg.sessions), previous_token=previous,
                                token=new_admin_token(args.admin_token_file) if args.admin_token_file else "",
                                curve_secret=args.admin_curve_secret, curve_clients=args.admin_curve_clients,
                                rotation=KeyRotation(args.config, cfg))
        except (zmq.ZMQError, CurveError) as exc:
            print(f"gateway: cannot serve admin on {args.admin!r}: {exc}", file=sys.stderr)
            lsock.close()
            if tls is not None:
                tls.close()
            events.close()
            client.close()
            return 2
        gcfg.admin = admin.mailbox
        admin.start()       # before pinning: the admin thread must not share a spinning core

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    sched = "SCHED_OTHER"
    if args.fifo:
        # This thread only (the C loop); the admin thread and ZeroMQ's stay SCHED_OTHER.
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(args.fifo))
            sched = f"SCHED_FIFO {args.fifo}"
        except OSError as exc:
            print(f"gateway: SCHED_FIFO {args.fifo} refused ({exc.strerror}); running SCHED_OTHER",
                  file=sys.stderr)
    rc = lib.gw_install_stop_signals()
    if rc < 0:
        print(f"gateway: cannot install signal handlers ({os.strerror(-rc)})", file=sys.stderr)
        return 1
    if admin is not None and args.admin_file:
        _write_atomically(args.admin_file, admin.endpoint)
    if args.port_file:
        _write_atomically(args.port_file, str(bound_port))
    if args.tls_port_file and tls is not None:
        _write_atomically(args.tls_port_file, str(tls.port))
    print(f"gateway: listening on {host}:{bound_port}, engine {args.engine} producer slot "
          f"{client.slot}, cpu {args.cpu if args.cpu is not None else 'any'}, "
          f"{'busy-poll' if args.busy_poll else f'epoll backoff (spin {args.idle_spin_us} us, {args.inflight_spin_us} us in flight)'}, "
          f"{'' if args.busy_poll else ('no ' if args.no_event_doorbell else '') + 'event doorbell, '}"
          f"{sched}, I/O {io.description}, {bp.description}, {len(cfg.sessions)} sessions"
          f"{', admin on ' + admin.endpoint if admin else ''}"
          f"{'; ' + tls.description if tls else ''}",
          file=sys.stderr, flush=True)
    stats = ffi.new("gw_stats_t *")
    gwp = ffi.new("gw_t **")
    rc = lib.gw_open(gcfg, stats, gwp)
    if rc == 0 and args.state_file and not _restore(args, gwp[0], client):
        lib.gw_close(gwp[0])
        rc = -1                     # exit 1 (1 itself is GW_RUN_ENGINE_DEAD: exit 3)
    elif rc == 0:
        rc, client, events = _serve_across_engine_restarts(args, gcfg, gwp[0], client, events)
        lib.gw_close(gwp[0])
    if admin is not None:
        admin.loop_stopped()
        admin.close()
    lsock.close()
    if tls is not None:
        tls.close()
    s = stats[0]
    print(f"gateway: stopped (rc {rc}): {s.accepted} connections, {s.frames_in} frames in, "
          f"{s.frames_out} out, {s.commands} commands, {s.reports} reports, "
          f"{s.business_rejects} business rejects, {s.terminates} terminates, "
          f"{s.decode_errors} decode errors, {s.throttled} throttled, "
          f"{s.slow_consumers} slow consumers, {s.heartbeat_timeouts} heartbeat timeouts, "
          f"{s.lapped} event-log laps, {s.doorbell_wakes} doorbell wakes, "
          f"{s.io_syscalls} I/O system calls, {s.io_copies_bytes} bytes copied by the I/O backend, "
          f"{s.io_sends} sends ({s.io_sends_linked} linked in a chain, {s.io_sends_waited} waits "
          f"behind a chain), {s.tls_handshakes} TLS handshakes, {s.tls_refused} TLS refused, "
          f"{s.store_syncs} flow store syncs ({s.store_sync_failures} failed, "
          f"{s.store_sync_ns / max(s.store_syncs + s.store_sync_failures, 1) / 1e3:.0f} us "
          f"each, longest {s.store_sync_ns_max / 1e3:.0f} us, by "
          f"{'writeback + device flush' if s.store_sync_fast else 'msync'})",
          file=sys.stderr, flush=True)
    events.close()
    client.close()
    if rc in (lib.GW_RUN_ENGINE_DEAD, lib.GW_RUN_ENGINE_STALE):
        return 3
    return 0 if rc == 0 else 1


DRAIN_SETTLE_S = 0.05       # a dead producer's ring is drained once the engine's count of
                            # commands taken from it stays put this long (it takes a committed
                            # record within microseconds)


def _released(journal_dir: str) -> int:
    """The seq up to which both journals hold every record (what the engine released)."""
    return min(max((h.released_seq for h in journal.segment_headers(journal_dir, kind)), default=0)
               for kind in (journal.KIND_CMD, journal.KIND_EVT))


def _replay_limit(args: argparse.Namespace, client: EngineClient, old_source: int,
                  journal_dir: str) -> int | None:
    """A seq at or after every command the previous run wrote, up to which the journal holds
    every command and event; None at the deadline. Its ring is drained once the engine's count
    of what it took from it stays put for DRAIN_SETTLE_S; the engine stores its last seq at each
    heartbeat, so the one read after two heartbeats later than that is past every such command;
    then the journal must have released up to it."""
    ctl = client.control.control()
    hdr = client.control.handle.hdr
    old_slot = old_source - 1
    end = time.monotonic() + args.restore_wait_s
    taken = -1
    step = 0
    last = 0
    beat = 0
    while time.monotonic() < end:
        if step == 0:               # the dead run's ring: drained?
            now_taken = int(ctl.producers[old_slot].commands) if 0 <= old_slot < 16 else 0
            if now_taken == taken:
                step, beat = 1, time.monotonic_ns()
            taken = now_taken
            time.sleep(DRAIN_SETTLE_S if step == 0 else 0)
        elif step < 3:              # two heartbeats after it: last_seq is past its commands
            if int(hdr.heartbeat_ns) > beat:
                step, beat = step + 1, int(hdr.heartbeat_ns)
                last = int(ctl.last_seq)
            else:
                time.sleep(0.001)
        else:
            released = _released(journal_dir)
            if released >= last:
                return released
            time.sleep(0.002)
    return None


def _restore(args: argparse.Namespace, gw: Any, client: EngineClient) -> bool:
    """Opens the flow store and, when a previous run left it, rebuilds from it and the journal
    (gw_restore). False after printing why the gateway cannot start."""
    msg = ffi.new("char[]", 1024)
    if lib.gw_use_store(gw, args.state_file.encode(), msg, 1024) < 0:
        print(f"gateway: --state-file: {ffi.string(msg).decode(errors='replace')}",
              file=sys.stderr, flush=True)
        return False
    ctl = client.control.control()
    jdir = ffi.string(ctl.journal_dir).decode()
    old_source = lib.gw_store_last_source(gw)
    limit = 0
    t0 = time.perf_counter_ns()
    if old_source:
        if not jdir:
            print("gateway: --state-file: the engine keeps no journal, so the orders of this "
                  "gateway's previous run cannot be found", file=sys.stderr, flush=True)
            return False
        found = _replay_limit(args, client, old_source, jdir)
        if found is None:
            print(f"gateway: --state-file: the engine did not take the previous run's last "
                  f"commands and release them within {args.restore_wait_s:g} s", file=sys.stderr,
                  flush=True)
            return False
        limit = found
    rc = lib.gw_restore(gw, client.slot + 1, int(ctl.last_seq) + 1, jdir.encode(), limit, msg,
                        1024)
    if rc < 0:
        print(f"gateway: --state-file: {ffi.string(msg).decode(errors='replace')}",
              file=sys.stderr, flush=True)
        return False
    if old_source:
        print(f"gateway: restored from {args.state_file}: journal {jdir} replayed up to seq "
              f"{limit} in {(time.perf_counter_ns() - t0) / 1e6:.1f} ms; sessions may reconnect "
              f"and ask for retransmission", file=sys.stderr, flush=True)
    return True


def _serve_across_engine_restarts(args: argparse.Namespace, gcfg: Any, gw: Any,
                                  client: EngineClient, events: EventStream
                                  ) -> tuple[int, EngineClient, EventStream]:
    """Runs the C loop; each time the engine dies, waits for a restarted one and resumes on it.
    Returns the last gw_serve result and the engine handles in use (for the caller to close)."""
    while True:
        rc = lib.gw_serve(gw)
        if rc not in (lib.GW_RUN_ENGINE_DEAD, lib.GW_RUN_ENGINE_STALE):
            return rc, client, events
        dead = client.control.handle.hdr
        dead_id = (int(dead.creator_pid), int(dead.creator_start_ticks))
        why = (f"its process {dead_id[0]} is gone" if rc == lib.GW_RUN_ENGINE_DEAD
               else f"its heartbeat is older than {args.engine_stale_ms} ms")
        print(f"gateway: engine {args.engine} died ({why}): every session was terminated with "
              f"reason 959 ENG_GW_ENGINE_GONE", file=sys.stderr, flush=True)
        old_source = client.slot + 1
        if args.engine_wait_s <= 0:
            print("gateway: exiting 3 (--engine-wait-s 0) so that the supervisor restarts the "
                  "gateway once the engine is back", file=sys.stderr, flush=True)
            return rc, client, events
        print(f"gateway: waiting up to {args.engine_wait_s:g} s for a restarted engine "
              f"{args.engine}; sessions, their logs and orders are kept", file=sys.stderr,
              flush=True)
        attached = _attach_restarted_engine(args, dead_id, lambda: lib.gw_expire_mass_cancels(gw))
        if attached is None:
            print(f"gateway: no restarted engine {args.engine} "
                  + ("(stop requested)" if lib.gw_stop_requested() else
                     f"within {args.engine_wait_s:g} s") + "; exiting 3",
                  file=sys.stderr, flush=True)
            return rc, client, events
        events.close()
        client.close()
        client, events = attached
        gcfg.cmd = client.cmd_ring
        gcfg.reply = client.reply_ring
        gcfg.events = events.reader.rx
        gcfg.engine_bell = client.handle.engine_bell
        gcfg.control_seg = client.control.handle
        ctl = client.control.control()
        gcfg.events_durable = int(ctl.journal_durable)     # the new engine's --durability
        recovered = int(ctl.recovered_seq)
        jdir = ffi.string(ctl.journal_dir)
        msg = ffi.new("char[]", 1024)
        t0 = time.perf_counter_ns()
        rrc = lib.gw_resume(gw, old_source, recovered, jdir, msg, 1024)
        if rrc < 0:
            print(f"gateway: cannot resume on the restarted engine: "
                  f"{ffi.string(msg).decode(errors='replace')}; exiting 3", file=sys.stderr,
                  flush=True)
            return rc, client, events
        print(f"gateway: resumed on engine {args.engine} (pid "
              f"{int(client.control.handle.hdr.creator_pid)}, producer slot {client.slot}): "
              f"journal {jdir.decode(errors='replace')} read up to seq {recovered} in "
              f"{(time.perf_counter_ns() - t0) / 1e6:.1f} ms; sessions may reconnect and ask "
              f"for retransmission", file=sys.stderr, flush=True)


def _attach_restarted_engine(args: argparse.Namespace, dead_id: tuple[int, int],
                             tick: Callable[[], object]) -> tuple[EngineClient, EventStream] | None:
    """Attaches an engine of the same name made by another process than the dead one, once it
    serves (recovery done); None at the deadline or on a stop request (SIGTERM/SIGINT). tick runs
    at every poll: mass cancels past their bound are answered meanwhile (a client that reconnects
    after the engine came back finds the answer in its retransmission)."""
    deadline = time.monotonic() + args.engine_wait_s
    while time.monotonic() < deadline and not lib.gw_stop_requested():
        tick()
        if engine_serving(args.engine, args.dir):
            try:
                client = EngineClient(args.engine, args.dir)
            except (ShmError, OSError):
                client = None       # the dead one's segments, or the new one mid-start
            if client is not None:
                hdr = client.control.handle.hdr
                if (int(hdr.creator_pid), int(hdr.creator_start_ticks)) != dead_id:
                    try:
                        return client, EventStream(args.engine, args.dir)
                    except (ShmError, OSError):
                        pass
                client.close()
        time.sleep(0.02)
    return None


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:            # a name that cannot be an engine's ('bad name') was a ValueError traceback
        segment_path(args.engine, "control", args.dir)
    except ValueError as exc:
        parser.error(f"--engine: {exc}")
    if args.cpu is not None and args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu {args.cpu} is not one of this process's CPUs "
                     f"{sorted(os.sched_getaffinity(0))}")
    if not 0 <= args.fifo <= 99:
        parser.error(f"--fifo must be 0 (off) or 1..99, got {args.fifo}")
    if args.fifo and args.busy_poll:
        parser.error("--fifo with --busy-poll: a SCHED_FIFO loop that never blocks is throttled "
                     "by the kernel (sched_rt_runtime_us) for tens of ms each second")
    if not 0 <= args.idle_spin_us <= 1_000_000:
        parser.error(f"--idle-spin-us must be 0..1000000, got {args.idle_spin_us}")
    if not 0 <= args.inflight_spin_us <= 1_000_000:
        parser.error(f"--inflight-spin-us must be 0..1000000, got {args.inflight_spin_us}")
    if args.io_backend not in BACKENDS:
        parser.error(f"--io-backend {args.io_backend!r} (or ${ENV_BACKEND}): use one of "
                     f"{', '.join(BACKENDS)}")
    if not 0 <= args.io_uring_sqpoll_ms <= 60_000:
        parser.error(f"--io-uring-sqpoll-ms must be 0..60000, got {args.io_uring_sqpoll_ms}")
    if not 0 <= args.so_busy_poll_us <= 1_000_000:
        parser.error(f"--so-busy-poll-us must be 0..1000000, got {args.so_busy_poll_us}")
    if args.keepalive_max_ms < args.keepalive_min_ms:
        parser.error("--keepalive-max-ms must be >= --keepalive-min-ms")
    if not 0 < args.restore_wait_s <= 3600:
        parser.error(f"--restore-wait-s must be in (0, 3600], got {args.restore_wait_s}")
    if not 0 <= args.engine_wait_s <= 86_400:
        parser.error(f"--engine-wait-s must be 0..86400, got {args.engine_wait_s}")
    if not 0 <= args.engine_stale_ms <= 3_600_000:
        parser.error(f"--engine-stale-ms must be 0..3600000, got {args.engine_stale_ms}")
    if args.tx_buffer_bytes < 4096:
        parser.error("--tx-buffer-bytes must be >= 4096")
    if (args.admin_curve_secret is None) != (args.admin_curve_clients is None):
        parser.error("--admin-curve-secret and --admin-curve-clients: give both or neither")
    if args.admin_curve_secret is not None and not args.admin:
        parser.error("--admin-curve-secret needs --admin")
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    return run(args, cfg)
