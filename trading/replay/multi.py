"""Replay of several instruments of the same day through one engine (the strategy trades and
hedges across them): ``MultiInstrumentReplay``, the runtime's reference loop (runtime.py) with its
instrument-bound steps made per instrument. Every rule of FIDELITY.md holds per instrument.

The command streams: each day is built on its own (history.py), then
- instrument k (1-based, in the order the days are given) is the engine's instrument k: every
  record's ``instrument_id`` is k; instrument 1 is the strategy's primary (``ctx.instrument_id``),
  the others are followed (``Context.add_instrument``: own book view, ledger and phase);
- historical order ids of instrument k get ``(k - 1) << ORDER_ID_SHIFT`` added, so ids of two files
  never meet in the one engine (an id at or above that bit is refused as bad data);
- the set-up commands of every day run first (their time: the earliest of all days), then the
  days' commands are merged by time; at equal times instrument 1's first, each day's own order
  kept (a stable merge).

Per instrument: a history execution is replayed as an aggressive order (rules 2 and 3) when it
could trade with the strategy's orders in THAT instrument, a batch is cut before a command that
could touch them, and hidden prints go to that instrument's market data. Market data of
instrument 1 drives on_book / on_trade / on_phase as in the one-instrument replay; that of the
others updates their book views and calls ``on_other_book(ctx, instrument_id)`` (as the live
runner, trading/strategy/live.py). The engine's account limit is set in every instrument; orders
still live at the end are cancelled in every instrument.

This replay always runs the reference loop (the C loop, native_loop.py, folds one instrument's
market data); a constant feed latency gives the same run either way in the one-instrument case,
so only speed differs. Same input, same seed, same compute charges: the same run, byte for byte.

Days must agree: the same date where the file names carry one (LOBSTER's
``SYMBOL_YYYY-MM-DD_...``), the same tick size and price scale, different symbols; else
``MultiDayError`` names the file and the field.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from native import records
from native._venue import ffi, lib
from native.batch import encode_columns
from native.engine import Engine
from native.records import CmdType
from trading.replay.history import MAX_ACCOUNTS, RESERVED_IDS, History
from trading.replay.router import MD_DTYPE, Router
from trading.replay.runtime import INF, Replay, ReplayConfig, ReplayResult
from trading.strategy.api import BUY, PublicTrade, Strategy, overrides
from trading.strategy.context import Outgoing

ORDER_ID_SHIFT = 56          # instrument k's historical ids + (k - 1) << 56, below RESERVED_IDS
MAX_INSTRUMENTS = 8
_HDR = records.dtype_of("eng_cmd_hdr_t")
_ORDER_ID_OFFSET = records.dtype_of("eng_new_order_t").fields["order_id"][1]   # right after the header
_NAMES_ORDER = [int(c) for c in (CmdType.NEW_ORDER, CmdType.CANCEL, CmdType.REPLACE, CmdType.EXECUTE,
                                 CmdType.REDUCE)]
assert all(records.dtype_of(f"eng_{CmdType(c).name.lower()}_t").fields["order_id"][1] == _ORDER_ID_OFFSET
           for c in _NAMES_ORDER)
assert RESERVED_IDS > (MAX_INSTRUMENTS << ORDER_ID_SHIFT)
# rpl_md_t with the instrument field (router.MD_DTYPE leaves it out: one instrument)
MD_WITH_INSTRUMENT = np.dtype({"names": [*MD_DTYPE.names, "instrument"],
                               "formats": [MD_DTYPE.fields[n][0] for n in MD_DTYPE.names] + ["<u4"],
                               "offsets": [MD_DTYPE.fields[n][1] for n in MD_DTYPE.names] +
                                          [ffi.offsetof("rpl_md_t", "instrument")],
                               "itemsize": MD_DTYPE.itemsize})
_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})_")


class MultiDayError(ValueError):
    """Days that cannot be replayed together; names the file and the field."""


def day_date(path: Path) -> str | None:
    """The date in a LOBSTER-style file name (SYMBOL_YYYY-MM-DD_...), or None."""
    m = _DATE.search(path.name)
    return m.group(1) if m else None


def check_days(histories: Sequence[History]) -> None:
    """MultiDayError naming the first file whose date, tick size, price scale or symbol does not
    fit the first file's (module docstring)."""
    if not 2 <= len(histories) <= MAX_INSTRUMENTS:
        raise MultiDayError(f"data: 2..{MAX_INSTRUMENTS} days are replayed together, got {len(histories)}")
    first = histories[0].day
    symbols = {first.symbol}
    for h in histories[1:]:
        d = h.day
        a, b = day_date(first.path), day_date(d.path)
        if a is not None and b is not None and a != b:
            raise MultiDayError(f"{d.path}: date {b} is not the first file's ({a}): one day is replayed")
        for field_name in ("tick_size", "price_scale"):
            if getattr(d, field_name) != getattr(first, field_name):
                raise MultiDayError(f"{d.path}: {field_name} {getattr(d, field_name)} differs from the first file's "
                                    f"{getattr(first, field_name)}")
        if d.symbol in symbols:
            raise MultiDayError(f"{d.path}: symbol {d.symbol} is given twice")
        symbols.add(d.symbol)


def _retag(h: History, instrument: int) -> tuple[np.ndarray, np.ndarray]:
    """Records and order-id column of one day as engine instrument `instrument`."""
    recs = h.records.copy()
    hdr = recs.view(_HDR)
    hdr["instrument_id"] = instrument
    ids = h.order_id.copy()
    if instrument > 1:
        raw = recs.view(np.uint8).reshape(len(recs), -1)
        oid = raw[:, _ORDER_ID_OFFSET:_ORDER_ID_OFFSET + 8].copy().view("<u8").ravel()
        named = np.isin(hdr["type"], _NAMES_ORDER) & (oid < RESERVED_IDS)
        if (oid[named] >> np.uint64(ORDER_ID_SHIFT)).any():
            raise MultiDayError(f"{h.day.path}: order ids at or above 2^{ORDER_ID_SHIFT} cannot share an engine")
        oid[named] += np.uint64((instrument - 1) << ORDER_ID_SHIFT)
        raw[:, _ORDER_ID_OFFSET:_ORDER_ID_OFFSET + 8] = oid.view(np.uint8).reshape(len(recs), 8)
        shift = (ids > 0) & (ids < RESERVED_IDS)
        ids[shift] += np.uint64((instrument - 1) << ORDER_ID_SHIFT)
    return recs, ids


def merge_histories(histories: Sequence[History]) -> tuple[History, np.ndarray]:
    """One command stream of several days (module docstring), and the instrument of each row."""
    check_days(histories)
    prefix_rows, rest_rows = [], []
    parts = []
    for k, h in enumerate(histories):
        recs, ids = _retag(h, k + 1)
        started = h.message >= 0
        p = int(np.argmax(started)) if started.any() else len(h)
        cols = (recs, h.ts_ns.astype(np.int64), h.kind, h.side, h.price, h.qty, ids, h.message,
                np.full(len(h), k + 1, dtype=np.int64))
        parts.append(cols)
        prefix_rows.append([c[:p] for c in cols])
        rest_rows.append([c[p:] for c in cols])
    pre = [np.concatenate([r[j] for r in prefix_rows]) for j in range(9)]
    rest = [np.concatenate([r[j] for r in rest_rows]) for j in range(9)]
    order = np.lexsort((rest[8], rest[1]))      # by time, then instrument; stable within a day
    rest = [c[order] for c in rest]
    start = min(int(c[1].min()) for c in parts if len(c[1]))
    pre[1] = np.full(len(pre[1]), start, dtype=np.int64)
    pre[0].view(_HDR)["ts_ns"] = start
    recs, ts, kind, side, price, qty, ids, message, inst = (np.concatenate((a, b)) for a, b in zip(pre, rest))
    counts: dict[str, int] = {}
    for h in histories:
        for key, value in h.counts.items():
            counts[f"{h.day.symbol}: {key}"] = value
    merged = History(day=histories[0].day, records=recs, ts_ns=ts, kind=kind, side=side, price=price, qty=qty,
                     order_id=ids, message=message, counts=counts)
    return merged, inst


class _MultiRouter(Router):
    """The router with each market-data row's instrument (rpl_md_t.instrument)."""

    def take_md_with_instrument(self, t: int) -> list[tuple[int, int, int, int, int, int, int]]:
        view = self._out_np.view(MD_WITH_INSTRUMENT)
        rows: list[tuple[int, int, int, int, int, int, int]] = []
        while True:
            k = lib.rpl_md_take(self._r, t, self._out, len(view))
            rows += view[:k].tolist()
            if k < len(view):
                return rows


class MultiInstrumentReplay(Replay):
    """Several days of one date through one engine (module docstring); ``instruments[k]`` is the
    symbol of engine instrument k + 1."""

    def __init__(self, histories: Sequence[History], strategy: Strategy, config: ReplayConfig | None = None) -> None:
        merged, inst = merge_histories(histories)
        super().__init__(merged, strategy, dataclasses.replace(config or ReplayConfig(), loop="python"))
        self.days = [h.day for h in histories]
        self.instruments = [d.symbol for d in self.days]
        n = len(merged)
        self.eng = Engine(max_orders=min(max(1 << 14, n + 1024), 1 << 20), max_levels=min(max(1 << 12, n // 4), 1 << 18),
                          max_instruments=len(histories), max_accounts=MAX_ACCOUNTS)
        self.router = _MultiRouter(self.eng, self.cfg.account_id, self.wants_md, self.cfg.feed_latency, self.rng,
                                   merged.ts_ns, self.counts)
        for k, day in enumerate(self.days[1:], start=2):
            self.ctx.add_instrument(k, day.price_scale, day.tick_size, self.cfg.fees)
        self.subscribed["on_other_book"] = overrides(strategy, "on_other_book")
        self._inst = inst.tolist()
        self._inst_np = inst
        # per instrument, the touch arrays of runtime.py with the other instruments' rows inert
        self._touch_arrays: dict[int, dict[str, np.ndarray]] = {}
        self._touch: dict[int, dict[str, Any]] = {}
        for k in range(1, len(histories) + 1):
            mine = inst == k
            arrays = {name: np.where(mine, getattr(self, name), INF if "bid" in name else -INF)
                      for name in ("_bid_exec", "_ask_exec", "_bid_hit", "_ask_hit")}
            self._touch_arrays[k] = arrays
            self._touch[k] = {name: ffi.cast("const int64_t *", ffi.from_buffer(a)) for name, a in arrays.items()}

    # ---- per instrument -----------------------------------------------------------------------
    def _own_prices_by_instrument(self) -> dict[int, tuple[int, int]]:
        """Per instrument with own orders: highest own bid and lowest own ask (or -INF / INF)."""
        out: dict[int, tuple[int, int]] = {}
        for o in self.ctx.orders.values():
            bid, ask = out.get(o.instrument_id, (-INF, INF))
            out[o.instrument_id] = (max(bid, o.price), ask) if o.side == BUY else (bid, min(ask, o.price))
        return out

    def _cut_before_own_orders(self, j: int, react_ns: int) -> int:
        if not self.ctx.orders or self.error is not None:
            return j
        window = min(j, self.i + 4096)
        first = window
        for k, (bid, ask) in self._own_prices_by_instrument().items():
            c = self._touch[k]
            first = min(first, lib.rpl_first_touch(c["_bid_hit"], c["_ask_hit"], self.i, window, bid, ask))
        if first < window:
            guard = self._ts[first] + react_ns
            return min(j, int(np.searchsorted(self.h.ts_ns, guard, side="right")))
        return window

    def _touching(self, a: int, b: int) -> list[int]:
        """runtime.Replay._touching with each execution checked against the own orders of its own
        instrument (hidden prints are tagged with theirs: _push_prints)."""
        rows: list[int] = []
        for k, (bid, ask) in self._own_prices_by_instrument().items():
            rows += self._executions_through(self._touch[k], a, b, bid, ask)
        rows.sort()
        return rows

    def _push_prints(self, idx: np.ndarray) -> None:
        """Hidden prints in time order, each run of one instrument in one call."""
        h, inst = self.h, self._inst_np[idx]
        cuts = np.flatnonzero(np.diff(inst)) + 1
        for part in np.split(idx, cuts):
            if len(part):
                self.router.push_prints(h.ts_ns[part].tolist(), h.side[part].tolist(), h.price[part].tolist(),
                                        h.qty[part].tolist(), instrument=int(self._inst[int(part[0])]))

    def _aggressors(self, idx: list[int]) -> np.ndarray:
        recs = super()._aggressors(idx)
        recs.view(_HDR)["instrument_id"] = [self._inst[k] for k in idx]
        return recs

    def _setup(self) -> None:
        super()._setup()
        lim = self.cfg.limits.max_position
        if lim < (1 << 62):
            for k in range(2, len(self.days) + 1):
                self._submit_records(encode_columns("SET_ACCOUNT_LIMIT", 1, instrument_id=k, ts_ns=self.now,
                                                    account_id=self.cfg.account_id, max_position=lim), own=False)

    def _apply_md(self, t: int) -> bool:
        rows = self.router.take_md_with_instrument(t)
        if not rows:
            return False
        ctx, trade_cb = self.ctx, self.subscribed["on_trade"]
        primary, followed = ctx.instrument_id, ctx.instruments
        changed = False
        others: set[int] = set()
        for d, _, p, q, k, s, ins in rows:
            if ins != primary:
                state = followed.get(ins)
                if state is None:
                    continue
                if k == 0:
                    state.book.apply(s, p, q)
                    others.add(ins)
                elif k == 3:
                    ctx.apply_phase(p, q, notify=False, instrument_id=ins)
                else:
                    state.book.trade(p, q)
                continue
            if k == 0:
                ctx.book.apply(s, p, q)
                changed = True
            elif k == 3:
                self._wake_phase(p, q)
            else:
                changed = True
                ctx.book.trade(p, q)
                if trade_cb and self.error is None:
                    self._invoke("on_trade", PublicTrade(d, p, q, s if k == 1 else 3 - s, k == 2))
        if self.subscribed["on_other_book"] and self.error is None:
            for ins in sorted(others):
                self._invoke("on_other_book", ins)
        return changed      # as live: on_book is the primary's; the others have on_other_book

    def _final_cancel(self, end: int) -> None:
        """Orders still live at the end are cancelled in every instrument (their events booked)."""
        if not self.ctx.orders:
            return
        self.arrivals.clear()
        at = max(end, self.last_arrival)
        for k in self.ctx.instruments:
            self.arrivals.append((at, Outgoing(end, "CANCEL_ALL", instrument_id=k)))
        self._submit_strategy(INF)
        while self.own:
            self.ctx.apply_event(self.own.popleft()[1])

    def _describe_config(self) -> dict[str, Any]:
        out = super()._describe_config()
        out["data"] = [str(d.path) for d in self.days]
        out["symbol"] = self.instruments[0]
        out["instruments"] = {k + 1: s for k, s in enumerate(self.instruments)}
        return out


def run_multi_replay(histories: Sequence[History], strategy: Strategy, config: ReplayConfig | None = None,
                     progress: Callable[[float], None] | None = None) -> ReplayResult:
    return MultiInstrumentReplay(histories, strategy, config).run(progress)
