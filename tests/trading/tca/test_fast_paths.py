"""The fast paths of the batch analysis against the direct computations they replaced, on
generated data: the journal read straight from the segment files (tape._read) against the C
cursor's checked read, the C best-bid-and-offer pass (bbo.LevelBook) against a dict of live levels
per side updated event by event, and the column-held tables (columns.Columns) against numpy
structured arrays."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from gateway.enginehost import journal
from trading.tca import codes
from trading.tca.bbo import LevelBook
from trading.tca.columns import Columns
from trading.tca.errors import CorruptJournal
from trading.tca.journal_build import write_journal
from trading.tca.synthetic import synthetic_day
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
