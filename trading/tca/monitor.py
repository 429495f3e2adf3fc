"""Best-execution monitoring, live: the measures of measures.py computed incrementally from the
event log, per venue and per strategy, with alerts when a measure leaves its configured band.

Feed it raw event records in journal order (``feed``; tail.EventTail follows a live journal).
State carried between batches: the book's displayed levels per instrument (the BBO, as quotes.py),
the live orders (account, side, arrival mid, far touch at arrival, type), running sums per key, and
fills waiting for their markout horizon. Measures (same formulas as the batch analysis):
- slippage_arrival_bps = sum s q (p - m_o) / sum q m_o
- effective_spread_bps = 2 sum s q (p - m_o) / sum q m_o
- markout_1s_bps = sum q s (m(t + 1 s) - p) / p x 1e4 / sum q (taker fills), resolved when the
  first event stamped after t + 1 s arrives (the mid then is the mid at t + 1 s)
- fill_rate_market = shares executed / shares ordered over market orders that ended
- fee_bps = fees / sum q m_o x 1e4
A Band names a measure, a scope ("venue" or "strategy"), a key ("*" for every key of the scope),
bounds and the sample (shares) needed before it is judged. Alerts are edge-triggered: one when a
measure leaves its band, one when it comes back. They go to `publish(topic, body)`, with the
control plane's alert topic and body shape (gateway/control/protocol.py TOPIC_ALERT:
{ts_ns, level, kind, message, ...}); ``zmq_publisher`` binds a ZeroMQ PUB socket for it.
"""
from __future__ import annotations

import time
import tomllib
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from gateway.control import protocol
from native import records
from trading.tca import codes
from trading.tca.errors import TcaInputError
from trading.tca.reference import Reference

MEASURES = ("slippage_arrival_bps", "effective_spread_bps", "markout_1s_bps", "fill_rate_market", "fee_bps")
MARKOUT_NS = 1_000_000_000


@dataclass(frozen=True)
class Band:
    measure: str
    scope: str              # "venue" | "strategy"
    key: str = "*"
    low: float = float("-inf")
    high: float = float("inf")
    min_shares: int = 0
    level: str = "warn"


@dataclass
class _Acc:
    shares: float = 0.0
    q_mid: float = 0.0
    slip: float = 0.0
    fees: float = 0.0
    mo_q: float = 0.0
    mo_x: float = 0.0
    mkt_qty: float = 0.0
    mkt_filled: float = 0.0

    def value(self, measure: str) -> float:
        if measure == "slippage_arrival_bps":
            return self.slip / self.q_mid * 1e4 if self.q_mid else float("nan")
        if measure == "effective_spread_bps":
            return 2 * self.slip / self.q_mid * 1e4 if self.q_mid else float("nan")
        if measure == "markout_1s_bps":
            return self.mo_x / self.mo_q if self.mo_q else float("nan")
        if measure == "fill_rate_market":
            return self.mkt_filled / self.mkt_qty if self.mkt_qty else float("nan")
        if measure == "fee_bps":
            return self.fees / self.q_mid * 1e4 if self.q_mid else float("nan")
        raise KeyError(measure)


def load_bands(path: str) -> list[Band]:
    """[[bands]] tables of a TOML file; TcaInputError names a bad entry."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TcaInputError(f"bands file {path}: {exc}") from exc
    out = []
    for i, b in enumerate(data.get("bands", [])):
        where = f"{path} bands[{i}]"
        unknown = set(b) - {"measure", "scope", "key", "low", "high", "min_shares", "level"}
        if unknown:
            raise TcaInputError(f"{where}: unknown keys {sorted(unknown)}")
        if b.get("measure") not in MEASURES:
            raise TcaInputError(f"{where}.measure: one of {', '.join(MEASURES)}, got {b.get('measure')!r}")
        if b.get("scope") not in ("venue", "strategy"):
            raise TcaInputError(f"{where}.scope: 'venue' or 'strategy', got {b.get('scope')!r}")
        try:
            out.append(Band(b["measure"], b["scope"], str(b.get("key", "*")), float(b.get("low", float("-inf"))),
                            float(b.get("high", float("inf"))), int(b.get("min_shares", 0)), str(b.get("level", "warn"))))
        except (TypeError, ValueError) as exc:
            raise TcaInputError(f"{where}: {exc}") from exc
    if not out:
        raise TcaInputError(f"bands file {path}: no [[bands]] entries")
    return out


@dataclass
class BestExecutionMonitor:
    ref: Reference
    bands: list[Band]
    publish: Callable[[bytes, dict[str, Any]], None] = lambda topic, body: None
    accs: dict[tuple[str, str], _Acc] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    fills: int = 0
    _books: dict[int, tuple[dict[int, int], dict[int, int], list[int]]] = field(default_factory=dict)
    _orders: dict[int, tuple[str, int, float, int, int, int]] = field(default_factory=dict)
    _pending: deque[tuple[int, int, str, int, int, int]] = field(default_factory=deque)
    _breached: set[tuple[Band, str]] = field(default_factory=set)

    def _acc(self, scope: str, key: str) -> _Acc:
        a = self.accs.get((scope, key))
        if a is None:
            a = self.accs[(scope, key)] = _Acc()
        return a

    def _mid(self, iid: int) -> float:
        book = self._books.get(iid)
        if book is None:
            return float("nan")
        bb, ba = book[2]
        return (bb + ba) / 2.0 if bb and ba else float("nan")

    def _resolve(self, now: int) -> None:
        """Markouts whose horizon passed before the event stamped `now`: the current mid is the
        mid at their horizon (every event stamped <= due has been applied)."""
        p = self._pending
        while p and p[0][0] < now:
            _, iid, strat, s, px, q = p.popleft()
            mid = self._mid(iid)
            if mid == mid:
                for key in (("venue", self.ref.venue_name), ("strategy", strat)):
                    a = self._acc(*key)
                    a.mo_q += q
                    a.mo_x += q * s * (mid - px) / px * 1e4

    def feed(self, batch: np.ndarray) -> list[dict[str, Any]]:
        """Applies a batch of event records; returns the alerts it raised."""
        recs = np.ascontiguousarray(batch).view(records.RECORD_DTYPE).reshape(-1)
        if len(recs) == 0:
            return []
        hdr = recs.view(records.dtype_of("eng_evt_hdr_t"))
        acc_v, tr_v = recs.view(records.EVT_DTYPES[codes.EVT_ACCEPTED]), recs.view(records.EVT_DTYPES[codes.EVT_TRADE])
        bl_v, cx_v = recs.view(records.EVT_DTYPES[codes.EVT_BOOK_LEVEL]), recs.view(records.EVT_DTYPES[codes.EVT_CANCELLED])
        types, tss, insts = hdr["type"].tolist(), hdr["ts_ns"].tolist(), hdr["instrument_id"].tolist()
        cols: dict[str, list[Any]] = {}
        for name, view, fields in (("a", acc_v, ("order_id", "account_id", "side", "ord_type", "qty")),
                                   ("t", tr_v, ("buy_order_id", "sell_order_id", "price", "qty",
                                                "aggressor_side", "buy_leaves_qty", "sell_leaves_qty")),
                                   ("b", bl_v, ("side", "price", "qty")),
                                   ("c", cx_v, ("order_id", "leaves_qty"))):
            for fld in fields:
                cols[f"{name}.{fld}"] = view[fld].tolist()
        fees = self.ref.fees
        venue = self.ref.venue_name
        touched: set[tuple[str, str]] = set()
        for k in range(len(types)):
            typ, ts, iid = types[k], tss[k], insts[k]
            if self._pending:
                self._resolve(ts)
            if typ == codes.EVT_BOOK_LEVEL:
                book = self._books.get(iid)
                if book is None:
                    book = self._books[iid] = ({}, {}, [0, 0])
                side, px, q = cols["b.side"][k], cols["b.price"][k], cols["b.qty"][k]
                levels = book[0] if side == 1 else book[1]
                best = book[2]
                if q > 0:
                    levels[px] = q
                    if side == 1 and px > best[0]:
                        best[0] = px
                    elif side != 1 and (best[1] == 0 or px < best[1]):
                        best[1] = px
                else:
                    levels.pop(px, None)
                    if side == 1 and px == best[0]:
                        best[0] = max(levels) if levels else 0
                    elif side != 1 and px == best[1]:
                        best[1] = min(levels) if levels else 0
            elif typ == codes.EVT_ACCEPTED:
                strat = self.ref.account(cols["a.account_id"][k]).strategy
                s = 1 if cols["a.side"][k] == codes.SIDE_BUY else -1
                mid = self._mid(iid)
                self._orders[cols["a.order_id"][k]] = (strat, s, mid, cols["a.ord_type"][k], cols["a.qty"][k], 0)
            elif typ == codes.EVT_TRADE:
                aggr = cols["t.aggressor_side"][k]
                px, q = cols["t.price"][k], cols["t.qty"][k]
                for oid, s, leaves, me in ((cols["t.buy_order_id"][k], 1, cols["t.buy_leaves_qty"][k], codes.SIDE_BUY),
                                           (cols["t.sell_order_id"][k], -1, cols["t.sell_leaves_qty"][k], codes.SIDE_SELL)):
                    info = self._orders.get(oid)
                    if info is None:
                        continue
                    strat, _, mid0, otype, oqty, filled = info
                    taker = aggr == me
                    fee = q * (fees.taker_per_share if taker else fees.maker_per_share if aggr else fees.auction_per_share)
                    for key in (("venue", venue), ("strategy", strat)):
                        a = self._acc(*key)
                        a.shares += q
                        a.fees += fee
                        if mid0 == mid0:
                            a.q_mid += q * mid0 / self.ref.price_scale
                            a.slip += s * q * (px - mid0) / self.ref.price_scale
                        touched.add(key)
                    if taker:
                        self._pending.append((ts + MARKOUT_NS, iid, strat, s, px, q))
                    self.fills += 1
                    if leaves == 0:
                        self._end(oid, filled + q)
                    else:
                        self._orders[oid] = (strat, s, mid0, otype, oqty, filled + q)
            elif typ in (codes.EVT_CANCELLED, codes.EVT_EXPIRED):
                oid = cols["c.order_id"][k]
                if typ == codes.EVT_EXPIRED or cols["c.leaves_qty"][k] == 0:
                    info = self._orders.get(oid)
                    if info is not None:
                        self._end(oid, info[5])
                        touched.add(("strategy", info[0]))
                        touched.add(("venue", venue))
        self.events += len(types)
        return self._check(touched, tss[-1])

    def _end(self, oid: int, filled: int) -> None:
        info = self._orders.pop(oid, None)
        if info is not None and info[3] == codes.ORD_MARKET:
            for key in (("venue", self.ref.venue_name), ("strategy", info[0])):
                a = self._acc(*key)
                a.mkt_qty += info[4]
                a.mkt_filled += filled

    def _check(self, touched: set[tuple[str, str]], ts: int) -> list[dict[str, Any]]:
        raised = []
        for band in self.bands:
            for scope, key in touched:
                if scope != band.scope or (band.key != "*" and band.key != key):
                    continue
                a = self.accs[(scope, key)]
                if a.shares < band.min_shares:
                    continue
                v = a.value(band.measure)
                if v != v:
                    continue
                out = v < band.low or v > band.high
                tag = (band, key)
                if out and tag not in self._breached:
                    self._breached.add(tag)
                    raised.append(self._alert(band, key, v, ts, "outside"))
                elif not out and tag in self._breached:
                    self._breached.discard(tag)
                    raised.append(self._alert(band, key, v, ts, "back inside"))
        return raised

    def _alert(self, band: Band, key: str, value: float, ts: int, what: str) -> dict[str, Any]:
        body = {"ts_ns": time.time_ns(), "level": band.level if what == "outside" else "info",
                "kind": "best_execution",
                "message": f"{band.scope} {key}: {band.measure} = {value:.3f} {what} band "
                           f"[{band.low}, {band.high}]",
                "scope": band.scope, "key": key, "measure": band.measure, "value": value,
                "low": band.low, "high": band.high, "engine_ts_ns": ts}
        self.alerts.append(body)
        self.publish(protocol.TOPIC_ALERT, body)
        return body

    def snapshot(self) -> dict[str, dict[str, float]]:
        """Current value of every measure per 'scope:key'."""
        return {f"{s}:{k}": {m: a.value(m) for m in MEASURES} | {"shares": a.shares}
                for (s, k), a in sorted(self.accs.items())}


def zmq_publisher(endpoint: str) -> tuple[Callable[[bytes, dict[str, Any]], None], Callable[[], None], str]:
    """(publish, close, bound endpoint) over a bound ZeroMQ PUB socket, messages [topic, msgpack
    body] as the control plane's PUB sends them. "tcp://HOST:*" binds a free port."""
    import zmq
    ctx: Any = zmq.Context.instance()
    sock = ctx.socket(zmq.PUB)
    try:
        sock.bind(endpoint)
    except zmq.ZMQError as exc:
        sock.close(0)
        raise TcaInputError(f"cannot bind {endpoint}: {exc}") from exc
    bound = sock.getsockopt(zmq.LAST_ENDPOINT).decode()

    def publish(topic: bytes, body: dict[str, Any]) -> None:
        sock.send_multipart([topic, protocol.encode(body)])

    return publish, lambda: sock.close(0), bound
