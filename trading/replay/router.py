"""The replay's engine calls and event routing (native/replay/rpl_router.c), with Python's part:
the feed-latency draws of models that are not constant, and the strategy's own events decoded.

One ``Router.submit`` runs a batch of engine commands (history or the strategy's) and sorts the
events in C: market data onto a FIFO with its delivery times, the strategy's own events, refusals
of history commands (counted into ``counts`` by command and reason, FIDELITY.md rule 4). A step of
the replay thus costs one C call instead of array operations per event. Delivery order (one feed,
never reordered, FIDELITY.md rule 6): a batch's market data, then its own events, then hidden
prints queued after it; a latency model that is not constant draws in that same order.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from native import records
from native._venue import ffi, lib
from native.engine import Engine, EngineError
from native.messages import Event
from trading.replay.latency import Banded, Constant, LatencyModel, activity
from trading.strategy.decode import decode_event_records

# rpl_reject_t as numpy reads it (the field offsets from the cffi layout)
_REJECT = np.dtype({"names": ["cmd_type", "reason"], "formats": ["<u2", "<u2"],
                    "offsets": [ffi.offsetof("rpl_reject_t", "cmd_type"), ffi.offsetof("rpl_reject_t", "reason")],
                    "itemsize": ffi.sizeof("rpl_reject_t")})

INF = 1 << 62
TAKE = 4096
# rpl_md_t (rpl_router.h) without its padding
MD_DTYPE = np.dtype({"names": ["deliver_ns", "ts_ns", "price", "qty", "kind", "side"],
                     "formats": ["<i8", "<i8", "<i8", "<i8", "u1", "u1"],
                     "offsets": [0, 8, 16, 24, 32, 33], "itemsize": 40})
assert ffi.sizeof("rpl_md_t") == MD_DTYPE.itemsize and ffi.offsetof("rpl_md_t", "side") == 33
_EVT_HDR = records.dtype_of("eng_evt_hdr_t")


class Router:
    def __init__(self, engine: Engine, account_id: int, want_md: bool, feed: LatencyModel,
                 rng: np.random.Generator, history_ts: np.ndarray, counts: dict[str, int]) -> None:
        self._r: Any = ffi.new("rpl_router_t *")
        const = feed.ns if isinstance(feed, Constant) else -1
        if lib.rpl_router_init(self._r, account_id, int(want_md), const) != 0:
            raise MemoryError("rpl_router_init: out of memory")
        self._free = weakref.finalize(self, lib.rpl_router_free, self._r)
        self._engine = engine          # kept alive as long as the router
        self._eng = engine.handle
        self._feed, self._rng, self._hist_ts, self._const = feed, rng, history_ts, const >= 0
        self._out: Any = ffi.new("rpl_md_t[]", TAKE)
        self._out_np = np.frombuffer(ffi.buffer(self._out), dtype=MD_DTYPE)
        self._first: Any = ffi.new("rpl_md_t **")
        self.counts = counts
        self._reject_keys: dict[tuple[int, int], str] = {}    # (cmd_type, reason) -> its counts key

    @property
    def handle(self) -> Any:
        """The rpl_router_t * (the C loop, rpl_loop.c, calls the router itself)."""
        return self._r

    @property
    def engine_handle(self) -> Any:
        return self._eng

    @property
    def seq(self) -> int:
        return int(self._r.seq)

    @property
    def events(self) -> int:
        return int(self._r.events)

    def close(self) -> None:
        self._free()

    def submit(self, recs: np.ndarray, own: bool) -> list[tuple[int, Event]]:
        """Runs the command records; returns the strategy's events of the batch with their
        delivery times (market data stays on the FIFO)."""
        r = self._r
        n = lib.rpl_submit(r, self._eng, ffi.cast("const eng_cmd_t *", ffi.from_buffer(recs)), len(recs), int(own))
        if n < 0:
            raise EngineError(f"rpl_submit: error {n}")
        if r.md_unstamped:
            self._stamp_md()
        if r.rej_len:
            self.count_rejects()
        if not r.own_len:
            return []
        k = int(r.own_len)
        raw = ffi.buffer(r.own, k * records.RECORD_SIZE)
        if self._const:
            times = np.frombuffer(ffi.buffer(r.own_deliver, k * 8), dtype=np.int64).tolist()
        else:
            ts = np.frombuffer(raw, dtype=records.RECORD_DTYPE).view(_EVT_HDR)["ts_ns"].copy()
            times = self._deliver_times(ts).tolist()
        return list(zip(times, decode_event_records(raw, k)))

    def push_prints(self, ts: list[int], side: list[int], price: list[int], qty: list[int],
                    instrument: int = 1) -> None:
        """Hidden executions the strategy sees as prints (kind 2), after the batch's events."""
        for t, s, p, q in zip(ts, side, price, qty):
            if lib.rpl_md_push_print(self._r, instrument, t, s, p, q) != 0:
                raise MemoryError("rpl_md_push_print: out of memory")
        if self._r.md_unstamped:
            self._stamp_md()

    def next_md(self) -> int:
        """Delivery time of the oldest market data not yet taken, or INF."""
        r = self._r
        return int(r.md[r.md_head].deliver_ns) if r.md_head < r.md_tail - r.md_unstamped else INF

    def take_md(self, t: int) -> list[tuple[int, int, int, int, int, int]]:
        """Market data delivered at or before t, oldest first: (deliver_ns, ts_ns, price, qty,
        kind, side) each."""
        k = lib.rpl_md_take(self._r, t, self._out, TAKE)
        if k < TAKE:
            return self._out_np[:k].tolist()  # type: ignore[no-any-return]
        rows = self._out_np.tolist()
        while k == TAKE:
            k = lib.rpl_md_take(self._r, t, self._out, TAKE)
            rows += self._out_np[:k].tolist()
        return rows  # type: ignore[no-any-return]

    # ---- Python's part --------------------------------------------------------------------
    def _deliver_times(self, t: np.ndarray) -> np.ndarray:
        model = self._feed
        rate = activity(self._hist_ts, t, model.window_ns) if isinstance(model, Banded) else None
        d = t.astype(np.int64) + model.sample(self._rng, len(t), rate)
        d = np.maximum.accumulate(np.maximum(d, int(self._r.last_delivery)))   # one feed: never reordered
        if len(d):
            self._r.last_delivery = int(d[-1])
        return d

    def _stamp_md(self) -> None:
        k = lib.rpl_md_pending(self._r, self._first)
        pending = np.frombuffer(ffi.buffer(self._first[0], k * MD_DTYPE.itemsize), dtype=MD_DTYPE)
        pending["deliver_ns"] = self._deliver_times(pending["ts_ns"].copy())
        self._r.md_unstamped = 0

    def count_rejects(self) -> None:
        """Refused history commands since the last call, into counts (the C loop leaves them listed;
        each (command, reason) pair counted with numpy, keys added in the order the pairs first
        appear)."""
        r, keys, counts = self._r, self._reject_keys, self.counts
        n = int(r.rej_len)
        rej = np.frombuffer(ffi.buffer(r.rej, n * ffi.sizeof("rpl_reject_t")), dtype=_REJECT)
        pair_code = rej["cmd_type"].astype(np.uint32) << 16 | rej["reason"]
        codes, first, freq = np.unique(pair_code, return_index=True, return_counts=True)
        for k in np.argsort(first, kind="stable").tolist():
            pair = (int(codes[k]) >> 16, int(codes[k]) & 0xFFFF)
            key = keys.get(pair)
            if key is None:     # named once per pair: two Enum calls cost about 4 us
                key = keys[pair] = \
                    f"historical {records.CmdType(pair[0]).name} refused: {records.Reason(pair[1]).name}"
            counts[key] = counts.get(key, 0) + int(freq[k])
        r.rej_len = 0
