"""The fast paths of the analysis against the direct computations they replaced, on generated
data: the journal read straight from the segment files (tape._read) against the C cursor's checked
read, the C best-bid-and-offer pass (bbo.LevelBook) against a dict of live levels per side updated
event by event, the column-held tables (columns.Columns) against numpy structured arrays, and the
monitor's batch arithmetic (monitor_batch.py) against its sums kept one event at a time."""
from __future__ import annotations

import shutil
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gateway.enginehost import journal
from trading.tca import codes
from trading.tca.bbo import LevelBook
from trading.tca.columns import Columns
from trading.tca.errors import CorruptJournal
from trading.tca.journal_build import write_journal
from trading.tca.monitor import BestExecutionMonitor
from trading.tca.monitor_batch import resolve_at
from trading.tca.reference import Reference
from trading.tca.synthetic import synthetic_day
from trading.tca.tail import EventTail
from trading.tca.tape import _read, load_tape
from native import records


@pytest.fixture(scope="module")
def multi_segment_day(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A synthetic day in small segments, so both journals span several segment files."""
    jdir = str(tmp_path_factory.mktemp("fast") / "journal")
    write_journal(jdir, synthetic_day(3000, seed=3).commands, limits=(1 << 14, 4096, 16, 16),
                  segment_bytes=1 << 16)
    assert len(journal.segment_headers(jdir, journal.KIND_EVT)) > 5
    return jdir


@pytest.mark.parametrize("kind", [journal.KIND_CMD, journal.KIND_EVT])
def test_segment_read_equals_the_cursor_read(multi_segment_day: str, kind: int) -> None:
    seq, idx, pay = _read(multi_segment_day, kind)
    c_seq, c_idx, c_pay = journal.read_records(multi_segment_day, kind)
    assert len(seq) == len(c_seq) > 1000
    assert np.array_equal(seq, c_seq) and np.array_equal(idx, c_idx)
    assert np.array_equal(np.ascontiguousarray(pay), c_pay)


def test_a_corrupt_record_is_refused(multi_segment_day: str, tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    shutil.copytree(multi_segment_day, jdir)
    first = journal.segment_headers(str(jdir), journal.KIND_EVT)[0].path
    with open(first, "r+b") as f:         # a record inside the first (full) segment corrupted
        f.seek(128 + 128 * 5 + 40)
        f.write(b"\xff\xff")
    with pytest.raises(CorruptJournal, match="nothing analysed"):
        load_tape(str(jdir))


def _direct_bbo(side: np.ndarray, price: np.ndarray, qty: np.ndarray) -> tuple[list[int], list[int]]:
    """The best bid and ask after each update, from a dict of live levels per side (the loop
    quotes.rebuild ran before the C pass)."""
    levels: dict[int, dict[int, int]] = {1: {}, 2: {}}
    bids, asks = [], []
    for s, p, q in zip(side.tolist(), price.tolist(), qty.tolist()):
        book = levels[1 if s == 1 else 2]
        if q > 0:
            book[p] = q
        else:
            book.pop(p, None)
        bids.append(max(levels[1]) if levels[1] else 0)
        asks.append(min(levels[2]) if levels[2] else 0)
    return bids, asks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_level_book_equals_the_direct_best(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 20_000
    side = rng.integers(1, 3, n).astype(np.uint8)
    # up to 1500 distinct prices per side: the arrays grow past their first 256 slots
    price = np.where(side == 1, 1_000_000 - 100 * rng.integers(1, 1500, n), 1_000_000 + 100 * rng.integers(1, 1500, n))
    qty = np.where(rng.random(n) < 0.35, 0, rng.integers(1, 500, n))
    want_bid, want_ask = _direct_bbo(side, price, qty)
    book = LevelBook()
    got_bid, got_ask = [], []
    for part in np.array_split(np.arange(n), 7):        # fed in batches, as the monitor does
        b, a = book.apply(side[part], price[part], qty[part])
        got_bid += b.tolist()
        got_ask += a.tolist()
    assert got_bid == want_bid and got_ask == want_ask
    assert book.best() == (want_bid[-1], want_ask[-1])


def test_quotes_of_a_day_equal_the_direct_best(multi_segment_day: str) -> None:
    tape = load_tape(multi_segment_day)
    seq, _, pay = _read(multi_segment_day, journal.KIND_EVT)
    evt = np.ascontiguousarray(pay).view(records.RECORD_DTYPE).reshape(-1)
    bl = evt[evt.view(records.dtype_of("eng_evt_hdr_t"))["type"] == codes.EVT_BOOK_LEVEL]
    bl = bl.view(records.EVT_DTYPES[codes.EVT_BOOK_LEVEL])
    for iid, series in tape.quotes.items():
        m = bl["instrument_id"] == iid
        want_bid, want_ask = _direct_bbo(bl["side"][m], bl["price"][m], bl["qty"][m])
        assert series.rows["bid"].tolist() == want_bid and series.rows["ask"].tolist() == want_ask


def test_columns_answer_as_a_structured_array() -> None:
    dt = np.dtype([("a", "<i8"), ("b", "<f8"), ("c", "<f8", (2,)), ("d", "i1")], align=True)
    rng = np.random.default_rng(5)
    ref = np.zeros(50, dt)
    cols = Columns.zeros(dt, 50)
    for table in (ref, cols):
        table["a"] = np.arange(50)
        table["b"] = rng.random(50) if table is ref else ref["b"]
        table["c"][:, 1] = 7.0
        table["d"][table["a"] % 3 == 0] = -1
    assert np.array_equal(cols.to_structured(), ref)
    mask = ref["a"] % 4 == 1
    for key in (mask, np.array([3, 1, 4]), slice(0, None, 2)):
        assert np.array_equal(cols[key].to_structured(), ref[key])
    assert cols[7]["b"] == ref[7]["b"] and cols[-1]["a"] == ref[-1]["a"] == 49
    assert [r["a"] for r in cols] == ref["a"].tolist() and len(cols) == len(ref)
    with pytest.raises(IndexError):
        cols[50]
    with pytest.raises(ValueError):
        Columns(dt, {"a": np.zeros(3)})


class _EventByEvent:
    """The monitor's sums event by event (the loop monitor.feed ran before its batch arithmetic):
    book levels in dicts, orders in a dict, one `+=` per fill, markouts resolved at the first
    event stamped after their horizon."""

    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.books: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
        self.orders: dict[int, list[Any]] = {}
        self.sums: dict[str, dict[str, float]] = {}
        self.pending: deque[tuple[int, int, str, int, int, int]] = deque()

    def _mid(self, iid: int) -> float:
        bids, asks = self.books.get(iid, ({}, {}))
        return (max(bids) + min(asks)) / 2.0 if bids and asks else float("nan")

    def _add(self, strat: str, name: str, value: float) -> None:
        for key in ("venue:" + self.ref.venue_name, "strategy:" + strat):
            acc = self.sums.setdefault(key, {})
            acc[name] = acc.get(name, 0.0) + value

    def event(self, e: dict[str, Any]) -> None:
        while self.pending and self.pending[0][0] < e["ts_ns"]:
            _, iid, strat, s, px, q = self.pending.popleft()
            mid = self._mid(iid)
            if mid == mid:
                self._add(strat, "mo_q", q)
                self._add(strat, "mo_x", q * s * (mid - px) / px * 1e4)
        typ, iid, scale, fees = e["type"], e["instrument_id"], self.ref.price_scale, self.ref.fees
        if typ == codes.EVT_BOOK_LEVEL:
            side = self.books.setdefault(iid, ({}, {}))[0 if e["side"] == 1 else 1]
            side.pop(e["price"], None) if e["qty"] <= 0 else side.__setitem__(e["price"], e["qty"])
        elif typ == codes.EVT_ACCEPTED:
            self.orders[e["order_id"]] = [self.ref.account(e["account_id"]).strategy,
                                          1 if e["side"] == codes.SIDE_BUY else -1, self._mid(iid), e["ord_type"], e["qty"], 0]
        elif typ == codes.EVT_TRADE:
            px, q, aggr = e["price"], e["qty"], e["aggressor_side"]
            for oid, leaves, me in ((e["buy_order_id"], e["buy_leaves_qty"], codes.SIDE_BUY),
                                    (e["sell_order_id"], e["sell_leaves_qty"], codes.SIDE_SELL)):
                o = self.orders.get(oid)
                if o is None:
                    continue
                strat, s, mid0 = o[0], o[1], o[2]
                taker = aggr == me
                self._add(strat, "shares", q)
                self._add(strat, "fees", q * (fees.taker_per_share if taker else fees.maker_per_share if aggr
                                              else fees.auction_per_share))
                if mid0 == mid0:
                    self._add(strat, "q_mid", q * mid0 / scale)
                    self._add(strat, "slip", s * q * (px - mid0) / scale)
                if taker:
                    self.pending.append((e["ts_ns"] + 1_000_000_000, iid, strat, s, px, q))
                o[5] += q
                if leaves == 0:
                    self._end(oid)
        elif typ == codes.EVT_EXPIRED or (typ == codes.EVT_CANCELLED and e["leaves_qty"] == 0):
            if e["order_id"] in self.orders:
                self._end(e["order_id"])

    def _end(self, oid: int) -> None:
        strat, _, _, otype, qty, filled = self.orders.pop(oid)
        if otype == codes.ORD_MARKET:
            self._add(strat, "mkt_qty", qty)
            self._add(strat, "mkt_filled", filled)


def _events(directory: str) -> list[dict[str, Any]]:
    _, _, pay = _read(directory, journal.KIND_EVT)
    recs = np.ascontiguousarray(pay).view(records.RECORD_DTYPE).reshape(-1)
    types = recs.view(records.dtype_of("eng_evt_hdr_t"))["type"]
    out = []
    for k, t in enumerate(types.tolist()):
        view = recs[k:k + 1].view(records.EVT_DTYPES.get(t, records.dtype_of("eng_evt_hdr_t")))
        out.append({name: view[name][0].item() for name in view.dtype.names or ()})
    return out


@pytest.mark.parametrize("batch", [7, 4096])
def test_monitor_batches_equal_the_event_by_event_sums(multi_segment_day: str, batch: int) -> None:
    ref = Reference(venue_name="FAST", venue_mic="XFST")
    direct = _EventByEvent(ref)
    for e in _events(multi_segment_day):
        direct.event(e)
    mon = BestExecutionMonitor(ref, [])
    tail = EventTail(multi_segment_day, batch=batch)
    try:
        while len(b := tail.poll()):
            mon.feed(b)
    finally:
        tail.close()
    got = {f"{scope}:{key}": {k: v for k, v in vars(acc).items() if v} for (scope, key), acc in mon.accs.items()}
    want = {key: {k: v for k, v in acc.items() if v} for key, acc in direct.sums.items()}
    assert got == want          # bit for bit: the same additions in the same order
    assert want["venue:FAST"]["mo_q"] > 0 and want["venue:FAST"]["mkt_qty"] > 0


def test_resolve_at_follows_the_queue_with_stamps_going_back() -> None:
    rng = np.random.default_rng(11)
    for sorted_stamps in (True, False):
        ts = np.cumsum(rng.integers(0, 5, 300)) if sorted_stamps else rng.integers(0, 400, 300)
        n_carried = 4
        queued = np.concatenate((np.full(n_carried, -1), np.sort(rng.choice(300, 60, replace=False))))
        due = np.concatenate((rng.integers(0, 50, n_carried), ts[queued[n_carried:]] + rng.integers(0, 40, 60)))
        want, queue, head = [], list(range(len(due))), 0      # the queue popped event by event
        resolved = {}
        for k in range(len(ts)):
            while head < len(queue) and queued[queue[head]] < k and due[queue[head]] < ts[k]:
                resolved[queue[head]] = k
                head += 1
        want = [resolved.get(i, len(ts)) for i in range(len(due))]
        assert resolve_at(due.astype(np.int64), queued.astype(np.int64), ts.astype(np.int64)).tolist() == want
