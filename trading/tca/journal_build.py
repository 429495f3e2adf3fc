"""Writes a venue journal from a list of commands through the real engine, without an engine
process: the commands (with the seq and ts_ns the test or benchmark chooses) are appended to a
command journal, then ``jrnl_replay`` runs them through a fresh C engine and writes every event it
produces to the event journal. The result is byte for byte what an engine process given the same
sequenced input would have journaled (the engine is a pure function of its input), with
timestamps under the caller's control, so tests can work expected numbers out by hand.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from gateway.enginehost import journal
from native import records
from native.messages import Command
from native._venue import ffi, lib
from trading.tca import codes

DEFAULT_LIMITS = (1 << 16, 4096, 16, 1024)


def write_journal(directory: str, commands: Iterable[Command] | np.ndarray,
                  limits: tuple[int, int, int, int] = DEFAULT_LIMITS,
                  segment_bytes: int = 1 << 24, producer_slot: int = 1) -> journal.ReplayResult:
    """Journals `commands` (native.messages Structs with seq and ts_ns set, or an array of 96-byte records) in
    `directory` (fresh), then replays them into the event journal. producer_slot is recorded as
    each command's source (slot + 1 in the record index, as the runner does). Returns the replay
    result (commands, events, state hash). Raises journal.JournalError on a journal failure."""
    recs = commands if isinstance(commands, np.ndarray) else records.encode_commands(list(commands))
    raw = np.ascontiguousarray(recs).view(np.uint8).reshape(-1, records.RECORD_SIZE)
    hdr = raw.view(records.RECORD_DTYPE).reshape(-1).view(records.dtype_of("eng_cmd_hdr_t"))
    log = journal.open_log(directory, journal.KIND_CMD, limits, segment_bytes)
    try:
        base = ffi.cast("uint8_t *", ffi.from_buffer(raw))
        seqs, tss = hdr["seq"].tolist(), hdr["ts_ns"].tolist()
        for i in range(len(seqs)):
            journal.check(lib.jrnl_log_append(log, seqs[i], tss[i], producer_slot,
                                              base + i * records.RECORD_SIZE), journal.log_message(log))
        journal.check(lib.jrnl_log_sync(log), journal.log_message(log))
        lib.jrnl_log_release(log, log.last_seq)
    finally:
        lib.jrnl_log_close(log)
    evt = journal.open_log(directory, journal.KIND_EVT, limits, segment_bytes, regenerable=True)
    engine = journal.ReplayEngine(limits)
    try:
        result = journal.replay(engine.handle, directory, 0, journal.MAX_SEQ, evt)
        journal.check(lib.jrnl_log_sync(evt), journal.log_message(evt))
        lib.jrnl_log_release(evt, evt.last_seq)
    finally:
        engine.close()
        lib.jrnl_log_close(evt)
    return result


def _side(name: str) -> int:
    sides = {"BUY": codes.SIDE_BUY, "SELL": codes.SIDE_SELL}
    if name not in sides:
        raise ValueError(f"side must be BUY or SELL, got {name!r}")
    return sides[name]


def _tif(name: str) -> int:
    by_name = {v: k for k, v in codes.TIF_NAMES.items()}
    if name not in by_name:
        raise ValueError(f"tif must be one of {sorted(by_name)}, got {name!r}")
    return by_name[name]


class CommandScript:
    """Builds a command list with consecutive seqs and explicit times (ns), for tests and benches:
    ``s.at(t).new(...)``. Prices and quantities are engine integers."""

    def __init__(self, start_ts_ns: int) -> None:
        self.t = start_ts_ns
        self.commands: list[Command] = []

    def at(self, ts_ns: int) -> "CommandScript":
        if ts_ns < self.t:
            raise ValueError(f"time goes back: {ts_ns} < {self.t}")
        self.t = ts_ns
        return self

    def add(self, kind: str, **fields: Any) -> "CommandScript":
        self.commands.append(records.command_from_dict({"type": kind, "seq": len(self.commands) + 1,
                                                        "ts_ns": self.t, **fields}))
        return self

    def instrument(self, iid: int, tick: int = 100, lot: int = 1, reference: int = 1_000_000,
                   collar_ticks: int = 1000) -> "CommandScript":
        self.add("ADD_INSTRUMENT", instrument_id=iid, tick_size=tick, lot_size=lot,
                 reference_price=reference, market_collar_ticks=collar_ticks)
        self.add("SET_PHASE", instrument_id=iid, phase=codes.PHASE_PRE_OPEN)
        return self.add("SET_PHASE", instrument_id=iid, phase=codes.PHASE_CONTINUOUS)

    def limit(self, iid: int, oid: int, side: str, price: int, qty: int, account: int,
              tif: str = "DAY", cl_oid: int = 0) -> "CommandScript":
        return self.add("NEW_ORDER", instrument_id=iid, order_id=oid, client_order_id=cl_oid or oid,
                        price=price, qty=qty, side=_side(side), account_id=account,
                        ord_type=codes.ORD_LIMIT, tif=_tif(tif))

    def market(self, iid: int, oid: int, side: str, qty: int, account: int,
               cl_oid: int = 0) -> "CommandScript":
        return self.add("NEW_ORDER", instrument_id=iid, order_id=oid, client_order_id=cl_oid or oid,
                        qty=qty, side=_side(side), account_id=account,
                        ord_type=codes.ORD_MARKET, tif=codes.TIF_IOC)

    def cancel(self, iid: int, oid: int) -> "CommandScript":
        return self.add("CANCEL", instrument_id=iid, order_id=oid)

    def replace(self, iid: int, oid: int, price: int, qty: int) -> "CommandScript":
        return self.add("REPLACE", instrument_id=iid, order_id=oid, price=price, qty=qty)

    def end_of_day(self) -> "CommandScript":
        return self.add("END_OF_DAY", all_instruments=1)
