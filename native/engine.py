"""In-process Python face of the C matching engine (native/matching/eng_*.c).

Engine wraps one eng_engine_t: submit command Structs (native.messages; or raw 96-byte records
in bulk) and get event Structs (or raw event records) back, plus read-only queries. Bad commands
come back as REJECTED events, as the C engine produces them; only a malformed Struct raises
(ValueError for a non-int value, OverflowError for a value its field cannot hold). Failing C calls map to exceptions in
exactly one place, ``_check_rc``.
"""
from __future__ import annotations

import errno
from types import TracebackType
from typing import Any, Iterable

import numpy as np

from native import records
from native.messages import Command, Event
from native._venue import ffi, lib


class EngineError(Exception):
    """A C engine call failed."""


class EngineNotFoundError(EngineError, LookupError):
    """-ENOENT: the instrument or order named does not exist."""


class EngineInvalidError(EngineError, ValueError):
    """-EINVAL: an argument is out of range (side, account, capacity)."""


class EngineMemoryError(EngineError, MemoryError):
    """-ENOMEM: the engine could not allocate."""


class EngineInvariantError(EngineError, AssertionError):
    """eng_check() found a broken internal invariant."""


def _check_rc(rc: int, what: str) -> int:
    """Returns rc if it is >= 0, else raises the exception type that its -errno stands for."""
    if rc >= 0:
        return rc
    if rc == -errno.ENOENT:
        raise EngineNotFoundError(f"{what}: not found")
    if rc == -errno.EINVAL:
        raise EngineInvalidError(f"{what}: invalid argument")
    if rc == -errno.ENOMEM:
        raise EngineMemoryError(f"{what}: out of memory")
    raise EngineError(f"{what}: error {rc}")


class Engine:
    """One matching engine with capacities fixed at construction (all memory prefaulted)."""

    def __init__(self, max_orders: int = 100_000, max_levels: int = 10_000, max_instruments: int = 16,
                 max_accounts: int = 64) -> None:
        self._eng: Any = None
        for name, value in (("max_orders", max_orders), ("max_levels", max_levels),
                            ("max_instruments", max_instruments), ("max_accounts", max_accounts)):
            if not isinstance(value, int) or not 0 < value < 2**32:
                raise ValueError(f"{name} must be an int in 1..2**32-1, got {value!r}")
        cfg = ffi.new("eng_config_t *", {"max_orders": max_orders, "max_levels": max_levels,
                                         "max_instruments": max_instruments, "max_accounts": max_accounts})
        out = ffi.new("eng_engine_t **")
        _check_rc(lib.eng_create(cfg, out), "eng_create")
        self._eng = out[0]
        self.max_orders = max_orders
        self.max_accounts = max_accounts

    # ---- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        if self._eng is not None:
            lib.eng_destroy(self._eng)
            self._eng = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    @property
    def handle(self) -> Any:
        """The cffi eng_engine_t * (for C benchmarks that drive the engine directly); valid until close()."""
        return self._h

    @property
    def _h(self) -> Any:
        if self._eng is None:
            raise EngineError("engine is closed")
        return self._eng

    # ---- commands ---------------------------------------------------------------------------------
    def submit_records(self, records_in: np.ndarray) -> np.ndarray:
        """Bulk path: an array of 96-byte command records in, a fresh array of event records
        (dtype V96) out. No per-record Python work."""
        cmds = np.ascontiguousarray(records_in)
        if cmds.dtype.itemsize != records.RECORD_SIZE:
            raise ValueError(f"command records must be {records.RECORD_SIZE} bytes, got {cmds.dtype.itemsize}")
        h = self._h
        lib.eng_clear_events(h)
        n = cmds.reshape(-1).shape[0]
        processed = ffi.new("size_t *")
        rc = lib.eng_submit(h, ffi.cast("const eng_cmd_t *", ffi.from_buffer(cmds)), n, processed)
        count = ffi.new("size_t *")
        ptr = lib.eng_events(h, count)
        out = np.frombuffer(ffi.buffer(ptr, count[0] * records.RECORD_SIZE), dtype=records.RECORD_DTYPE).copy() \
            if count[0] else np.zeros(0, dtype=records.RECORD_DTYPE)
        lib.eng_clear_events(h)
        _check_rc(rc, f"eng_submit (processed {processed[0]} of {n})")
        return out

    def submit(self, commands: Iterable[Command]) -> list[Event]:
        """Command Structs in, their events out, in order."""
        recs = records.encode_commands(commands)
        if len(recs) == 0:
            return []
        return records.decode_events(self.submit_records(recs))

    # ---- queries ----------------------------------------------------------------------------------
    def depth(self, instrument_id: int, side: int, max_levels: int = 64) -> list[tuple[int, int, int]]:
        """(price, displayed qty, order count) per level of one side, best first."""
        buf = ffi.new("eng_level_info_t[]", max(1, max_levels))
        n = _check_rc(lib.eng_book_depth(self._h, instrument_id, side, buf, max_levels), "eng_book_depth")
        return [(int(buf[i].price), int(buf[i].qty), int(buf[i].order_count)) for i in range(n)]

    def orders(self, instrument_id: int, side: int) -> list[dict[str, int]]:
        """Orders of one side in book order; side 0 lists the waiting stops in acceptance order."""
        cap = max(1, self.stats()["orders_live"])
        buf = ffi.new("eng_order_info_t[]", cap)
        n = _check_rc(lib.eng_book_orders(self._h, instrument_id, side, buf, cap), "eng_book_orders")
        return [records.struct_to_dict(buf[i]) for i in range(n)]

    def order(self, order_id: int) -> dict[str, int] | None:
        """A live order by id, or None."""
        info = ffi.new("eng_order_info_t *")
        rc = lib.eng_order_info(self._h, order_id, info)
        if rc == -errno.ENOENT:
            return None
        _check_rc(rc, "eng_order_info")
        return records.struct_to_dict(info[0])

    def position(self, account_id: int, instrument_id: int) -> dict[str, int]:
        """position, open_buy_qty, open_sell_qty, max_position of one account on one instrument."""
        info = ffi.new("eng_position_info_t *")
        _check_rc(lib.eng_position(self._h, account_id, instrument_id, info), "eng_position")
        return records.struct_to_dict(info[0])

    def instrument(self, instrument_id: int) -> dict[str, int] | None:
        """Configuration, risk limits, phase and last trade of an instrument, or None."""
        info = ffi.new("eng_instrument_info_t *")
        rc = lib.eng_instrument_info(self._h, instrument_id, info)
        if rc == -errno.ENOENT:
            return None
        _check_rc(rc, "eng_instrument_info")
        return records.struct_to_dict(info[0])

    def state_hash(self) -> int:
        return int(lib.eng_state_hash(self._h))

    def check(self) -> None:
        """Raises EngineInvariantError naming the first broken invariant, if any."""
        rc = lib.eng_check(self._h)
        if rc != 0:
            raise EngineInvariantError(f"eng_check {rc}: {ffi.string(lib.eng_check_describe(rc)).decode()}")

    def stats(self) -> dict[str, int]:
        st = ffi.new("eng_stats_t *")
        lib.eng_get_stats(self._h, st)
        return records.struct_to_dict(st[0])
