"""A MarketDay turned into the engine commands that replay it, computed once, before any strategy.

Every message becomes one or more engine commands (FIDELITY.md, "Historical messages"): an add is a
NEW_ORDER of the historical account, a partial cancel a REDUCE, a delete a CANCEL, a visible
execution an EXECUTE of the named order (booked against the contra account), a hidden execution
or a cross a TIME command that carries the print, and a message naming quantity the book does not
hold (ids the file never added, more than the order has) a SEED_LEVEL that removes or adds
anonymous liquidity at that level. With a LOBSTER order-book file, levels that come into view
from beyond the file's depth are taken from it (SEED_LEVEL), exactly as ../shared/data/README.md
prescribes. Building keeps a shadow of the book (no strategy touches it) and records every command with its kind, side, price and size, so the replay can rewrite executions
when a strategy order may stand ahead of them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from native import records
from native.batch import CommandBuffer
from native.records import OrdType, Phase, Tif
from trading.replay.data import BUY, SELL, DataError, Kind, MarketDay
from trading.replay.lobster import levels_of

INSTRUMENT = 1
HIST_ACCOUNT = 0        # every historical order and every seeded level
CONTRA_ACCOUNT = 1      # the aggressing side of historical executions
HIST_STP_GROUP = 1      # lets a hidden execution skip historical orders (FIDELITY.md)
RESERVED_IDS = 1 << 62  # ids at or above this belong to strategies (bit 62) and seeds (bit 63)
MAX_ACCOUNTS = 8


class Cmd(enum.IntEnum):
    """What a history command stands for (the replay rewrites some of them)."""
    SETUP = 0
    ADD = 1
    REDUCE = 2
    CANCEL = 3
    EXECUTE = 4
    HIDDEN = 5
    PRINT = 6
    SEED = 7
    PHASE = 8


@dataclass
class History:
    """The command stream of one day (records without seq) and a column per command."""
    day: MarketDay
    records: np.ndarray
    ts_ns: np.ndarray
    kind: np.ndarray
    side: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    order_id: np.ndarray
    message: np.ndarray     # index of the message it came from (-1: set-up)
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.ts_ns.shape[0])


class _Builder:
    """Builds the command stream while keeping a shadow of the book it produces (no strategy):
    the live historical orders per level in queue order and the seeded quantity per level. The
    shadow is exact because without a strategy nothing but these commands touches the book."""

    def __init__(self, day: MarketDay) -> None:
        self.day = day
        self.buf = CommandBuffer(capacity=2 * len(day) + 64)
        self.meta: list[tuple[int, int, int, int, int, int]] = []   # kind, side, price, qty, order_id, message
        self.live: dict[int, list[int]] = {}                # historical id -> [side, price, leaves]
        self.at: dict[tuple[int, int], list[int]] = {}      # (side, price) -> live ids, front first
        self.seeded: dict[tuple[int, int], int] = {}        # (side, price) -> seeded quantity
        self.counts: dict[str, int] = {}
        self.ts = 0
        self.message = -1

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def add(self, cmd: Cmd, kind: str, m_side: int = 0, m_price: int = 0, m_qty: int = 0, m_order_id: int = 0,
            **fields: int) -> None:
        """One command (fields as records.encode_commands takes them) and its m_* description."""
        self.buf.append(kind, instrument_id=INSTRUMENT, ts_ns=self.ts, **fields)
        self.meta.append((int(cmd), m_side, m_price, m_qty, m_order_id, self.message))

    # ---- the shadow book --------------------------------------------------------------------
    def new_order(self, oid: int, side: int, price: int, qty: int) -> None:
        self.live[oid] = [side, price, qty]
        self.at.setdefault((side, price), []).append(oid)
        self.add(Cmd.ADD, "NEW_ORDER", side, price, qty, oid, order_id=oid, side=side, price=price, qty=qty,
                 ord_type=int(OrdType.LIMIT), tif=int(Tif.GTC), account_id=HIST_ACCOUNT, stp_group=HIST_STP_GROUP)

    def take(self, oid: int, qty: int) -> int:
        """Takes min(qty, leaves) off a live order in the shadow; returns what was taken."""
        order = self.live[oid]
        taken = min(qty, order[2])
        order[2] -= taken
        if order[2] == 0:
            del self.live[oid]
            ids = self.at[(order[0], order[1])]
            ids.remove(oid)
            if not ids:
                del self.at[(order[0], order[1])]
        return taken

    def seed(self, side: int, price: int, qty: int) -> None:
        if qty:
            self.add(Cmd.SEED, "SEED_LEVEL", side, price, qty, side=side, price=price, qty=qty,
                     account_id=HIST_ACCOUNT, stp_group=HIST_STP_GROUP)
            left = self.seeded.get((side, price), 0) + qty
            if left > 0:
                self.seeded[(side, price)] = left
            else:
                self.seeded.pop((side, price), None)

    def level_qty(self, side: int, price: int) -> int:
        return self.seeded.get((side, price), 0) + sum(self.live[i][2] for i in self.at.get((side, price), ()))

    def reduce_level(self, side: int, price: int, qty: int) -> None:
        """Takes qty off a level: seeded quantity first (newest first), then named orders from the
        back of the queue (the rule under which the LOBSTER samples reproduce every row)."""
        from_seeds = min(qty, self.seeded.get((side, price), 0))
        self.seed(side, price, -from_seeds)
        qty -= from_seeds
        for oid in reversed(list(self.at.get((side, price), ()))):
            if qty <= 0:
                break
            taken = self.take(oid, qty)
            self.add(Cmd.REDUCE, "REDUCE", side, price, taken, oid, order_id=oid, qty=taken)
            qty -= taken
        if qty > 0:
            self.count("quantity removed from levels that did not hold it", qty)

    # ---- per message --------------------------------------------------------------------------
    def message_commands(self, i: int) -> None:
        d = self.day
        kind, oid, qty, price, side = int(d.kind[i]), int(d.order_id[i]), int(d.qty[i]), int(d.price[i]), int(d.side[i])
        self.ts, self.message = int(d.ts_ns[i]), i
        if oid >= RESERVED_IDS:
            raise DataError(d.path, int(d.row[i]), f"order id {oid} is in the range reserved for strategies and seeds")
        if kind == Kind.ADD:
            if oid in self.live:
                raise DataError(d.path, int(d.row[i]), f"order id {oid} added while it is still live")
            self.new_order(oid, side, price, qty)
        elif kind in (Kind.REDUCE, Kind.DELETE, Kind.EXECUTE):
            order = self.live.get(oid)
            if order is None:
                self.count("messages about ids the file never added")
                self.reduce_level(side, price, qty)
                return
            o_side, o_price, leaves = order
            if kind == Kind.DELETE:
                self.add(Cmd.CANCEL, "CANCEL", o_side, o_price, leaves, oid, order_id=oid)
                taken = self.take(oid, leaves)
            elif kind == Kind.REDUCE:
                self.add(Cmd.REDUCE, "REDUCE", o_side, o_price, qty, oid, order_id=oid, qty=qty)
                taken = self.take(oid, qty)
            else:
                self.add(Cmd.EXECUTE, "EXECUTE", o_side, o_price, qty, oid, order_id=oid, qty=qty,
                         contra_account_id=CONTRA_ACCOUNT)
                taken = self.take(oid, qty)
            if taken != qty:
                # the level loses exactly the message's size: the difference is anonymous liquidity
                self.count("messages whose size differs from the order's leaves")
                if taken < qty:
                    self.reduce_level(side, price, qty - taken)
                else:
                    self.seed(side, price, taken - qty)
        elif kind == Kind.MODIFY:
            order = self.live.get(oid)
            if order is None:
                self.count("modifies of ids the file never added (applied as adds)")
                self.new_order(oid, side, price, qty)
            elif price == order[1] and qty <= order[2]:
                if qty < order[2]:
                    cut = order[2] - qty
                    self.add(Cmd.REDUCE, "REDUCE", order[0], price, cut, oid, order_id=oid, qty=cut)
                    self.take(oid, cut)
            else:
                o_side = order[0]
                self.add(Cmd.CANCEL, "CANCEL", o_side, order[1], order[2], oid, order_id=oid)
                self.take(oid, order[2])
                self.new_order(oid, o_side, price, qty)
        elif kind == Kind.HIDDEN:
            self.add(Cmd.HIDDEN, "TIME", side, price, qty, oid)
        elif kind == Kind.CROSS:
            self.add(Cmd.PRINT, "TIME", side, price, qty, oid)
        elif kind == Kind.HALT:
            if price == -1:
                self.add(Cmd.PHASE, "SET_PHASE", phase=int(Phase.HALTED))
            elif price == 1:
                self.add(Cmd.PHASE, "SET_PHASE", phase=int(Phase.PRE_OPEN))
                self.add(Cmd.PHASE, "SET_PHASE", phase=int(Phase.CONTINUOUS))
            else:
                self.add(Cmd.PRINT, "TIME")

    # ---- levels that come into view from beyond the file's depth (LOBSTER README) -------------
    def sync_row(self, i: int) -> None:
        book = self.day.visible_book
        assert book is not None
        n = self.day.depth
        want, prev = _sides(levels_of(book[i])), _sides(levels_of(book[i - 1]))
        for side in (SELL, BUY):
            boundary = prev[side][-1][0] if len(prev[side]) == n else None
            for p, q in want[side]:
                if _beyond(side, p, boundary):
                    self.sync_level(side, p, q)
            if boundary is not None and len(want[side]) == n:
                worst, listed = want[side][-1][0], {p for p, _ in want[side]}
                held = {p for (s, p) in self.at if s == side} | {p for (s, p) in self.seeded if s == side}
                for p in sorted(held):
                    if _beyond(side, p, boundary) and not _beyond(side, p, worst) and p not in listed:
                        self.sync_level(side, p, 0)

    def sync_level(self, side: int, price: int, qty: int) -> None:
        have = self.level_qty(side, price)
        if have == qty:
            return
        self.count("levels taken from the order-book file")
        if have < qty:
            self.seed(side, price, qty - have)
        else:
            self.reduce_level(side, price, have - qty)


def _sides(levels: list[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {SELL: [], BUY: []}
    for s, p, q in levels:
        out[s].append((p, q))
    return out


def _beyond(side: int, price: int, boundary: int | None) -> bool:
    if boundary is None:
        return False
    return price < boundary if side == BUY else price > boundary


def build_history(day: MarketDay) -> History:
    """The day's engine commands: set-up (instrument, phases, the standing book), then each message."""
    b = _Builder(day)
    first = day.first_message
    b.ts = int(day.ts_ns[first]) if first < len(day) else int(day.ts_ns[0])
    trading = np.isin(day.kind, [Kind.ADD, Kind.EXECUTE, Kind.REDUCE, Kind.DELETE])
    ref = int(day.price[trading][0]) if trading.any() else 10_000 * day.tick_size
    ref -= ref % day.tick_size
    b.add(Cmd.SETUP, "ADD_INSTRUMENT", tick_size=day.tick_size, lot_size=day.lot_size, reference_price=ref,
          market_collar_ticks=1 << 40)
    b.add(Cmd.SETUP, "SET_PHASE", phase=int(Phase.PRE_OPEN))
    for side, price, qty in day.initial_levels:
        b.seed(side, price, qty)
    b.add(Cmd.SETUP, "SET_PHASE", phase=int(Phase.CONTINUOUS))
    sync = np.zeros(len(day), dtype=bool)
    if day.visible_book is not None and len(day) > 1:
        prices = day.visible_book[:, [c for k in range(day.depth) for c in (4 * k, 4 * k + 2)]]
        sync[1:] = np.any(prices[1:] != prices[:-1], axis=1)
    for i in range(first, len(day)):
        b.message_commands(i)
        if sync[i]:
            b.sync_row(i)
    meta = np.asarray(b.meta, dtype=np.int64).reshape(-1, 6)
    recs = b.buf.records().copy()
    hdr = recs.view(records.dtype_of("eng_cmd_hdr_t"))
    hist = History(day=day, records=recs, ts_ns=hdr["ts_ns"].astype(np.int64), kind=meta[:, 0].astype(np.uint8),
                   side=meta[:, 1].astype(np.uint8), price=meta[:, 2], qty=meta[:, 3],
                   order_id=meta[:, 4].astype(np.uint64), message=meta[:, 5], counts=dict(b.counts))
    hist.counts.update(day.notes)
    return hist
