"""A venue journal read into numpy tables: every order's life, every fill (one row per side of a
trade), rejections, the commands with the producer that sent them, and the BBO over time.

Source: the command and event journals of one directory (native/journal/, read through
``gateway.enginehost.journal.read_records``, every record's CRC32C and the sequence checked by the
C cursor). Record shapes come from native/records.py, so no layout is written twice.

An order is one life of an order id: from its ACCEPTED event to the event that ends it (a fill
leaving 0, CANCELLED or EXPIRED with leaves 0). Ids may be reused once an order is gone, so the
events of an order are found by (order_id, the latest ACCEPTED with seq <= the event's seq).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from trading.tca import npx

from gateway.enginehost import journal
from native import records
from native._venue import ffi, lib
from trading.execution.parent_ids import PARENT_ID_SHIFT
from trading.tca import codes
from trading.tca.columns import Columns
from trading.tca import quotes as quotes_mod
from trading.tca.clock import ClockMapping, clock_mapping
from trading.tca.errors import CorruptJournal, NoData, TcaInputError

LIQ_AUCTION, LIQ_MAKER, LIQ_TAKER = 0, 1, 2
END_LIVE, END_FILLED = 0, 1          # else the CANCELLED / EXPIRED reason code

ORDER_DTYPE = np.dtype([
    ("order_id", "<u8"), ("client_order_id", "<u8"), ("parent_id", "<u8"), ("instrument", "<u4"),
    ("account", "<u4"), ("side", "i1"), ("ord_type", "u1"), ("tif", "u1"), ("flags", "u1"),
    ("qty", "<i8"), ("price", "<i8"), ("stop_price", "<i8"), ("accept_seq", "<u8"),
    ("accept_ts", "<i8"), ("trigger_ts", "<i8"), ("bid0", "<i8"), ("ask0", "<i8"),
    ("filled_qty", "<i8"), ("filled_notional", "<i8"), ("n_fills", "<i4"),
    ("first_fill_ts", "<i8"), ("last_fill_ts", "<i8"), ("end_ts", "<i8"), ("end_reason", "<u2"),
    ("cancelled_qty", "<i8"), ("replaces", "<i4"), ("marketable", "?"),
    # the most shares the order asked for: its accepted qty, or more after a replace that raised it
    ("ordered_qty", "<i8")], align=True)

FILL_DTYPE = np.dtype([
    ("trade_id", "<u8"), ("seq", "<u8"), ("ts", "<i8"), ("instrument", "<u4"), ("order_row", "<i8"),
    ("account", "<u4"), ("counter_account", "<u4"), ("side", "i1"), ("liquidity", "u1"),
    ("price", "<i8"), ("qty", "<i8"), ("leaves", "<i8")], align=True)

REJECT_DTYPE = np.dtype([("seq", "<u8"), ("ts", "<i8"), ("instrument", "<u4"), ("account", "<u4"),
                         ("order_id", "<u8"), ("client_order_id", "<u8"), ("cmd_type", "<u2"),
                         ("reason", "<u2")], align=True)

COMMAND_DTYPE = np.dtype([("seq", "<u8"), ("ts", "<i8"), ("type", "<u2"), ("producer", "<i4"),
                          ("instrument", "<u4"), ("order_id", "<u8"), ("account", "<i8")], align=True)

# order-lifecycle events (for the audit trail): the event row, decoded fields
LIFE_DTYPE = np.dtype([("seq", "<u8"), ("index", "<u4"), ("ts", "<i8"), ("type", "<u2"),
                       ("reason", "<u2"), ("instrument", "<u4"), ("order_row", "<i8"),
                       ("order_id", "<u8"), ("account", "<u4"), ("price", "<i8"), ("qty", "<i8"),
                       ("leaves", "<i8"), ("trade_id", "<u8")], align=True)


@dataclass(frozen=True)
class Tape:
    """Everything a cost analysis needs from one journal directory (see the module docstring)."""
    directory: str
    orders: Columns                    # ORDER_DTYPE rows held by column (columns.py), in acceptance order
    fills: Columns                     # FILL_DTYPE rows held by column, in journal order, two per trade
    rejects: np.ndarray                # REJECT_DTYPE
    commands: np.ndarray               # COMMAND_DTYPE (order-entry commands only)
    lifecycle_source: Callable[[], np.ndarray]   # builds the LIFE_DTYPE table (audit trail only)
    quotes: dict[int, quotes_mod.QuoteSeries]
    clock: ClockMapping
    instruments: tuple[int, ...]
    first_ts: int
    last_ts: int
    trades: int                        # TRADE events in the journal (fills = 2 x trades)
    meta: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def lifecycle(self) -> np.ndarray:
        """Every order event (LIFE_DTYPE) in journal order, built on first use."""
        if "life" not in self._cache:
            self._cache["life"] = self.lifecycle_source()
        return self._cache["life"]

    def window(self, start_utc_ns: int, end_utc_ns: int) -> "Tape":
        """Fills executed, commands and rejects stamped in [start, end) (UTC ns), and the orders
        accepted in it or filled in it (a GTC order from an earlier day that trades today is
        today's business). Quotes stay whole: markouts near the end of the window look past it."""
        lo, hi = start_utc_ns - self.clock.offset_ns, end_utc_ns - self.clock.offset_ns
        fm = (self.fills["ts"] >= lo) & (self.fills["ts"] < hi)
        om = (self.orders["accept_ts"] >= lo) & (self.orders["accept_ts"] < hi)
        filled_rows = self.fills["order_row"][fm]
        om[filled_rows[filled_rows >= 0]] = True
        keep_rows = np.flatnonzero(om)
        remap = np.full(len(self.orders), -1, np.int64)
        remap[keep_rows] = np.arange(len(keep_rows))
        fills = self.fills[fm].copy()
        fills["order_row"] = np.where(fills["order_row"] >= 0, remap[fills["order_row"]], -1)
        def life() -> np.ndarray:
            lf: np.ndarray = self.lifecycle[(self.lifecycle["ts"] >= lo) & (self.lifecycle["ts"] < hi)].copy()
            lf["order_row"] = np.where(lf["order_row"] >= 0, remap[lf["order_row"]], -1)
            return lf
        rj = self.rejects[(self.rejects["ts"] >= lo) & (self.rejects["ts"] < hi)]
        cm = self.commands[(self.commands["ts"] >= lo) & (self.commands["ts"] < hi)]
        return replace(self, orders=self.orders[keep_rows], fills=fills, rejects=rj, commands=cm,
                       lifecycle_source=life, _cache={}, first_ts=max(self.first_ts, lo), last_ts=min(self.last_ts, hi - 1),
                       trades=int(fm.sum() // 2), meta={**self.meta, "window_utc_ns": (start_utc_ns, end_utc_ns)})

    def instrument_only(self, iid: int) -> "Tape":
        """The same tape restricted to one instrument."""
        om = self.orders["instrument"] == iid
        keep = np.flatnonzero(om)
        remap = np.full(len(self.orders), -1, np.int64)
        remap[keep] = np.arange(len(keep))
        fills = self.fills[self.fills["instrument"] == iid].copy()
        fills["order_row"] = np.where(fills["order_row"] >= 0, remap[fills["order_row"]], -1)
        def life() -> np.ndarray:
            lf: np.ndarray = self.lifecycle[self.lifecycle["instrument"] == iid].copy()
            lf["order_row"] = np.where(lf["order_row"] >= 0, remap[lf["order_row"]], -1)
            return lf
        return replace(self, orders=self.orders[keep], fills=fills, lifecycle_source=life, _cache={},
                       rejects=self.rejects[self.rejects["instrument"] == iid],
                       commands=self.commands[self.commands["instrument"] == iid],
                       trades=len(fills) // 2, instruments=(iid,))


class _OrderIndex:
    """(order_id, seq) -> row of the order life that event belongs to: the ACCEPTED with the same
    id and the largest accept seq <= seq. Vectorised with one combined int64 key per life."""

    def __init__(self, oids: np.ndarray, seqs: np.ndarray) -> None:
        self.uniq = npx.unique(oids)
        dense = np.searchsorted(self.uniq, oids)
        self.span = int(seqs.max()) + 2 if len(seqs) else 2
        if len(self.uniq) and len(self.uniq) * self.span >= 2**62:
            raise TcaInputError("journal too large for the order index (ids x seqs >= 2^62)")
        keys = dense.astype(np.int64) * self.span + seqs.astype(np.int64)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]
        self.dense = dense[self.order]

    def rows(self, oids: np.ndarray, seqs: np.ndarray) -> np.ndarray:
        if len(self.uniq) == 0 or len(oids) == 0:
            return np.full(len(oids), -1, np.int64)
        d = np.searchsorted(self.uniq, oids)
        d_ok = d < len(self.uniq)
        d = np.minimum(d, len(self.uniq) - 1)
        d_ok &= self.uniq[d] == oids
        # a seq past every accept asks for the order's last life, as span - 1 does: unclamped it
        # would reach into the next order's keys and find nothing (events and cancels after the
        # day's last ACCEPTED lost their orders)
        q = d.astype(np.int64) * self.span + np.minimum(seqs.astype(np.int64), self.span - 1)
        pos = np.searchsorted(self.keys, q, side="right") - 1
        ok = d_ok & (pos >= 0)
        pos = np.maximum(pos, 0)
        ok &= self.dense[pos] == d
        return np.where(ok, self.order[pos], -1)


def _read(directory: str, kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every record of one journal as (seq, index, payload uint8[n, 96]). The journal is first
    opened read-only, which checks every record's CRC and the sequence, refuses an invalid record
    followed by valid ones (the cursor alone stops at the first invalid record, which would
    silently cut the day short) and counts the valid records; those records are then read
    straight from the segment files (_records), so each is checked once and copied once."""
    if not os.path.isdir(directory):
        raise TcaInputError(f"{directory}: no such journal directory")
    try:
        limits = journal.journal_limits(directory)
        log = journal.open_log(directory, kind, limits, readonly=True)
        count = int(log.records)
        lib.jrnl_log_close(log)
        raw = _records(directory, kind, count)
    except journal.JournalError as exc:
        raise CorruptJournal(f"{directory}: journal cannot be read, nothing analysed: {exc}") from exc
    except OSError as exc:
        raise TcaInputError(f"{directory}: {exc.strerror or exc}") from exc
    hdr = raw.view(_REC_HDR_DTYPE).reshape(-1)
    return hdr["seq"].copy(), hdr["index"].copy(), raw[:, _PAYLOAD_AT:]


# a journal slot (native/layout/venue_layout.h, Section 6): jrnl_rec_hdr_t, then the 96-byte
# payload; the offsets are the C struct's, through cffi
_PAYLOAD_AT = ffi.sizeof("jrnl_rec_hdr_t")
_REC_HDR_DTYPE = np.dtype({"names": ["seq", "index"], "formats": ["<u8", "<u4"],
                           "offsets": [ffi.offsetof("jrnl_rec_hdr_t", "seq"), ffi.offsetof("jrnl_rec_hdr_t", "index")],
                           "itemsize": lib.JRNL_RECORD_BYTES})


def _records(directory: str, kind: int, count: int) -> np.ndarray:
    """The first `count` records of a journal (uint8[count, 128]), read from its segment files in
    index order into one array. The writer rolls to a new segment only when one is full, so every
    segment but the last holds records in all its slots; records are never rewritten once valid,
    so a live journal's later appends do not disturb the ones counted at open."""
    out = np.empty((count, lib.JRNL_RECORD_BYTES), np.uint8)
    got = 0
    for seg in journal.segment_headers(directory, kind):
        if got == count:
            break
        take = min(count - got, (seg.segment_bytes - lib.JRNL_SEG_HDR_BYTES) // lib.JRNL_RECORD_BYTES)
        want = memoryview(out[got:got + take]).cast("B")
        with open(seg.path, "rb", buffering=0) as f:
            f.seek(lib.JRNL_SEG_HDR_BYTES)
            done = 0
            while done < len(want):
                n = f.readinto(want[done:])
                if not n:
                    raise CorruptJournal(f"{seg.path}: ends inside the records the journal holds")
                done += n
        got += take
    if got != count:
        raise CorruptJournal(f"{directory}: {count} records counted at open, {got} found in the segment files")
    return out


def _filled_before(fill_rows: np.ndarray, fill_seq: np.ndarray, fill_qty: np.ndarray,
                   rows: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Per query (rows[i], seqs[i]): the shares that order row filled in trades of a seq below seqs[i]
    (a replace's own trades follow its REPLACED event under the same seq). Seqs are ranked densely so
    that row x ranks + rank orders fills by (row, seq) in one int64 key; cumulative sums then answer
    every query with two binary searches."""
    ranks = np.unique(np.concatenate([fill_seq, seqs]))
    width = np.int64(len(ranks) + 1)
    key = fill_rows.astype(np.int64) * width + np.searchsorted(ranks, fill_seq).astype(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    cum = np.concatenate(([0], np.cumsum(fill_qty[order].astype(np.int64))))
    q_rows = rows.astype(np.int64)
    upto = np.searchsorted(key, q_rows * width + np.searchsorted(ranks, seqs).astype(np.int64), side="left")
    start = np.searchsorted(key, q_rows * width, side="left")
    out: np.ndarray = cum[upto] - cum[start]
    return out


def _view(payload: np.ndarray, mask: np.ndarray, code: int) -> np.ndarray:
    out: np.ndarray = payload[mask].view(records.RECORD_DTYPE).reshape(-1).view(records.EVT_DTYPES[code])
    return out


@npx.small_pages
def load_tape(directory: str) -> Tape:
    """Reads both journals of `directory` into a Tape. CorruptJournal if a segment fails its checks
    (nothing is analysed then), NoData if the journal holds no order at all."""
    c_seq, c_idx, c_pay = _read(directory, journal.KIND_CMD)
    e_seq, e_idx, e_pay = _read(directory, journal.KIND_EVT)
    if len(c_seq) == 0:
        raise NoData(f"{directory}: the command journal is empty")
    # every command gives at least one event (ACCEPTED / REJECTED / CANCELLED / CMD_ACK ...):
    # events must cover every command seq, else part of the event journal is missing
    first_cmd, last_cmd = int(c_seq[0]), int(c_seq[-1])
    covered = len(npx.unique(e_seq)) if len(e_seq) else 0
    if covered != last_cmd - first_cmd + 1 or (len(e_seq) and (int(e_seq[0]) != first_cmd or int(e_seq[-1]) != last_cmd)):
        last_evt = int(e_seq[-1]) if len(e_seq) else 0
        raise CorruptJournal(f"{directory}: journal cannot be read, nothing analysed: the event journal covers "
                             f"{covered} of the {last_cmd - first_cmd + 1} commands (last event seq {last_evt}, "
                             f"last command seq {last_cmd}); a segment is damaged or missing, or the engine "
                             "has not released them yet")
    ehdr = e_pay.view(records.RECORD_DTYPE).reshape(-1).view(records.dtype_of("eng_evt_hdr_t"))
    etype = ehdr["type"]
    chdr = c_pay.view(records.RECORD_DTYPE).reshape(-1).view(records.dtype_of("eng_cmd_hdr_t"))
    clock = clock_mapping(directory, int(chdr["ts_ns"][0]))

    acc = _view(e_pay, etype == codes.EVT_ACCEPTED, codes.EVT_ACCEPTED)
    n = len(acc)
    orders = Columns.zeros(ORDER_DTYPE, n)
    for f in ("order_id", "client_order_id", "qty", "price", "stop_price", "ord_type", "tif", "flags"):
        orders[f] = acc[f]
    orders["parent_id"] = acc["client_order_id"] >> np.uint64(PARENT_ID_SHIFT)
    orders["instrument"] = acc["instrument_id"]
    orders["account"] = acc["account_id"]
    orders["side"] = np.where(acc["side"] == codes.SIDE_BUY, 1, -1)
    orders["accept_seq"] = acc["seq"]
    orders["accept_ts"] = acc["ts_ns"]
    index = _OrderIndex(orders["order_id"], orders["accept_seq"])

    # BBO from BOOK_LEVEL, then the quote at receipt of each order
    bl = _view(e_pay, etype == codes.EVT_BOOK_LEVEL, codes.EVT_BOOK_LEVEL)
    qs = quotes_mod.rebuild(bl["instrument_id"], bl["seq"], bl["ts_ns"], bl["side"], bl["price"], bl["qty"])
    for iid, series in qs.items():
        m = orders["instrument"] == iid
        orders["bid0"][m], orders["ask0"][m] = series.bid_ask_before_seq(orders["accept_seq"][m])
    lim = orders["ord_type"] == codes.ORD_LIMIT
    buy = orders["side"] > 0
    mkt_ok = np.where(buy, (orders["ask0"] > 0) & (orders["price"] >= orders["ask0"]),
                      (orders["bid0"] > 0) & (orders["price"] <= orders["bid0"]))
    orders["marketable"] = (orders["ord_type"] == codes.ORD_MARKET) | (lim & mkt_ok)

    # fills: two rows per trade
    tr = _view(e_pay, etype == codes.EVT_TRADE, codes.EVT_TRADE)
    nt = len(tr)
    fills = Columns.zeros(FILL_DTYPE, 2 * nt)
    for half, (sd, oid_f, acct, cacct, leaves) in enumerate((
            (1, "buy_order_id", "buy_account_id", "sell_account_id", "buy_leaves_qty"),
            (-1, "sell_order_id", "sell_account_id", "buy_account_id", "sell_leaves_qty"))):
        fh = fills[half::2]
        fh["trade_id"] = tr["trade_id"]
        fh["seq"] = tr["seq"]
        fh["ts"] = tr["ts_ns"]
        fh["instrument"] = tr["instrument_id"]
        fh["account"] = tr[acct]
        fh["counter_account"] = tr[cacct]
        fh["side"] = sd
        fh["price"] = tr["price"]
        fh["qty"] = tr["qty"]
        fh["leaves"] = tr[leaves]
        fh["order_row"] = index.rows(tr[oid_f], tr["seq"])
        aggr = codes.SIDE_BUY if sd > 0 else codes.SIDE_SELL
        fh["liquidity"] = np.where(tr["aggressor_side"] == 0, LIQ_AUCTION,
                                  np.where(tr["aggressor_side"] == aggr, LIQ_TAKER, LIQ_MAKER))
    # a side with order id 0 is outside flow (an EXECUTE of replayed history: native/ENGINE.md,
    # "Outside order flow"): a fill row without an order, kept for trade-level totals
    outside = np.zeros(2 * nt, bool)
    outside[0::2] = tr["buy_order_id"] == 0
    outside[1::2] = tr["sell_order_id"] == 0
    missing = (fills["order_row"] < 0) & ~outside
    if missing.any():
        bad = fills[missing][0]
        raise CorruptJournal(f"{directory}: trade {int(bad['trade_id'])} names an order never accepted")
    own = ~outside
    rows, own_qty, own_ts = fills["order_row"][own], fills["qty"][own], fills["ts"][own]
    orders["filled_qty"] = np.bincount(rows, weights=own_qty, minlength=n).astype(np.int64)
    np.add.at(orders["filled_notional"], rows, fills["price"][own] * own_qty)
    orders["n_fills"] = np.bincount(rows, minlength=n)
    orders["first_fill_ts"] = np.iinfo(np.int64).max
    np.minimum.at(orders["first_fill_ts"], rows, own_ts)
    orders["first_fill_ts"][orders["n_fills"] == 0] = 0
    np.maximum.at(orders["last_fill_ts"], rows, own_ts)
    done = fills["leaves"][own] == 0
    orders["end_reason"][rows[done]] = END_FILLED
    orders["end_ts"][rows[done]] = own_ts[done]

    cx = _view(e_pay, etype == codes.EVT_CANCELLED, codes.EVT_CANCELLED)
    cx_rows = index.rows(cx["order_id"], cx["seq"])
    ex = _view(e_pay, etype == codes.EVT_EXPIRED, codes.EVT_EXPIRED)
    ex_rows = index.rows(ex["order_id"], ex["seq"])
    np.add.at(orders["cancelled_qty"], cx_rows[cx_rows >= 0], cx["cancelled_qty"][cx_rows >= 0])
    np.add.at(orders["cancelled_qty"], ex_rows[ex_rows >= 0], ex["expired_qty"][ex_rows >= 0])
    fin = (cx_rows >= 0) & (cx["leaves_qty"] == 0)
    orders["end_reason"][cx_rows[fin]] = cx["reason"][fin]
    orders["end_ts"][cx_rows[fin]] = cx["ts_ns"][fin]
    orders["end_reason"][ex_rows[ex_rows >= 0]] = ex["reason"][ex_rows >= 0]
    orders["end_ts"][ex_rows[ex_rows >= 0]] = ex["ts_ns"][ex_rows >= 0]

    rp = _view(e_pay, etype == codes.EVT_REPLACED, codes.EVT_REPLACED)
    rp_rows = index.rows(rp["order_id"], rp["seq"])
    np.add.at(orders["replaces"], rp_rows[rp_rows >= 0], 1)
    orders["ordered_qty"] = orders["qty"]
    known = rp_rows >= 0
    if known.any():
        # After a replace the order's size is what it had filled before it plus its leaves after it.
        before = _filled_before(rows, fills["seq"][own], own_qty, rp_rows[known], rp["seq"][known])
        np.maximum.at(orders["ordered_qty"], rp_rows[known], before + rp["leaves_qty"][known])
    tg = _view(e_pay, etype == codes.EVT_TRIGGERED, codes.EVT_TRIGGERED)
    tg_rows = index.rows(tg["order_id"], tg["seq"])
    orders["trigger_ts"][tg_rows[tg_rows >= 0]] = tg["ts_ns"][tg_rows >= 0]

    rej = _view(e_pay, etype == codes.EVT_REJECTED, codes.EVT_REJECTED)
    rejects = np.zeros(len(rej), REJECT_DTYPE)
    rejects["seq"], rejects["ts"], rejects["instrument"] = rej["seq"], rej["ts_ns"], rej["instrument_id"]
    rejects["account"], rejects["order_id"] = rej["account_id"], rej["order_id"]
    rejects["client_order_id"], rejects["cmd_type"], rejects["reason"] = (
        rej["client_order_id"], rej["cmd_type"], rej["reason"])

    commands = _commands(c_seq, c_idx, c_pay, index, orders)
    def lifecycle() -> np.ndarray:
        return _lifecycle(e_seq, e_idx, ehdr, e_pay, etype, index, orders)
    iids = tuple(sorted(set(npx.unique(orders["instrument"]).tolist()) | set(qs)))
    return Tape(directory, orders, fills, rejects, commands, lifecycle, qs, clock, iids,
                int(chdr["ts_ns"][0]), int(chdr["ts_ns"][-1]), nt,
                {"commands_total": len(c_seq), "events_total": len(e_seq)})


_ORDER_CMDS = (codes.CMD_NEW_ORDER, codes.CMD_CANCEL, codes.CMD_REPLACE,
               codes.CMD_MASS_CANCEL)


def _commands(c_seq: np.ndarray, c_idx: np.ndarray, c_pay: np.ndarray, index: _OrderIndex,
              orders: Columns) -> np.ndarray:
    recs = c_pay.view(records.RECORD_DTYPE).reshape(-1)
    hdr = recs.view(records.dtype_of("eng_cmd_hdr_t"))
    keep = np.flatnonzero(np.isin(hdr["type"], np.array([int(t) for t in _ORDER_CMDS], np.uint16)))
    out = np.zeros(len(keep), COMMAND_DTYPE)
    out["seq"], out["ts"], out["type"], out["instrument"] = (hdr[f][keep] for f in ("seq", "ts_ns", "type", "instrument_id"))
    out["producer"] = c_idx[keep].astype(np.int64) - 1
    out["account"] = -1
    # each field gathered from the records where it is needed (no copy of whole records)
    for code in (codes.CMD_NEW_ORDER, codes.CMD_CANCEL, codes.CMD_REPLACE):
        m = out["type"] == code
        v = recs.view(records.CMD_DTYPES[int(code)])
        rows = keep[m]
        out["order_id"][m] = v["order_id"][rows]
        if code == codes.CMD_NEW_ORDER:
            out["account"][m] = v["account_id"][rows]
        else:
            r = index.rows(v["order_id"][rows], v["seq"][rows])
            # int64 before -1 meets the uint32 column: else -1 becomes 4294967295, an account
            out["account"][m] = np.where(r >= 0, orders["account"][np.maximum(r, 0)].astype(np.int64), -1)
    m = out["type"] == codes.CMD_MASS_CANCEL
    v = recs.view(records.CMD_DTYPES[int(codes.CMD_MASS_CANCEL)])
    rows = keep[m]
    out["account"][m] = np.where(v["by_account"][rows] != 0, v["account_id"][rows].astype(np.int64), -1)
    return out


def _lifecycle(e_seq: np.ndarray, e_idx: np.ndarray, ehdr: np.ndarray, e_pay: np.ndarray,
               etype: np.ndarray, index: _OrderIndex, orders: Columns) -> np.ndarray:
    kinds = [codes.EVT_ACCEPTED, codes.EVT_REJECTED, codes.EVT_TRADE, codes.EVT_CANCELLED,
             codes.EVT_REPLACED, codes.EVT_EXPIRED, codes.EVT_TRIGGERED]
    parts = []
    for code in kinds:
        m = etype == code
        v = _view(e_pay, m, code)
        if code == codes.EVT_TRADE:
            for oid, acct, leaves in (("buy_order_id", "buy_account_id", "buy_leaves_qty"),
                                      ("sell_order_id", "sell_account_id", "sell_leaves_qty")):
                p = np.zeros(len(v), LIFE_DTYPE)
                p["order_id"], p["account"], p["leaves"] = v[oid], v[acct], v[leaves]
                p["price"], p["qty"], p["trade_id"] = v["price"], v["qty"], v["trade_id"]
                p["index"] = e_idx[m]
                parts.append((p, v))
            continue
        p = np.zeros(len(v), LIFE_DTYPE)
        p["index"] = e_idx[m]
        p["order_id"] = v["order_id"]
        if "account_id" in (v.dtype.names or ()):
            p["account"] = v["account_id"]
        if code == codes.EVT_ACCEPTED:
            p["price"], p["qty"], p["leaves"] = v["price"], v["qty"], v["qty"]
        elif code == codes.EVT_CANCELLED:
            p["qty"], p["leaves"] = v["cancelled_qty"], v["leaves_qty"]
        elif code == codes.EVT_EXPIRED:
            p["qty"] = v["expired_qty"]
        elif code == codes.EVT_REPLACED:
            p["price"], p["leaves"] = v["price"], v["leaves_qty"]
        elif code == codes.EVT_TRIGGERED:
            p["price"] = v["last_trade_price"]
        elif code == codes.EVT_REJECTED:
            p["qty"] = 0
        parts.append((p, v))
    out_parts = []
    for p, v in parts:
        p["seq"], p["ts"], p["type"] = v["seq"], v["ts_ns"], v["type"]
        p["reason"], p["instrument"] = v["reason"], v["instrument_id"]
        p["order_row"] = np.where(p["type"] == codes.EVT_REJECTED, -1, index.rows(p["order_id"], p["seq"]))
        out_parts.append(p)
    life = np.concatenate(out_parts) if out_parts else np.zeros(0, LIFE_DTYPE)
    return life[np.lexsort((life["index"], life["seq"]))]
