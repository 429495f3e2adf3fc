"""Python face of the C encoder (native/md/md_encode.c): engine event records in, MoldUDP64 packets
out, in batches. One Encoder per publisher; it is not thread-safe (the publisher serialises the
recovery server's reads with its own lock)."""
from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.marketdata import schema
from gateway.marketdata.errors import check
from native import records
from native._venue import ffi, lib


@dataclass(frozen=True)
class EncoderConfig:
    session: str = "VENUE"
    depth_session: str = "VENUEL2"
    max_orders: int = 200_000
    max_levels: int = 20_000
    max_instruments: int = 64
    depth_levels: int = 10
    max_packet_bytes: int = schema.MAX_PACKET_BYTES
    store_messages: int = 1 << 20
    store_bytes: int = 1 << 26

    def validate(self) -> None:
        schema.session_bytes(self.session)
        schema.session_bytes(self.depth_session)
        if self.session == self.depth_session:
            raise ValueError("session and depth_session must differ")
        if not 1 <= self.depth_levels <= lib.MD_MAX_DEPTH_LEVELS:
            raise ValueError(f"depth_levels {self.depth_levels}: must be 1..{lib.MD_MAX_DEPTH_LEVELS}")
        if not 256 <= self.max_packet_bytes <= schema.MAX_PACKET_BYTES:
            raise ValueError(f"max_packet_bytes {self.max_packet_bytes}: must be 256..{schema.MAX_PACKET_BYTES}")
        for name, least in (("store_messages", 4096), ("store_bytes", 1 << 16)):
            v = getattr(self, name)
            if v < least or v & (v - 1):
                raise ValueError(f"{name} {v}: must be a power of two >= {least}")
        for name in ("max_orders", "max_levels", "max_instruments"):
            if not 1 <= getattr(self, name) < 2**24:
                raise ValueError(f"{name} {getattr(self, name)}: must be 1..2**24-1")


class Encoder:
    def __init__(self, config: EncoderConfig = EncoderConfig()) -> None:
        config.validate()
        self.config = config
        cfg = ffi.new("md_enc_config_t *")
        ffi.memmove(cfg.session, schema.session_bytes(config.session), schema.SESSION_LEN)
        ffi.memmove(cfg.depth_session, schema.session_bytes(config.depth_session), schema.SESSION_LEN)
        for name in ("max_orders", "max_levels", "max_instruments", "depth_levels", "max_packet_bytes",
                     "store_messages", "store_bytes"):
            setattr(cfg, name, getattr(config, name))
        out = ffi.new("md_enc_t **")
        rc = lib.md_enc_create(cfg, out)
        if rc == -errno.ENOMEM:
            raise MemoryError("md_enc_create: out of memory")
        if rc != 0:
            raise ValueError(f"md_enc_create refused the configuration {config}")
        self._enc = ffi.gc(out[0], lib.md_enc_destroy)
        self._stats = ffi.new("md_enc_stats_t *")
        # packet scratch: enough for any batch the publisher asks for at once
        self._max_packets = 4096
        self._pkt_buf = np.zeros(self._max_packets * schema.MAX_PACKET_BYTES, dtype=np.uint8)
        self._pkt_c = ffi.from_buffer(self._pkt_buf)
        self._lens = np.zeros(self._max_packets, dtype=np.uint32)
        self._lens_c = ffi.cast("uint32_t *", ffi.from_buffer(self._lens))
        self._packed = ffi.new("uint64_t *")

    def set_instrument(self, instrument_id: int, symbol: str, tick_size: int, lot_size: int,
                       reference_price: int) -> None:
        sym = symbol.encode("ascii")
        if not 1 <= len(sym) <= 8:
            raise ValueError(f"symbol {symbol!r}: 1-8 ASCII characters")
        check(lib.md_enc_set_instrument(self._enc, instrument_id, sym.ljust(8, b" "), tick_size, lot_size,
                                        reference_price), f"instrument {instrument_id}")

    def encode(self, events: np.ndarray) -> tuple[int, int]:
        """Consumes event records (96-byte, any dtype of that itemsize). Returns (first_seq,
        count) of the messages they produced."""
        evts = np.ascontiguousarray(events)
        if evts.dtype.itemsize != records.RECORD_SIZE:
            raise ValueError(f"event records must be {records.RECORD_SIZE} bytes, got {evts.dtype.itemsize}")
        n = evts.reshape(-1).shape[0]
        if n == 0:
            return self.next_seq, 0
        count = int(lib.md_enc_events(self._enc, ffi.cast("const eng_evt_t *", ffi.from_buffer(evts)), n))
        return self.next_seq - count, count

    @property
    def handle(self) -> Any:
        """The md_enc_t * (for md_pub_create, which then owns all access to it)."""
        return self._enc

    def pack(self, first_seq: int, count: int, via: Any = None) -> list[bytes]:
        """MoldUDP64 packets for [first_seq, first_seq + count). Raises NotAvailableError for a
        range not (or no longer) in the store, MalformedError for count/first_seq 0. via: an
        md_pub_t * whose loop owns this encoder (the call then takes its mutex)."""
        out: list[bytes] = []
        while count > 0:
            if via is None:
                rc = lib.md_enc_pack(self._enc, first_seq, count, self._pkt_c, len(self._pkt_buf),
                                     self._lens_c, self._max_packets, self._packed)
            else:
                rc = lib.md_pub_pack(via, first_seq, count, self._pkt_c, len(self._pkt_buf),
                                     self._lens_c, self._max_packets, self._packed)
            n = check(rc,
                      f"messages {first_seq}..{first_seq + count - 1}")
            out += self._cut(n)
            done = int(self._packed[0])
            first_seq += done
            count -= done
        return out

    def conflated(self, ts_ns: int, all_instruments: bool = False) -> list[bytes]:
        """L2 + L1 packets for the instruments changed since the last call (or all)."""
        out: list[bytes] = []
        while True:
            n = check(lib.md_enc_conflated(self._enc, int(all_instruments), ts_ns, self._pkt_c, len(self._pkt_buf),
                                           self._lens_c, self._max_packets), "conflated depth")
            out += self._cut(n)
            if n < self._max_packets:
                return out
            all_instruments = False

    def snapshot(self, via: Any = None) -> bytes:
        """Length-prefixed snapshot messages ending with the 'G' end marker. via: as in pack()."""
        if via is None:
            buf = np.zeros(int(lib.md_enc_snapshot_bytes(self._enc)), dtype=np.uint8)
            n = check(int(lib.md_enc_snapshot(self._enc, ffi.from_buffer(buf), len(buf))), "snapshot")
            return buf[:n].tobytes()
        # the book may grow between sizing and copying while the loop runs: size again and retry
        while True:
            buf = np.zeros(int(lib.md_pub_snapshot_bytes(via)) + 4096, dtype=np.uint8)
            n = int(lib.md_pub_snapshot(via, ffi.from_buffer(buf), len(buf)))
            if n != lib.MD_E_BUFFER_SMALL:
                return buf[:check(n, "snapshot")].tobytes()

    def _cut(self, n: int) -> list[bytes]:
        out = []
        off = 0
        raw = self._pkt_buf
        for length in self._lens[:n].tolist():
            out.append(raw[off:off + length].tobytes())
            off += length
        return out

    def stats(self) -> dict[str, int]:
        lib.md_enc_get_stats(self._enc, self._stats)
        return records.struct_to_dict(self._stats[0])

    @property
    def next_seq(self) -> int:
        lib.md_enc_get_stats(self._enc, self._stats)
        return int(self._stats.next_seq)

    def book_depth(self, instrument_id: int, side: int, max_levels: int = 64) -> np.ndarray:
        return book_depth(lib.md_enc_book(self._enc), instrument_id, side, max_levels)

    def book_check(self) -> int:
        return int(lib.md_book_check(lib.md_enc_book(self._enc)))


def book_depth(book: Any, instrument_id: int, side: int, max_levels: int) -> np.ndarray:
    """Levels of one side of an md_book, best first, as schema.LEVEL_INFO records."""
    out = np.zeros(max(1, max_levels), dtype=schema.LEVEL_INFO)
    n = check(lib.md_book_depth(book, instrument_id, side,
                                ffi.cast("md_level_info_t *", ffi.from_buffer(out)), max_levels), "depth")
    return out[:n]


def book_orders(book: Any, instrument_id: int, side: int) -> np.ndarray:
    """Orders of one side of an md_book in book order, as schema.ORDER_VIEW records."""
    cap = max(1, int(lib.md_book_order_count(book)))
    out = np.zeros(cap, dtype=schema.ORDER_VIEW)
    n = check(lib.md_book_orders(book, instrument_id, side,
                                 ffi.cast("md_order_view_t *", ffi.from_buffer(out)), cap), "orders")
    return out[:n]
