"""``python -m gateway engine``: the matching engine as its own process, pinned to one core.

Python does the set-up (arguments, segments, engine, pinning, memory locking, SCHED_FIFO,
start-up warnings) and then calls the C loop (native/runner/runner_loop.c), which returns only after a
SIGTERM/SIGINT (or a stop request in the control segment) and a drain of the command rings.
With ``--journal DIR`` it first recovers: both journals are validated (a torn last record is
truncated with a log line), the command journal is replayed through the engine (checking the
event journal byte for byte), and the state hash is printed; then every command is journaled
before it runs and acknowledged only once durable per ``--durability`` (see README).
Exit status: 0 after a clean stop, 2 for bad arguments, 1 when the engine cannot start or its
journal fails (disk full, I/O error: nothing that was not durable was acknowledged).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, Sequence

# Before numpy loads: its OpenBLAS would start a worker thread per CPU, which this process (numpy
# for set-up only) never needs and which took 2-6% of the CPUs from recovery's checker thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gateway.cli_numbers import positive_int
from gateway.enginehost import journal
from gateway.latency.errors import LatencyError
from gateway.latency.venue import ProcessLatency, remove_engine_region
from native import records
from native._venue import ffi, lib
from native.messages import AddInstrument, Command, SetPhase, VenueMode
from shm.engine_segments import MAX_PRODUCERS, EngineSegments
from shm.errors import ShmError, check
from shm.segment import segment_path, shm_dir
from shm.venue_lock import NameLock, VenueLocked, lock_journal, lock_venue

log = logging.getLogger("gateway.engine")

_PHASES = {"closed": None, "pre-open": ["PRE_OPEN"], "continuous": ["PRE_OPEN", "CONTINUOUS"]}


@dataclass(frozen=True)
class InstrumentSpec:
    instrument_id: int
    tick_size: int
    lot_size: int
    reference_price: int



def _sync_way(log: Any) -> str:
    """How the journal's current segment is made durable (native/journal/jrnl_durable.c)."""
    return "writeback + device flush" if log.durable.flush_fd >= 0 else "msync"


def parse_instruments(text: str) -> list[InstrumentSpec]:
    """``ID[:TICK[:LOT[:REF]]],...`` e.g. ``1,2:5:100:10000``; defaults tick 1, lot 1, ref 10000."""
    specs: list[InstrumentSpec] = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if not parts[0] or len(parts) > 4:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: use ID[:TICK[:LOT[:REF]]]")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: fields must be integers") \
                from None
        nums += [1, 1, 10000][len(nums) - 1:]
        if nums[0] < 1 or min(nums[1:]) < 1:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: id, tick, lot and reference "
                                             "price must be >= 1")
        if max(nums[1:]) >= 1 << 63:    # the engine's command fields are int64 (an OverflowError)
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: tick, lot and reference price "
                                             f"must be below 2^63")
        if nums[3] % nums[1]:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: reference price {nums[3]} is "
                                             f"not a multiple of tick {nums[1]}")
        specs.append(InstrumentSpec(*nums))
    ids = [s.instrument_id for s in specs]
    if len(set(ids)) != len(ids):
        raise argparse.ArgumentTypeError(f"instrument ids repeat: {text!r}")
    return specs


def _pow2(text: str) -> int:
    v = int(text)
    if v < lib.RING_MIN_CAPACITY or v > lib.RING_MAX_CAPACITY or v & (v - 1):
        raise argparse.ArgumentTypeError(f"{v} is not a power of two in [{lib.RING_MIN_CAPACITY}, "
                                         f"{lib.RING_MAX_CAPACITY}]")
    return v


def _bounded(low: int, high: int) -> Any:
    """An argparse type: a whole number in [low, high]. The engine's timing and journal fields
    are fixed-width C integers: a larger value was an OverflowError traceback (or, for
    --sleep-us, an engine that slept for ages between polls)."""
    def parse(text: str) -> int:
        v = int(text)
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high}, got {v}")
        return v
    return parse


def _capacity(text: str) -> int:
    """An engine capacity (eng_config_t's uint32_t fields): 1..2^32-1."""
    v = positive_int(text)
    if v >= 1 << 32:
        raise argparse.ArgumentTypeError(f"must be at most {(1 << 32) - 1}, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway engine",
                                description="Run the matching engine as its own pinned process.")
    p.add_argument("--name", required=True, help="engine name: segments are venue-NAME-*")
    p.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: not pinned)")
    p.add_argument("--instruments", type=parse_instruments, default=parse_instruments("1"),
                   help="ID[:TICK[:LOT[:REF]]],... added at start (default: 1)")
    p.add_argument("--phase", choices=sorted(_PHASES), default="continuous",
                   help="trading phase the instruments start in (default: continuous)")
    p.add_argument("--wait", choices=["spin", "backoff"], default="backoff",
                   help="spin: busy-poll (isolated cores); backoff: spin, yield, then sleep")
    p.add_argument("--spin", type=_bounded(0, (1 << 31) - 1), default=20000, help="backoff: idle polls before yielding")
    p.add_argument("--yields", type=_bounded(0, (1 << 31) - 1), default=100, help="backoff: yields before sleeping")
    p.add_argument("--sleep-us", type=_bounded(1, 1_000_000), default=1000, help="backoff: longest sleep")
    p.add_argument("--max-orders", type=_capacity, default=1 << 20)
    p.add_argument("--max-levels", type=_capacity, default=1 << 16)
    p.add_argument("--max-accounts", type=_capacity, default=1024)
    p.add_argument("--producers", type=int, default=4, help=f"producer slots, 1..{MAX_PRODUCERS}")
    p.add_argument("--cmd-ring-bytes", type=_pow2, default=1 << 16)
    p.add_argument("--event-log-bytes", type=_pow2, default=1 << 24)
    p.add_argument("--dir", default=None, help="segment directory (default $VENUE_SHM_DIR or "
                                               "/dev/shm; a hugetlbfs mount gives huge pages)")
    p.add_argument("--fifo", type=int, default=0, metavar="PRIO",
                   help="SCHED_FIFO priority 1-99 where permitted (default 0: off)")
    p.add_argument("--no-mlock", action="store_true", help="skip mlockall")
    p.add_argument("--heartbeat-us", type=_bounded(1, 10_000_000), default=1000)
    p.add_argument("--drain-timeout-ms", type=_bounded(1, 3_600_000), default=1000)
    p.add_argument("--journal", default=None, metavar="DIR",
                   help="journal directory: recover from it at start, journal every command and "
                        "event (default: no journal)")
    p.add_argument("--durability", choices=["async", "group", "each"], default="group",
                   help="with --journal: when acks are released (default: group commit)")
    p.add_argument("--group-us", type=_bounded(1, 1_000_000), default=200,
                   help="group commit: a group closes when its oldest command is this old "
                        "or no command is waiting (and the previous group's sync is done)")
    p.add_argument("--group-records", type=_bounded(1, 1 << 20), default=512,
                   help="group commit: ... or when it holds this many commands (a group grows "
                        "past it while the previous sync is still running)")
    p.add_argument("--group-inline-max", type=int, default=0, metavar="N",
                   help="group commit: a group of at most N commands closing on an idle loop "
                        "(no sync in flight) is synced on the engine thread instead of the sync "
                        "thread: two wake-ups fewer for a lone order's ack where the engine has "
                        "a core of its own; on a shared, loaded CPU the engine thread waits "
                        "behind other tasks after the disk answers while the SCHED_FIFO sync "
                        "thread does not (bench/journal.py, lone order: 10 ms vs 0.9 ms P50 at "
                        "load 8 on 2 CPUs); default 0: always the sync thread")
    p.add_argument("--segment-mb", type=_bounded(1, 4096), default=64,
                   help="journal segment file size in MiB")
    p.add_argument("--journal-spares", type=int, choices=range(1, 9), default=2,
                   metavar="1..8",
                   help="segments of each journal made ahead by a background thread (at start, "
                        "before orders are taken, and after each roll), so a roll never writes "
                        "a segment on the order path (default 2)")
    p.add_argument("--sync-cpu", type=int, default=None,
                   help="pin the journal's sync and segment-maker threads to this CPU (default: "
                        "another CPU than --cpu if there is one, else the engine's)")
    p.add_argument("--no-latency", action="store_true",
                   help="do not stamp or record order-path latency (default: record into "
                        "<dir>/venue-NAME-latency-engine; see python -m gateway report)")
    p.add_argument("--snapshot-every", type=_bounded(0, 1 << 62), default=1_000_000, metavar="COMMANDS",
                   help="with --journal: snapshot (forked child) after this many commands; "
                        "0: never (default 1000000)")
    p.add_argument("--journal-keep-snapshots", type=int, default=0, metavar="N",
                   help="with --journal: retention. After each snapshot keep the newest N "
                        "snapshots and remove the journal segments wholly before the oldest of "
                        "them (never one a hold file of a reader such as the drop copy still "
                        "needs). 0 (default): keep every segment")
    p.add_argument("--dark", type=positive_int, default=None, metavar="NBBO_MAX_AGE_NS",
                   help="a dark midpoint venue: every instrument in venue mode DARK_MIDPOINT (only "
                        "MIDPOINT_PEG orders, never displayed, trading at the midpoint of the NBBO "
                        "sent as NBBO commands while it is at most this old, in the sequencer's "
                        "CLOCK_MONOTONIC ns); tick sizes must be even (native/ENGINE.md)")
    p.add_argument("--journal-archive", default=None, metavar="DIR",
                   help="with --journal-keep-snapshots: move removed segments into DIR (same "
                        "file system) instead of deleting them")
    return p


def _boot_commands(args: argparse.Namespace) -> np.ndarray:
    cmds: list[Command] = []
    for s in args.instruments:
        dark = {"venue_mode": int(VenueMode.DARK_MIDPOINT), "nbbo_max_age_ns": args.dark} if args.dark else {}
        cmds.append(AddInstrument(instrument_id=s.instrument_id, tick_size=s.tick_size, lot_size=s.lot_size,
                                  reference_price=s.reference_price, market_collar_ticks=100, **dark))
        for phase in _PHASES[args.phase] or []:
            cmds.append(SetPhase(instrument_id=s.instrument_id, phase=int(records.Phase[phase])))
    return records.encode_commands(cmds)


def _startup_warnings(cores: Sequence[int]) -> list[str]:
    for module_name in ("tuning", "tuning.startup"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        fn = getattr(module, "startup_warnings", None)
        if fn is not None:
            return list(fn(list(cores)))
    log.debug("tuning.startup_warnings not available; skipping host checks")
    return []


def _prepare_process(args: argparse.Namespace) -> list[str]:
    """Pins, sets SCHED_FIFO, locks memory. Returns warning lines for what was not possible."""
    warnings: list[str] = []
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if args.fifo:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(args.fifo))
        except PermissionError:
            warnings.append(f"SCHED_FIFO priority {args.fifo} not permitted; running SCHED_OTHER")
        except OSError as exc:
            warnings.append(f"SCHED_FIFO priority {args.fifo} refused ({exc.strerror})")
    if not args.no_mlock:
        rc = lib.runner_lock_memory(1 << 20)
        if rc < 0:
            warnings.append(f"mlockall not permitted ({os.strerror(-rc)}); pages may fault")
    return warnings


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    try:
        segment_path(args.name, "control", args.dir)
    except ValueError as exc:
        parser.error(str(exc))
    if not 0 <= args.group_inline_max <= args.group_records:
        parser.error(f"--group-inline-max must be 0..--group-records ({args.group_records}), "
                     f"got {args.group_inline_max}")
    if args.cpu is not None and args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu {args.cpu} is not one of this process's CPUs "
                     f"{sorted(os.sched_getaffinity(0))}")
    if not 1 <= args.producers <= MAX_PRODUCERS:
        parser.error(f"--producers must be 1..{MAX_PRODUCERS}, got {args.producers}")
    if args.sync_cpu is not None and args.sync_cpu == args.cpu and \
            len(os.sched_getaffinity(0)) > 1:
        parser.error(f"--sync-cpu {args.sync_cpu} is the engine's --cpu: the engine loop polls "
                     f"without sleeping while a group waits for its sync, so the sync thread "
                     f"on its CPU would get no time (acks stall); pick another CPU")
    if args.sync_cpu is None and args.cpu is not None:
        others = sorted(os.sched_getaffinity(0) - {args.cpu})
        args.sync_cpu = others[0] if others else None
    if args.sync_cpu is not None and args.sync_cpu not in os.sched_getaffinity(0):
        parser.error(f"--sync-cpu {args.sync_cpu} is not one of this process's CPUs")
    if args.snapshot_every < 0:
        parser.error(f"--snapshot-every must be >= 0, got {args.snapshot_every}")
    if args.journal_keep_snapshots < 0:
        parser.error(f"--journal-keep-snapshots must be >= 0, got {args.journal_keep_snapshots}")
    if args.journal_archive is not None:
        if not args.journal_keep_snapshots:
            parser.error("--journal-archive needs --journal-keep-snapshots N (N >= 1)")
        if not os.path.isdir(args.journal_archive) or not os.access(args.journal_archive,
                                                                    os.W_OK):
            parser.error(f"--journal-archive {args.journal_archive!r} is not a writable "
                         "directory")
        args.journal_archive = os.path.abspath(args.journal_archive)
    if not 0 <= args.fifo <= 99:
        parser.error(f"--fifo must be 0 (off) or 1..99, got {args.fifo}")
    if args.spin < 0 or args.yields < 0:
        parser.error("--spin and --yields must be >= 0")
    if args.journal is not None:
        try:
            journal.check(lib.jrnl_segment_path(ffi.new("char[]", 512), 512,
                                                 args.journal.encode(), journal.KIND_CMD, 0))
        except journal.JournalInvalid:
            parser.error(f"--journal path too long: {args.journal!r}")
        if len(os.path.abspath(args.journal).encode()) >= 256:   # ring_control_t.journal_dir
            parser.error(f"--journal path too long (255 bytes at most, absolute): {args.journal!r}")
    odd = [s.instrument_id for s in args.instruments if s.tick_size % 2]
    if args.dark and odd:
        parser.error(f"--dark needs even tick sizes (midpoints must be whole price units): "
                     f"instrument(s) {odd} have an odd tick")
    max_id = max(s.instrument_id for s in args.instruments)
    if max_id > 65535:
        parser.error(f"instrument id {max_id} too large (max 65535)")


def _make_engine(args: argparse.Namespace) -> Any:
    """A fresh engine with the configured capacities; raises MemoryError naming them."""
    max_instruments = max(s.instrument_id for s in args.instruments)
    cfg = ffi.new("eng_config_t *", {"max_orders": args.max_orders, "max_levels": args.max_levels,
                                     "max_instruments": max_instruments,
                                     "max_accounts": args.max_accounts})
    engp = ffi.new("eng_engine_t **")
    rc = lib.eng_create(cfg, engp)
    if rc < 0:
        raise MemoryError(f"cannot create the engine ({os.strerror(-rc)}); check --max-* sizes")
    return engp[0]


def run(args: argparse.Namespace) -> int:
    # Before anything of the venue is created, opened or removed: a second engine of the same
    # name (or on the same journal) is refused here and touches nothing. Held until exit.
    locks: list[NameLock] = []
    where = "--dir"                 # what the error names: the segment folder, then the journal
    try:
        locks.append(lock_venue(args.name, "engine", args.dir))
        where = "journal"
        if args.journal:
            locks.append(lock_journal(args.journal))
    except (VenueLocked, OSError) as exc:
        for held in locks:
            held.release()
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and where == "--dir":
            text = f"{shm_dir(args.dir)}: {text}"
        print(f"engine: {'not starting' if isinstance(exc, VenueLocked) else where}: {text}",
              file=sys.stderr)
        return 1
    try:
        return _run_locked(args)
    finally:
        for held in reversed(locks):
            held.release()


def _run_locked(args: argparse.Namespace) -> int:
    max_instruments = max(s.instrument_id for s in args.instruments)
    recovery = None
    try:
        if args.journal:
            limits = (args.max_orders, args.max_levels, max_instruments, args.max_accounts)
            recovery = journal.recover(lambda: _make_engine(args), lib.eng_destroy, args.journal,
                                       limits, args.segment_mb << 20)
            engine = recovery.engine
        else:
            engine = _make_engine(args)
    except MemoryError as exc:
        print(f"engine: {exc}", file=sys.stderr)
        return 1
    except (journal.JournalError, OSError) as exc:
        print(f"engine: journal: {exc}", file=sys.stderr)
        return 1
    if recovery is not None:
        for note in recovery.notes:
            print(f"engine: journal: {note}", file=sys.stderr)
        r = recovery.result
        snap = (f"snapshot of seq {recovery.snapshot_seq} + " if recovery.snapshot_seq
                else "no snapshot, ")
        print(f"engine: recovery: {snap}replayed {r.commands} commands (seq {r.from_seq + 1}.."
              f"{r.last_seq}) in {r.elapsed_ns / 1e6:.1f} ms, {r.events_checked} events checked "
              f"against the event journal, {r.events_written} rewritten; state hash "
              f"{r.state_hash:#018x}", file=sys.stderr, flush=True)
    try:
        segs = EngineSegments.create(args.name, args.producers, args.cmd_ring_bytes,
                                     args.event_log_bytes, args.dir)
    except (ShmError, OSError) as exc:
        if recovery is not None:
            recovery.close()
        lib.eng_destroy(engine)
        print(f"engine: {exc}", file=sys.stderr)
        return 1
    latency = None
    try:
        if not args.no_latency:
            # Before any thread starts (the journal's sync thread starts in runner_run).
            latency = ProcessLatency.for_engine(args.name, args.dir)
        else:
            # A crashed earlier engine's region would make gateways stamp for nobody.
            remove_engine_region(args.name, args.dir)
        return _run_loop(args, engine, segs, recovery, latency)
    except LatencyError as exc:
        print(f"engine: latency region: {exc}", file=sys.stderr)
        return 1
    finally:
        if latency is not None:
            latency.close()
        segs.close(unlink=True)
        if recovery is not None:
            recovery.close()
        lib.eng_destroy(engine)


def _run_loop(args: argparse.Namespace, engine: object, segs: EngineSegments,
              recovery: journal.Recovery | None, latency: ProcessLatency | None = None) -> int:
    n = args.producers
    cmd_rings = ffi.new("ring_spsc_t[]", n)
    reply_rings = ffi.new("ring_spsc_t[]", n)
    for k in range(n):
        check(lib.ring_spsc_init(ffi.addressof(cmd_rings, k), segs.cmds[k].handle))
        check(lib.ring_spsc_init(ffi.addressof(reply_rings, k), segs.replies[k].handle))
    tx = ffi.new("ring_bcast_tx_t *")
    check(lib.ring_bcast_tx_init(tx, segs.events.handle))
    others = [segs.events, *segs.cmds, *segs.replies]
    seg_array = ffi.new("ring_seg_t[]", len(others))
    for i, seg in enumerate(others):
        seg_array[i] = seg.handle[0]
    boot = _boot_commands(args)
    if recovery is not None and recovery.result.last_seq > 0:
        # The journal already holds the instruments and phases: running them again would only
        # give rejects (and new journal records).
        boot = boot[:0]
    boot_c = ffi.cast("eng_cmd_t *", ffi.from_buffer(boot))

    rcfg = ffi.new("runner_config_t *")
    rcfg.engine = engine
    rcfg.control_seg = segs.control.handle
    rcfg.segs = seg_array
    rcfg.seg_count = len(others)
    rcfg.producer_count = n
    rcfg.cmd_rings = cmd_rings
    rcfg.reply_rings = reply_rings
    rcfg.events = tx
    rcfg.boot_cmds = boot_c
    rcfg.boot_count = len(boot)
    rcfg.batch_limit = 64
    mode = lib.RING_WAIT_SPIN if args.wait == "spin" else lib.RING_WAIT_BACKOFF
    sleep_ns = min(args.sleep_us, args.heartbeat_us) * 1000
    check(lib.ring_wait_init(ffi.addressof(rcfg, "wait"), mode, args.spin, args.yields, sleep_ns))
    rcfg.heartbeat_interval_ns = args.heartbeat_us * 1000
    rcfg.drain_timeout_ns = args.drain_timeout_ms * 1_000_000
    if recovery is not None:
        rcfg.cmd_journal = recovery.cmd_log
        rcfg.evt_journal = recovery.evt_log
        rcfg.durability = {"async": lib.RUNNER_DURABILITY_ASYNC,
                           "group": lib.RUNNER_DURABILITY_GROUP,
                           "each": lib.RUNNER_DURABILITY_EACH}[args.durability]
        rcfg.group_records = args.group_records
        rcfg.group_window_ns = args.group_us * 1000
        rcfg.group_inline_max = args.group_inline_max
        rcfg.start_seq = recovery.result.last_seq
        rcfg.start_ts_ns = recovery.result.last_ts_ns
        snap_dir = ffi.new("char[]", args.journal.encode())
        rcfg.snapshot_dir = snap_dir
        rcfg.keep_snapshots = args.journal_keep_snapshots
        archive_dir = ffi.new("char[]", (args.journal_archive or "").encode())
        rcfg.archive_dir = archive_dir if args.journal_archive else ffi.NULL
        rcfg.snapshot_every = args.snapshot_every
        rcfg.last_snapshot_seq = recovery.snapshot_seq
        rcfg.sync_cpu = -1 if args.sync_cpu is None else args.sync_cpu
        rcfg.spare_segments = args.journal_spares
    ctl = ffi.cast("ring_control_t *", segs.control.handle.ctl)
    ctl.engine_cpu = -1 if args.cpu is None else args.cpu
    if recovery is not None:
        # Before runner_run publishes producer_count: a gateway that outlived the previous engine
        # reads the events it missed from this journal, up to recovered_seq.
        ctl.recovered_seq = recovery.result.last_seq
        ctl.journal_dir = os.path.abspath(args.journal).encode()
        # A gateway syncs its flow store only for what this journal cannot rebuild when every
        # event it reads is durable here first (native/gateway/gw_store.c P1).
        ctl.journal_durable = 1 if args.durability in ("group", "each") else 0
    if latency is not None:
        rcfg.latency = latency.hists
        print(f"engine: latency stamps on, region {latency.path}; {latency.clock.description}",
              file=sys.stderr, flush=True)
    else:
        print("engine: latency stamps off (--no-latency)", file=sys.stderr, flush=True)

    for line in _prepare_process(args):
        print(f"engine: warning: {line}", file=sys.stderr)
    cores = [args.cpu] if args.cpu is not None else sorted(os.sched_getaffinity(0))
    for line in _startup_warnings(cores):
        print(f"engine: warning: {line}", file=sys.stderr)
    check(lib.runner_install_stop_signals())
    print(f"engine: {args.name} running on cpu {args.cpu if args.cpu is not None else 'any'}, "
          f"wait {args.wait}, {n} producer slots, control {segs.control.path}", file=sys.stderr,
          flush=True)
    result = ffi.new("runner_result_t *")
    rc = lib.runner_run(rcfg, result)
    if recovery is not None and rc != 0 and rc == result.journal_error:
        why = journal.log_message(recovery.cmd_log) or journal.log_message(recovery.evt_log)
        reason = os.strerror(-rc) if -rc < 1000 else f"journal status {rc}"
        print(f"engine: {args.name} stopped by a journal failure ({reason}): {why}; nothing "
              "that was not durable was acknowledged", file=sys.stderr, flush=True)
        return 1
    check(rc)
    print(f"engine: {args.name} stopped: {result.commands} commands, {result.events} events, "
          f"last seq {result.last_seq}, {result.bad_records} malformed records, "
          f"{result.undrained} left undrained, {result.sleeps} sleeps", file=sys.stderr,
          flush=True)
    if recovery is not None:
        print(f"engine: journal: {result.syncs} syncs (longest {result.sync_ns_max / 1e3:.0f} us), "
              f"{result.snapshots} snapshots (last seq {result.last_snapshot_seq}, longest "
              f"fork pause {result.snapshot_pause_ns_max / 1e3:.0f} us, "
              f"{result.snapshot_failures} failed), state hash "
              f"{lib.eng_state_hash(engine):#018x}", file=sys.stderr, flush=True)
        print(f"engine: journal time: {result.sync_ns_total / max(result.syncs, 1) / 1e3:.0f} us "
              f"per sync, {result.stall_ns_total / 1e3:.0f} us waiting for syncs, "
              f"{result.forced_commits} commits forced by full hold buffers, "
              f"{result.roll_ns_total / 1e3:.0f} us opening segments, sync thread cpu "
              f"{result.sync_thread_cpu_ns / 1e3:.0f} us, {result.prealloc_ns / 1e6:.0f} ms "
              f"preallocating {args.journal_spares} spare segments per journal at start, "
              f"{result.idle_passes} idle loop passes, {result.reply_room_waits} polls stopped "
              f"by full reply rings, sync thread "
              f"{'SCHED_FIFO' if result.sync_thread_realtime else 'SCHED_OTHER'}, command "
              f"journal synced by {_sync_way(recovery.cmd_log)}",
              file=sys.stderr, flush=True)
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=os.environ.get("VENUE_LOG", "WARNING"))
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    return run(args)
