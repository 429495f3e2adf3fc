"""The subscriber's rebuilt books: Level 3 (every displayed order), Level 2 (levels as numpy
arrays) and Level 1 (best bid/offer and last trade), all read off one C book (native/md/md_sub.c)
that applies feed packets in sequence. Sockets and recovery live in subscriber.py."""
from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.marketdata import schema
from gateway.marketdata.encoder import book_depth, book_orders
from gateway.marketdata.errors import check
from native import records
from native._venue import ffi, lib

BUY = int(lib.ENG_SIDE_BUY)
SELL = int(lib.ENG_SIDE_SELL)


@dataclass(frozen=True)
class Bbo:
    """Level 1 of one instrument; a missing side or trade is None, never a sentinel price."""
    bid_price: int | None
    bid_qty: int
    ask_price: int | None
    ask_qty: int
    last_price: int | None
    last_qty: int
    phase: int


class FeedBook:
    """Books rebuilt from one order-by-order session."""

    def __init__(self, session: str = "VENUE", max_orders: int = 200_000, max_levels: int = 20_000,
                 max_instruments: int = 64) -> None:
        out = ffi.new("md_sub_t **")
        rc = lib.md_sub_create(schema.session_bytes(session), max_orders, max_levels, max_instruments, out)
        if rc == -errno.ENOMEM:
            raise MemoryError("md_sub_create: out of memory")
        if rc != 0:
            raise ValueError(f"md_sub_create refused max_orders={max_orders} max_levels={max_levels} "
                             f"max_instruments={max_instruments}")
        self._sub = ffi.gc(out[0], lib.md_sub_destroy)
        self._book = lib.md_sub_book(self._sub)
        self._first = ffi.new("uint64_t *")
        self._count = ffi.new("uint32_t *")
        self._stats = ffi.new("md_sub_stats_t *")
        self._inst = ffi.new("md_sub_inst_t *")
        self.max_instruments = max_instruments
        self._prints: np.ndarray | None = None

    @property
    def handle(self) -> Any:
        """The md_sub_t * (for md_subrx_poll, the C receive loop)."""
        return self._sub

    def apply_packet(self, pkt: bytes | bytearray | memoryview) -> tuple[int, int, int]:
        """Offers one packet: (status, first_seq, count). status is MD_OK, MD_GAP, MD_STALE or
        MD_END_OF_SESSION; a malformed packet raises MalformedError (nothing applied), a feed that
        contradicts the book raises BookError."""
        rc = lib.md_sub_apply_packet(self._sub, ffi.from_buffer(pkt), len(pkt), self._first, self._count)
        check(rc, f"packet seq {int(self._first[0])}")
        return rc, int(self._first[0]), int(self._count[0])

    def apply_snapshot(self, data: bytes) -> None:
        check(lib.md_sub_apply_snapshot(self._sub, ffi.from_buffer(data), len(data)), "snapshot")

    def reset(self, next_seq: int = 1) -> None:
        lib.md_sub_reset(self._sub, next_seq)

    @property
    def next_seq(self) -> int:
        lib.md_sub_get_stats(self._sub, self._stats)
        return int(self._stats.next_seq)

    def stats(self) -> dict[str, int]:
        lib.md_sub_get_stats(self._sub, self._stats)
        return records.struct_to_dict(self._stats[0])

    # ---- Level 2 / Level 3 ---------------------------------------------------------------------
    def depth(self, instrument_id: int, side: int, max_levels: int = 10) -> np.ndarray:
        """(price, qty, order_count) records of one side, best first (schema.LEVEL_INFO)."""
        return book_depth(self._book, instrument_id, side, max_levels)

    def orders(self, instrument_id: int, side: int) -> np.ndarray:
        """(order_ref, price, shown, ...) records of one side in book order (schema.ORDER_VIEW)."""
        return book_orders(self._book, instrument_id, side)

    def order_count(self) -> int:
        return int(lib.md_book_order_count(self._book))

    def check(self) -> None:
        rc = int(lib.md_book_check(self._book))
        if rc != 0:
            raise AssertionError(f"md_book_check {rc}: rebuilt book breaks an invariant")

    # ---- each trade (for a strategy's on_trade) ----------------------------------------------------
    def keep_prints(self, capacity: int = 1 << 16) -> None:
        """From now on every trade the packets apply is kept (one schema.PRINT record per match,
        feed order) until take_prints(); a trade that finds `capacity` records waiting is counted in
        stats()['prints_lost'] instead."""
        if not 0 < capacity < 1 << 32:
            raise ValueError(f"keep_prints: capacity must be 1..2^32-1, got {capacity}")
        rc = lib.md_sub_keep_prints(self._sub, capacity)
        if rc == -errno.ENOMEM:
            raise MemoryError(f"md_sub_keep_prints: out of memory for {capacity} prints")
        self._prints = np.zeros(capacity, dtype=schema.PRINT)

    def take_prints(self) -> np.ndarray:
        """The trades kept since the last call, oldest first (schema.PRINT records: ts_ns, price,
        qty, match_number, md_seq, instrument_id, aggressor_side, hidden). Empty before keep_prints."""
        if self._prints is None:
            return np.zeros(0, dtype=schema.PRINT)
        out = self._prints
        n = int(lib.md_sub_take_prints(self._sub, ffi.cast("md_sub_print_t *", ffi.from_buffer(out)), len(out)))
        return out[:n].copy()

    # ---- Level 1 and instrument facts ----------------------------------------------------------
    def instrument(self, instrument_id: int) -> dict[str, int | bytes]:
        check(lib.md_sub_instrument(self._sub, instrument_id, self._inst), f"instrument {instrument_id}")
        d: dict[str, int | bytes] = {}
        for name in ("tick_size", "lot_size", "reference_price", "last_price", "last_qty", "last_md_seq",
                     "known", "config_known", "has_last", "phase", "traded_qty"):
            d[name] = int(getattr(self._inst, name))
        d["symbol"] = bytes(ffi.buffer(self._inst.symbol, 8)).rstrip()
        return d

    def known_instruments(self) -> list[int]:
        return [i for i in range(1, self.max_instruments + 1) if self.instrument(i)["known"]]

    def bbo(self, instrument_id: int) -> Bbo:
        inst = self.instrument(instrument_id)
        bid = self.depth(instrument_id, BUY, 1)
        ask = self.depth(instrument_id, SELL, 1)
        return Bbo(int(bid["price"][0]) if len(bid) else None, int(bid["qty"][0]) if len(bid) else 0,
                   int(ask["price"][0]) if len(ask) else None, int(ask["qty"][0]) if len(ask) else 0,
                   int(inst["last_price"]) if inst["has_last"] else None, int(inst["last_qty"]),
                   int(inst["phase"]))
