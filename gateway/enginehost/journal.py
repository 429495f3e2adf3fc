"""The venue's journals from Python: open and recover them for the engine process, read them back
in batches, replay them into a fresh engine, and ``python -m gateway journal verify``.

The records and their checks live in C (native/journal/jrnl_*.c, layout in venue_layout.h Section 6);
this module only drives them, one C call per batch or per replay. C return codes become typed
exceptions in exactly one place, ``check``: "you are wrong" (``JournalInvalid``), "this journal
cannot be used" (``JournalCorrupt``, ``JournalVersionMismatch``, ``JournalConfigMismatch``,
``JournalReplayMismatch``) and system failures (``JournalDiskFull``, ``JournalNotWritable``,
``OSError``) stay apart."""
from __future__ import annotations

import argparse
import errno as _errno
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from native._venue import ffi, lib

KIND_CMD = lib.JRNL_KIND_CMD
KIND_EVT = lib.JRNL_KIND_EVT
MAX_SEQ = 2**64 - 1
DEFAULT_SEGMENT_BYTES = lib.JRNL_DEFAULT_SEGMENT_BYTES
RECORD_BYTES = lib.JRNL_RECORD_BYTES


class JournalError(Exception):
    """Base of every journal failure; the message says which file and what to do."""


class JournalInvalid(JournalError, ValueError):
    """A bad argument (path too long, segment size)."""


class JournalCorrupt(JournalError):
    """A record in the middle fails its checksum, the sequence breaks, or a header is wrong."""


class JournalVersionMismatch(JournalError):
    """The journal was written by another layout version."""


class JournalConfigMismatch(JournalError):
    """The journal was written by an engine with other capacities."""


class JournalReplayMismatch(JournalError):
    """A replay produced events that differ from the event journal."""


class JournalDiskFull(JournalError, OSError):
    """No space (or file-size limit) for a new segment."""


class JournalNotWritable(JournalError, PermissionError):
    """The directory cannot be created or written."""


class JournalFailed(JournalError):
    """An earlier write or sync failed; the log accepts nothing more."""


def check(rc: int, message: str = "") -> int:
    """Returns rc if >= 0, else raises the exception its code stands for, with the C message."""
    if rc >= 0:
        return rc
    text = message or f"journal error {rc}"
    if rc == lib.JRNL_INVALID:
        raise JournalInvalid(text)
    if rc in (lib.JRNL_CORRUPT, lib.JRNL_SEQ_GAP, lib.JRNL_BAD_SEGMENT, lib.JRNL_BAD_MAGIC):
        raise JournalCorrupt(text)
    if rc == lib.JRNL_BAD_VERSION:
        raise JournalVersionMismatch(text)
    if rc == lib.JRNL_BAD_CONFIG:
        raise JournalConfigMismatch(text)
    if rc == lib.JRNL_MISMATCH:
        raise JournalReplayMismatch(text)
    if rc == lib.JRNL_FAILED:
        raise JournalFailed(text)
    if rc in (-_errno.ENOSPC, -_errno.EFBIG, -_errno.EDQUOT):
        raise JournalDiskFull(-rc, text)
    if rc in (-_errno.EACCES, -_errno.EROFS, -_errno.EPERM):
        raise JournalNotWritable(-rc, text)
    raise OSError(-rc, text)


def _text(buf: Any) -> str:
    raw: bytes = ffi.string(buf)
    return raw.decode(errors="replace")


def open_log(directory: str, kind: int, limits: tuple[int, int, int, int],
             segment_bytes: int = DEFAULT_SEGMENT_BYTES, max_seq: int = MAX_SEQ,
             readonly: bool = False, regenerable: bool = False) -> Any:
    """Opens (validates, repairs a torn tail of, positions at the end) one journal; returns the
    jrnl_log_t cdata (close it with lib.jrnl_log_close). Raises a JournalError."""
    log = ffi.new("jrnl_log_t *")
    lim = ffi.new("uint32_t[4]", list(limits))
    rc = lib.jrnl_log_open(log, directory.encode(), kind, segment_bytes, lim, max_seq,
                           (lib.JRNL_OPEN_READONLY if readonly else 0) |
                           (lib.JRNL_OPEN_REGENERABLE if regenerable else 0))
    check(rc, _text(log.message))
    return log


def log_note(log: Any) -> str:
    """What open repaired (torn tail truncated, events cut), or ''."""
    return _text(log.message)


def log_message(log: Any) -> str:
    return _text(log.message)


def journal_limits(directory: str) -> tuple[int, int, int, int]:
    """The engine capacities recorded in the command journal's first segment header."""
    first = ffi.new("uint64_t *")
    rc = lib.jrnl_first_segment(directory.encode(), KIND_CMD, first)
    if rc == -_errno.ENOENT:
        raise JournalCorrupt(f"{directory}: no command journal segment")
    check(rc, directory)
    path = os.path.join(directory, f"cmd-{first[0]:016d}.jrnl")   # retention may remove 0..
    with open(path, "rb") as f:
        raw = f.read(lib.JRNL_SEG_HDR_BYTES)
    if len(raw) < lib.JRNL_SEG_HDR_BYTES:
        raise JournalCorrupt(f"{path}: shorter than a segment header")
    hdr = ffi.cast("jrnl_seg_hdr_t *", ffi.from_buffer(raw))
    if hdr.magic != lib.JRNL_SEG_MAGIC:
        raise JournalCorrupt(f"{path}: not a venue journal segment")
    if hdr.layout_version != lib.JRNL_LAYOUT_VERSION:
        raise JournalVersionMismatch(f"{path}: journal layout version {hdr.layout_version}, this "
                                     f"build reads version {lib.JRNL_LAYOUT_VERSION}")
    return (hdr.max_orders, hdr.max_levels, hdr.max_instruments, hdr.max_accounts)


@dataclass(frozen=True)
class ReplayResult:
    from_seq: int
    last_seq: int
    last_ts_ns: int
    commands: int
    events: int
    events_checked: int
    events_written: int
    state_hash: int
    events_crc: int
    elapsed_ns: int
    check_chunks: int = 0
    check_chunks_inline: int = 0

    @property
    def commands_per_s(self) -> float:
        return self.commands / (self.elapsed_ns / 1e9) if self.elapsed_ns else 0.0


def _result(res: Any) -> ReplayResult:
    return ReplayResult(res.from_seq, res.last_seq, res.last_ts_ns, res.commands, res.events,
                        res.events_checked, res.events_written, res.state_hash, res.events_crc,
                        res.elapsed_ns, res.check_chunks, res.check_chunks_inline)


def replay(engine: Any, directory: str, from_seq: int = 0, until_seq: int = MAX_SEQ,
           evt_log: Any = None) -> ReplayResult:
    """Replays the command journal into engine (an eng_engine_t *) in one C call; with evt_log
    (an open event journal) the events are checked against it and its missing tail appended."""
    res = ffi.new("jrnl_replay_result_t *")
    rc = lib.jrnl_replay(engine, directory.encode(), from_seq, until_seq,
                         evt_log if evt_log is not None else ffi.NULL, res)
    check(rc, _text(res.message))
    return _result(res)


LOSS_FILE = "LOST-COMMANDS.txt"     # in the journal directory; see record_loss()


@dataclass(frozen=True)
class SegmentHeader:
    index: int
    path: str
    segment_bytes: int
    released_seq: int


def segment_headers(directory: str, kind: int) -> list[SegmentHeader]:
    """The headers of one journal's segment files, by index (files without a valid header are
    left out: opening the journal reports them)."""
    prefix = "cmd-" if kind == KIND_CMD else "evt-"
    out = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".jrnl") and name[4:-5].isdigit()):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                raw = f.read(lib.JRNL_SEG_HDR_BYTES)
        except OSError:
            continue
        if len(raw) < lib.JRNL_SEG_HDR_BYTES:
            continue
        hdr = ffi.cast("jrnl_seg_hdr_t *", ffi.from_buffer(raw))
        if hdr.magic != lib.JRNL_SEG_MAGIC or hdr.kind != kind:
            continue
        out.append(SegmentHeader(int(name[4:-5]), path, int(hdr.segment_bytes),
                                 int(hdr.released_seq)))
    return sorted(out, key=lambda h: h.index)


def released_high_water(directory: str) -> tuple[int, SegmentHeader | None]:
    """The highest seq any command segment's header says was released (acknowledged: the
    writer releases a command only once it is as durable as its mode promises) and the segment
    that says so; (0, None) for none. A journal whose records end below it lost acknowledged
    commands: a header is stored after the records it covers, and the header of a full
    segment is updated once more after the roll, so a lost later segment still leaves its trace
    in the one before it."""
    best: tuple[int, SegmentHeader | None] = (0, None)
    for h in segment_headers(directory, KIND_CMD):
        if h.released_seq > best[0]:
            best = (h.released_seq, h)
    return best


def end_position(directory: str, kind: int, records: int) -> tuple[int, int]:
    """(segment index, byte offset) of the slot after the first `records` records of a journal
    (records fill the segments in order from slot 0 of the first one present)."""
    heads = segment_headers(directory, kind)
    if not heads:
        return 0, lib.JRNL_SEG_HDR_BYTES
    rps = (heads[0].segment_bytes - lib.JRNL_SEG_HDR_BYTES) // RECORD_BYTES
    seg, slot = divmod(records, rps)
    return heads[0].index + seg, lib.JRNL_SEG_HDR_BYTES + slot * RECORD_BYTES


def record_loss(directory: str, text: str) -> None:
    """Appends one line about acknowledged commands that recovery could not find to the journal
    directory's LOSS_FILE, durably, before recovery goes on (and overwrites the headers that
    showed the loss). ``journal verify`` fails while the file exists; an operator removes it
    once the loss is dealt with."""
    path = os.path.join(directory, LOSS_FILE)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, f"{stamp} {text}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def recorded_losses(directory: str) -> list[str]:
    """The lines of the journal directory's LOSS_FILE (none: [])."""
    try:
        with open(os.path.join(directory, LOSS_FILE), encoding="utf-8", errors="replace") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except FileNotFoundError:
        return []


def lost_commands(directory: str, last_seq: int, truncated: int, records: int,
                  high_water: tuple[int, SegmentHeader | None] | None = None) -> str | None:
    """What recovery (or verify) must say when acknowledged commands are missing: the seq
    range, the segment header that shows they were acknowledged, and where the records end;
    None when the journal holds everything that was acknowledged. high_water: as
    released_high_water() returned it before an open repaired the journal (default: now)."""
    high, where = high_water if high_water is not None else released_high_water(directory)
    if where is None or high <= last_seq:
        return None
    seg, offset = end_position(directory, KIND_CMD, records)
    heads = segment_headers(directory, KIND_CMD)
    why = (f"{truncated} damaged record(s) were cut at segment {seg} offset {offset}"
           if truncated else
           f"segment {seg} (where seq {last_seq + 1} would be) is missing" if heads and
           seg > heads[-1].index else f"the records end at segment {seg} offset {offset}")
    return (f"ACKNOWLEDGED COMMANDS LOST: commands from seq {last_seq + 1} on (through seq "
            f"{high} at least) were acknowledged (segment {where.index}'s header, {where.path}, "
            f"says seq {high} was released) but the command journal ends at seq {last_seq}: "
            f"{why}")


@dataclass
class Recovery:
    engine: Any
    cmd_log: Any
    evt_log: Any
    result: ReplayResult
    snapshot_seq: int
    notes: list[str]

    def close(self) -> None:
        lib.jrnl_log_close(self.cmd_log)
        lib.jrnl_log_close(self.evt_log)


_SNAP_REASONS = {lib.ENG_SNAP_BAD_MAGIC: "not a snapshot file",
                 lib.ENG_SNAP_BAD_VERSION: "written by a build with another engine layout",
                 lib.ENG_SNAP_BAD_CONFIG: "taken from an engine with other capacities",
                 lib.ENG_SNAP_CORRUPT: "checksum or state hash does not match",
                 lib.ENG_SNAP_NOT_FRESH: "target engine not fresh"}


def snapshots(directory: str) -> list[tuple[int, str]]:
    """(seq, path) of the snapshot files in a journal directory, newest first."""
    out = []
    for name in os.listdir(directory):
        if name.startswith("snap-") and name.endswith(".snap") and name[5:-5].isdigit():
            out.append((int(name[5:-5]), os.path.join(directory, name)))
    return sorted(out, reverse=True)


def load_newest_snapshot(directory: str, make_engine: Any, destroy_engine: Any,
                         max_seq: int) -> tuple[Any, int, list[str]]:
    """Loads the newest usable snapshot with seq <= max_seq into a fresh engine from
    make_engine(). Returns (engine, its seq or 0 for a fresh engine, notes on skipped files)."""
    notes: list[str] = []
    for seq, path in snapshots(directory):
        if seq > max_seq:
            notes.append(f"snapshot {path} is ahead of the command journal (seq {max_seq}); "
                         "ignored")
            continue
        engine = make_engine()
        hdr = ffi.new("eng_snap_hdr_t *")
        rc = lib.jrnl_snapshot_load(engine, path.encode(), hdr)
        if rc == 0:
            return engine, seq, notes
        destroy_engine(engine)
        why = _SNAP_REASONS.get(rc) or os.strerror(-rc)
        notes.append(f"snapshot {path} unusable ({why}); trying an older one")
    return make_engine(), 0, notes


def recover(make_engine: Any, destroy_engine: Any, directory: str,
            limits: tuple[int, int, int, int],
            segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> Recovery:
    """Start-up recovery for the engine process: opens the command journal (every record
    checked, a torn tail truncated), loads the newest valid snapshot into a fresh engine
    (make_engine()), then in one C pass (jrnl_recover) opens the event journal (every record
    checked, cut at the command journal's end) while replaying every later command into the
    engine and comparing its events with the event journal byte for byte, completing it."""
    # The fresh engine (tens of ms for big capacities: its tables are allocated and cleared)
    # is made on another thread while the command journal is checked; the C calls release
    # the GIL.
    pool = ThreadPoolExecutor(1)
    fresh = pool.submit(make_engine)
    pool.shutdown(wait=False)
    made: list[Any] = []

    def make_or_take() -> Any:
        if not made:
            made.append(fresh.result())
            return made[0]
        return make_engine()

    # What the headers say was acknowledged, read before the open repairs anything and before
    # recovery's release overwrites the last segment's header with what survived.
    high_water = released_high_water(directory)
    try:
        cmd_log = open_log(directory, KIND_CMD, limits, segment_bytes)
        lost = lost_commands(directory, cmd_log.last_seq, cmd_log.truncated_records,
                             cmd_log.records, high_water)
        if lost is not None:
            record_loss(directory, lost)
    except BaseException:
        destroy_engine(fresh.result())
        raise
    evt_log = ffi.new("jrnl_log_t *")
    engine = None
    try:
        engine, snap_seq, snap_notes = load_newest_snapshot(directory, make_or_take,
                                                            destroy_engine, cmd_log.last_seq)
        # The event journal is regenerable: group commit syncs events behind their commands,
        # so a machine crash can leave a hole in its tail, which the replay writes again.
        res = ffi.new("jrnl_replay_result_t *")
        rc = lib.jrnl_recover(engine, cmd_log, snap_seq, evt_log, segment_bytes, res)
        check(rc, _text(res.message))
        result = _result(res)
    except BaseException:
        if engine is not None:
            destroy_engine(engine)
        elif not made:
            destroy_engine(fresh.result())
        lib.jrnl_log_close(cmd_log)
        lib.jrnl_log_close(evt_log)
        raise
    notes = [n for n in (log_note(cmd_log), log_note(evt_log)) if n] + snap_notes
    if lost is not None:
        notes.insert(0, f"{lost}. Recovery keeps seq {cmd_log.first_seq}..{cmd_log.last_seq} "
                        f"and goes on; recorded in {os.path.join(directory, LOSS_FILE)} "
                        "(`journal verify` fails until it is removed)")
    # What survived recovery (including events the replay re-wrote) is durable and released
    # before the first new command: tailing readers (drop copy) may read all of it.
    for log in (cmd_log, evt_log):
        rc = lib.jrnl_log_sync(log)
        if rc != 0:
            lib.jrnl_log_close(cmd_log)
            lib.jrnl_log_close(evt_log)
            check(rc, log_message(log))
        lib.jrnl_log_release(log, log.last_seq)
    return Recovery(engine, cmd_log, evt_log, result, snap_seq, notes)


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    """A copy of `a` with room for `size` rows (np.concatenate would repack a padded dtype)."""
    out = np.empty((size,) + a.shape[1:], dtype=a.dtype)
    out[:len(a)] = a
    return out


def read_records(directory: str, kind: int, limit_seq: int = MAX_SEQ,
                 batch: int = 1 << 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every record of one journal (checksums checked): (seq uint64[n], index uint32[n],
    payload uint8[n, 96]). Batches of `batch` records per C call, written straight into arrays
    sized by the segments' capacity (pages never written are never touched), so a large journal
    is copied once, not once per batch and again to join the batches."""
    cur = ffi.new("jrnl_cursor_t *")
    check(lib.jrnl_cursor_open(cur, directory.encode(), kind))
    hdr_dtype = np.dtype({"names": ["seq", "index"], "formats": ["<u8", "<u4"],
                          "offsets": [ffi.offsetof("jrnl_rec_hdr_t", "seq"),
                                      ffi.offsetof("jrnl_rec_hdr_t", "index")],
                          "itemsize": ffi.sizeof("jrnl_rec_hdr_t")})
    cap = sum((h.segment_bytes - lib.JRNL_SEG_HDR_BYTES) // RECORD_BYTES
              for h in segment_headers(directory, kind))
    hdrs = np.empty(max(cap, batch), dtype=hdr_dtype)
    pay = np.empty((len(hdrs), 96), dtype=np.uint8)
    n = 0
    try:
        while True:
            if n == len(hdrs):      # more records than the headers promised: grow (same dtype)
                hdrs, pay = _grown(hdrs, 2 * n), _grown(pay, 2 * n)
            want = min(batch, len(hdrs) - n)
            got = lib.jrnl_cursor_read(cur, limit_seq, ffi.cast("jrnl_rec_hdr_t *", ffi.from_buffer(hdrs[n:])),
                                       ffi.cast("uint8_t *", ffi.from_buffer(pay[n:])), want)
            check(got, _text(cur.message))
            n += got
            if got < want:
                break
    finally:
        lib.jrnl_cursor_close(cur)
    return hdrs["seq"][:n].copy(), hdrs["index"][:n].copy(), pay[:n]


def create_engine(limits: tuple[int, int, int, int]) -> Any:
    """A fresh eng_engine_t * with these capacities (free it with lib.eng_destroy)."""
    cfg = ffi.new("eng_config_t *", {"max_orders": limits[0], "max_levels": limits[1],
                                     "max_instruments": limits[2], "max_accounts": limits[3]})
    out = ffi.new("eng_engine_t **")
    rc = lib.eng_create(cfg, out)
    if rc < 0:
        raise MemoryError(f"cannot create an engine with capacities {limits}: "
                          f"{os.strerror(-rc)}")
    return out[0]


class ReplayEngine:
    """A fresh engine built with the journal's capacities, owning its C handle."""

    def __init__(self, limits: tuple[int, int, int, int]) -> None:
        self.handle: Any = create_engine(limits)

    def order(self, order_id: int) -> dict[str, int] | None:
        info = ffi.new("eng_order_info_t *")
        if lib.eng_order_info(self.handle, order_id, info) != 0:
            return None
        return {"order_id": info.order_id, "leaves_qty": info.leaves_qty,
                "account_id": info.account_id, "side": info.side, "price": info.price}

    def state_hash(self) -> int:
        return int(lib.eng_state_hash(self.handle))

    def close(self) -> None:
        if self.handle is not None:
            lib.eng_destroy(self.handle)
            self.handle = None

    def __enter__(self) -> "ReplayEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verify(directory: str) -> tuple[ReplayResult, ReplayEngine]:
    """Replays a journal from scratch into a fresh engine without writing anything (read-only
    validation first). The caller closes the returned engine."""
    limits = journal_limits(directory)
    probe = open_log(directory, KIND_CMD, limits, readonly=True)
    last = probe.last_seq
    if probe.first_seq > 1:
        raise JournalCorrupt(f"{directory}: the command journal starts at seq {probe.first_seq} "
                             "(older segments were removed or archived by retention, "
                             "--journal-keep-snapshots); a replay from scratch needs them back")
    eng = ReplayEngine(limits)
    try:
        return replay(eng.handle, directory, 0, last), eng
    except BaseException:
        eng.close()
        raise


def problems(directory: str) -> list[str]:
    """Everything `journal verify` must fail on besides a failed replay, each naming the segment
    and offset: acknowledged commands missing (segment headers ahead of the records, or a loss an
    earlier recovery recorded), damaged or torn records anywhere in either journal (a start would
    cut them; it has not yet). [] when the journal is whole."""
    out = [f"{os.path.join(directory, LOSS_FILE)}: an earlier recovery recorded: {line}"
           for line in recorded_losses(directory)]
    limits = journal_limits(directory)
    cmd = open_log(directory, KIND_CMD, limits, readonly=True)
    try:
        lost = lost_commands(directory, cmd.last_seq, cmd.truncated_records, cmd.records)
        if lost is not None:
            out.append(lost)
        if cmd.truncated_records:
            seg, offset = end_position(directory, KIND_CMD, cmd.records)
            out.append(f"command journal: {cmd.truncated_records} damaged record slot(s) from "
                       f"segment {seg} offset {offset} on (after seq {cmd.last_seq}): the next "
                       "start cuts them")
        try:
            evt = open_log(directory, KIND_EVT, limits, max_seq=cmd.last_seq, readonly=True,
                           regenerable=True)
        except JournalError as exc:
            out.append(f"event journal: {exc}")
            return out
        try:
            if evt.truncated_records:
                seg, offset = end_position(directory, KIND_EVT, evt.records)
                out.append(f"event journal: {evt.truncated_records} damaged or surplus record "
                           f"slot(s) from segment {seg} offset {offset} on (after the events of "
                           f"seq {evt.last_seq}): the next start cuts them there and rewrites "
                           "the events from the command journal")
        finally:
            lib.jrnl_log_close(evt)
    finally:
        lib.jrnl_log_close(cmd)
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m gateway journal",
                                description="Check a journal by replaying it from scratch.")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="replay into a fresh engine; print counts and state hash")
    v.add_argument("--dir", required=True, help="journal directory")
    args = p.parse_args(argv)
    if not os.path.isdir(args.dir):
        print(f"journal: --dir {args.dir!r} is not a directory", file=sys.stderr)
        return 2
    try:
        found = problems(args.dir)
        res, eng = verify(args.dir)
    except (JournalError, OSError) as exc:
        print(f"journal: FAILED: {exc}", file=sys.stderr)
        return 1
    eng.close()
    for problem in found:
        print(f"journal: FAILED: {problem}", file=sys.stderr)
    print(f"journal {args.dir}: replayed {res.commands} commands (seq {res.from_seq + 1}.."
          f"{res.last_seq}) in {res.elapsed_ns / 1e6:.1f} ms ({res.commands_per_s / 1e6:.2f} M/s), "
          f"{res.events} events, events crc32c {res.events_crc:#010x}, "
          f"state hash {res.state_hash:#018x}"
          f"{'' if not found else f'; {len(found)} problem(s) above: NOT whole'}")
    return 1 if found else 0
