"""Best-execution monitoring, live: the measures of measures.py computed incrementally from the
event log, per venue and per strategy, with alerts when a measure leaves its configured band.

Feed it raw event records in journal order (``feed``; tail.EventTail follows a live journal).
State carried between batches: the book's live levels per instrument (bbo.LevelBook, as quotes.py),
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

import math
import time
import tomllib
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from gateway.control import protocol
from gateway.small_files import read_small_text
from native import records
from trading.tca import codes
from trading.tca.bbo import LevelBook
from trading.tca.monitor_batch import BatchMids, resolve_at, running_sum
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


def _number(b: dict[str, Any], key: str, default: float, where: str) -> float:
    """A band bound: a TOML number (not a string, not a boolean), never NaN (a NaN bound compares
    false with every value, so the band would never alert and nothing would say so)."""
    value = b.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TcaInputError(f"{where}.{key}: a number, got {value!r}")
    return float(value)


def _band(b: object, where: str) -> Band:
    if not isinstance(b, dict):
        raise TcaInputError(f"{where}: a table ([[bands]]), got {b!r}")
    unknown = set(b) - {"measure", "scope", "key", "low", "high", "min_shares", "level"}
    if unknown:
        raise TcaInputError(f"{where}: unknown keys {sorted(unknown)}")
    if b.get("measure") not in MEASURES:
        raise TcaInputError(f"{where}.measure: one of {', '.join(MEASURES)}, got {b.get('measure')!r}")
    if b.get("scope") not in ("venue", "strategy"):
        raise TcaInputError(f"{where}.scope: 'venue' or 'strategy', got {b.get('scope')!r}")
    low, high = _number(b, "low", float("-inf"), where), _number(b, "high", float("inf"), where)
    if not low < high:
        raise TcaInputError(f"{where}: low {low} must be below high {high}")
    min_shares = b.get("min_shares", 0)
    if isinstance(min_shares, bool) or not isinstance(min_shares, int) or min_shares < 0:
        raise TcaInputError(f"{where}.min_shares: a whole number >= 0, got {min_shares!r}")
    for key in ("key", "level"):
        if key in b and not (isinstance(b[key], str) and b[key]):
            raise TcaInputError(f"{where}.{key}: a non-empty string, got {b[key]!r}")
    return Band(b["measure"], b["scope"], str(b.get("key", "*")), low, high, min_shares, str(b.get("level", "warn")))


def load_bands(path: str) -> list[Band]:
    """[[bands]] tables of a TOML file; TcaInputError names a bad entry."""
    try:
        data = tomllib.loads(read_small_text(path))
    except (OSError, ValueError) as exc:     # unreadable, not a small regular file, not UTF-8, not TOML
        raise TcaInputError(f"bands file {path}: {exc}") from exc
    bands = data.get("bands", [])
    if not isinstance(bands, list):
        raise TcaInputError(f"bands file {path}: 'bands' must be an array of tables ([[bands]]), got {bands!r}")
    out = [_band(b, f"{path} bands[{i}]") for i, b in enumerate(bands)]
    if not out:
        raise TcaInputError(f"bands file {path}: no [[bands]] entries")
    return out


class _Walk:
    """What one batch's walk found: its fills (trade row * 2 + side: 0 buy, 1 sell) with their
    order's strategy and arrival mid, the strategies touched, and the market orders that ended
    (strategy, shares ordered, shares executed), all in event order."""

    def __init__(self, trades: np.ndarray, tv: np.ndarray) -> None:
        self.trades, self.tv = trades, tv          # the batch's TRADE event indices and records
        self.codes: list[int] = []
        self.strategy: list[str] = []
        self.mid0: list[float] = []
        self.strategies: set[str] = set()
        self.market_ends: list[tuple[str, int, int]] = []
        self.taker = self.s = self.q = self.px = np.zeros(0, np.int64)

    def fill(self, code: int, strategy: str, mid0: float) -> None:
        self.codes.append(code)
        self.strategy.append(strategy)
        self.mid0.append(mid0)
        self.strategies.add(strategy)


@dataclass
class BestExecutionMonitor:
    ref: Reference
    bands: list[Band]
    publish: Callable[[bytes, dict[str, Any]], None] = lambda topic, body: None
    accs: dict[tuple[str, str], _Acc] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    fills: int = 0
    _books: dict[int, LevelBook] = field(default_factory=dict)
    _strategy_of: dict[int, str] = field(default_factory=dict)
    _mid_now: dict[int, float] = field(default_factory=dict)
    _orders: dict[int, tuple[str, int, float, int, int, int]] = field(default_factory=dict)
    _pending: deque[tuple[int, int, str, int, int, int]] = field(default_factory=deque)
    _breached: set[tuple[Band, str]] = field(default_factory=set)

    def _acc(self, scope: str, key: str) -> _Acc:
        a = self.accs.get((scope, key))
        if a is None:
            a = self.accs[(scope, key)] = _Acc()
        return a

    def _strategy(self, account: int) -> str:
        name = self._strategy_of.get(account)
        if name is None:
            name = self._strategy_of[account] = self.ref.account(account).strategy
        return name

    def feed(self, batch: np.ndarray) -> list[dict[str, Any]]:
        """Applies a batch of event records; returns the alerts it raised. The order book, the
        live orders and the fills are walked in event order; the sums and the markouts are then
        added for the whole batch (monitor_batch.py: the same numbers as one event at a time)."""
        recs = np.ascontiguousarray(batch).view(records.RECORD_DTYPE).reshape(-1)
        if len(recs) == 0:
            return []
        hdr = recs.view(records.dtype_of("eng_evt_hdr_t"))
        types, ts, insts = (np.ascontiguousarray(hdr[f]) for f in ("type", "ts_ns", "instrument_id"))
        mids = BatchMids(self._books, self._mid_now, recs, types, insts)
        walk = self._walk(recs, types, insts, mids)
        self._add_fills(walk)
        self._add_markouts(walk, ts, insts, mids)
        mids.commit()
        self.events += len(recs)
        touched = {("strategy", name) for name in walk.strategies}
        if walk.strategies:
            touched.add(("venue", self.ref.venue_name))
        return self._check(touched, int(ts[-1]))

    def _walk(self, recs: np.ndarray, types: np.ndarray, insts: np.ndarray, mids: BatchMids) -> _Walk:
        """The order events of a batch in order: acceptances, fills, and ends of orders."""
        acc = np.flatnonzero(types == codes.EVT_ACCEPTED)
        av = recs[acc].view(records.EVT_DTYPES[codes.EVT_ACCEPTED])
        a_mid = mids.before(insts[acc], acc).tolist()
        a_oid, a_acct, a_side, a_type, a_qty = (av[f].tolist() for f in ("order_id", "account_id", "side", "ord_type", "qty"))
        tr = np.flatnonzero(types == codes.EVT_TRADE)
        tv = recs[tr].view(records.EVT_DTYPES[codes.EVT_TRADE])
        t_buy, t_sell, t_q, t_bl, t_sl = (tv[f].tolist() for f in ("buy_order_id", "sell_order_id", "qty",
                                                                      "buy_leaves_qty", "sell_leaves_qty"))
        ends = np.flatnonzero((types == codes.EVT_CANCELLED) | (types == codes.EVT_EXPIRED))
        cv = recs[ends].view(records.EVT_DTYPES[codes.EVT_CANCELLED])     # order_id: same place in EXPIRED
        c_oid, c_leaves = cv["order_id"].tolist(), cv["leaves_qty"].tolist()
        walk = _Walk(tr, tv)
        orders = self._orders
        ia = it = ic = 0
        for typ in types[np.sort(np.concatenate((acc, tr, ends)))].tolist():
            if typ == codes.EVT_ACCEPTED:
                s = 1 if a_side[ia] == codes.SIDE_BUY else -1
                orders[a_oid[ia]] = (self._strategy(a_acct[ia]), s, a_mid[ia], a_type[ia], a_qty[ia], 0)
                ia += 1
            elif typ == codes.EVT_TRADE:
                for side_ix, oid, leaves in ((0, t_buy[it], t_bl[it]), (1, t_sell[it], t_sl[it])):
                    info = orders.get(oid)
                    if info is None:
                        continue
                    walk.fill(2 * it + side_ix, info[0], info[2])
                    if leaves == 0:
                        self._end(oid, info[5] + t_q[it], walk)
                    else:
                        orders[oid] = (*info[:5], info[5] + t_q[it])
                it += 1
            else:
                if typ == codes.EVT_EXPIRED or c_leaves[ic] == 0:
                    info = orders.get(c_oid[ic])
                    if info is not None:
                        self._end(c_oid[ic], info[5], walk)
                        walk.strategies.add(info[0])
                ic += 1
        return walk

    def _end(self, oid: int, filled: int, walk: _Walk) -> None:
        info = self._orders.pop(oid, None)
        if info is not None and info[3] == codes.ORD_MARKET:
            walk.market_ends.append((info[0], info[4], filled))

    def _keys(self, strategy: np.ndarray) -> list[tuple[tuple[str, str], np.ndarray]]:
        """(venue key, every row), then (strategy key, its rows) for each strategy present; none
        for no rows (a key's sums start at its first fill, end or markout)."""
        if len(strategy) == 0:
            return []
        out = [(("venue", self.ref.venue_name), np.ones(len(strategy), bool))]
        return out + [(("strategy", name), strategy == name) for name in sorted(set(strategy.tolist()))]

    def _add_fills(self, walk: _Walk) -> None:
        """Per key: shares, fees, q m_o and s q (p - m_o) of the batch's fills; ended market
        orders' ordered and executed shares."""
        fees, scale = self.ref.fees, self.ref.price_scale
        code = np.array(walk.codes, np.int64)
        t = code >> 1
        sell = (code & 1) == 1
        s = np.where(sell, -1, 1)
        q, px, aggr = walk.tv["qty"][t], walk.tv["price"][t], walk.tv["aggressor_side"][t]
        taker = aggr == np.where(sell, codes.SIDE_SELL, codes.SIDE_BUY)
        fee = q * np.where(taker, fees.taker_per_share, np.where(aggr != 0, fees.maker_per_share, fees.auction_per_share))
        mid0 = np.array(walk.mid0, np.float64)
        quoted = ~np.isnan(mid0)
        q_mid, slip = q * mid0 / scale, s * q * (px - mid0) / scale
        walk.taker = taker
        walk.s, walk.q, walk.px = s, q, px
        for key, m in self._keys(np.array(walk.strategy, object)):
            a = self._acc(*key)
            a.shares, a.fees = running_sum(a.shares, q[m]), running_sum(a.fees, fee[m])
            a.q_mid, a.slip = running_sum(a.q_mid, q_mid[m & quoted]), running_sum(a.slip, slip[m & quoted])
        self.fills += len(code)
        if walk.market_ends:
            strat, oqty, filled = zip(*walk.market_ends)
            o_q, f_q = np.array(oqty, np.float64), np.array(filled, np.float64)
            for key, m in self._keys(np.array(strat, object)):
                a = self._acc(*key)
                a.mkt_qty, a.mkt_filled = running_sum(a.mkt_qty, o_q[m]), running_sum(a.mkt_filled, f_q[m])

    def _add_markouts(self, walk: _Walk, ts: np.ndarray, insts: np.ndarray, mids: BatchMids) -> None:
        """Queues the batch's taker fills for their 1 s markout behind the ones still waiting,
        then resolves every one whose horizon a later event's stamp passed: at the first event
        stamped after it, the mid then (before that event) is the mid at the horizon."""
        p = self._pending
        tk = np.flatnonzero(walk.taker)
        ev = walk.trades[np.array(walk.codes, np.int64)[tk] >> 1]
        due = np.concatenate((np.array([x[0] for x in p], np.int64), ts[ev] + MARKOUT_NS))
        queued = np.concatenate((np.full(len(p), -1, np.int64), ev))
        iid = np.concatenate((np.array([x[1] for x in p], np.int64), insts[ev].astype(np.int64)))
        strat = np.array([x[2] for x in p] + [walk.strategy[k] for k in tk.tolist()], object)
        s = np.concatenate((np.array([x[3] for x in p], np.int64), walk.s[tk]))
        px = np.concatenate((np.array([x[4] for x in p], np.int64), walk.px[tk]))
        q = np.concatenate((np.array([x[5] for x in p], np.int64), walk.q[tk]))
        at = resolve_at(due, queued, ts)
        done = at < len(ts)
        mid = np.full(len(due), np.nan)
        mid[done] = mids.before(iid[done], at[done])
        use = done & ~np.isnan(mid)
        x = q * s * (mid - px) / px * 1e4
        for key, m in self._keys(strat):
            a = self._acc(*key)
            a.mo_q, a.mo_x = running_sum(a.mo_q, q[m & use]), running_sum(a.mo_x, x[m & use])
        wait = ~done
        self._pending = deque(zip(due[wait].tolist(), iid[wait].tolist(), strat[wait].tolist(), s[wait].tolist(),
                                  px[wait].tolist(), q[wait].tolist()))

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
