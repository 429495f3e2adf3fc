"""Per-fill and per-order cost measures, vectorised over a Tape. Conventions: s = +1 for a buy and
-1 for a sell; prices p in engine price units; costs positive when they hurt the trader; bps are
of the arrival mid; "mid" is the venue BBO midpoint (quotes.py: the NBBO of a one-venue market).

Per fill j of order o (quantity q_j at price p_j), with quotes from the event journal:
- m_o, bid_o, ask_o: the quote in force when the order arrived (before its command's events).
- m_j, touch_j: the mid and the far touch (ask for a buy, bid for a sell) in force when the
  trade's command arrived (for the aggressor that is its own arrival quote).
- effective spread (SEC Rule 605(a)(1), "effective spread"): 2 s (p_j - m_o); the share-weighted
  average over fills. Relative: / m_o x 1e4 bps.
- realised spread at h (Rule 605 as amended 2024: 15 s and 1 min): 2 s (p_j - m(t_j + h)).
- price improvement per share (Rule 605, marketable orders): buy ask_o - p_j, sell p_j - bid_o;
  > 0 improved, 0 at the quote, < 0 outside the quote.
- markout at h (bps, the trader's view, positive = the price moved their way after the fill):
  s (m(t_j + h) - p_j) / p_j x 1e4, h in MARKOUT_HORIZONS_NS (100 ms, 1 s, 10 s, 60 s).
  m(t_j + h) and with it the markout and the realised spread at h are undefined (NaN, left out
  of every average) where t_j + h lies beyond the tape's last event: the tape never reached that
  time, and the last mid it saw is not the mid h after the fill (a 3 s run's 10 s and 60 s
  markouts were its end-of-run mid under two names).
- explicit cost: fee per share by liquidity (reference.FeeSchedule) x q_j; negative is a rebate.

Implicit cost of an order against its arrival mid m_o, split so that the parts add up exactly to
s sum_j q_j (p_j - m_o) (the arrival slippage cost; Perold 1988, "The implementation shortfall:
paper versus reality", J. Portfolio Management 14(3), trading-cost term):
- timing   = s sum_j q_j (m_j - m_o)         the mid drifting between arrival and each fill;
- half-spread = s sum_taker q_j (touch_j - m_j) + s sum_maker,auction q_j (p_j - m_j)
              (paid crossing the spread; negative, i.e. earned, when providing liquidity);
- impact   = s sum_taker q_j (p_j - touch_j) the price paid beyond the touch (walking the book).
Where the book was one-sided when a trade's command arrived (no m_j), the fill's m_j is taken as
m_o: no timing part, the whole difference counts as half-spread, and the parts still add up.
Interval VWAP: the venue's volume-weighted price of the instrument between the order's arrival and
its last fill (or end); close: the instrument's last trade price of the tape.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trading.tca import npx

from trading.tca.quotes import mid_of
from trading.tca.reference import Reference
from trading.tca.tape import LIQ_AUCTION, LIQ_MAKER, LIQ_TAKER, Tape

NS = 1_000_000_000
MARKOUT_HORIZONS_NS: tuple[int, ...] = (NS // 10, NS, 10 * NS, 60 * NS)
REALISED_HORIZONS_NS: tuple[int, ...] = (15 * NS, 60 * NS)


def mid_prices(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Midpoint (float) where both sides are quoted (> 0), else NaN."""
    return np.where((bid > 0) & (ask > 0), (bid.astype(np.float64) + ask) / 2.0, np.nan)


def horizon_label(h_ns: int) -> str:
    return f"{h_ns // 1_000_000}ms" if h_ns < NS else f"{h_ns // NS}s"


@dataclass(frozen=True)
class FillMeasures:
    """Arrays aligned with tape.fills (see the module docstring for each formula)."""
    mid_arrival: np.ndarray        # m_o of the fill's order
    mid_before: np.ndarray         # m_j
    touch_before: np.ndarray       # touch_j
    effective_spread: np.ndarray   # price units per share
    realised_spread: dict[int, np.ndarray]
    price_improvement: np.ndarray  # price units per share (marketable orders' fills; NaN otherwise)
    markout_bps: dict[int, np.ndarray]
    mid_after: dict[int, np.ndarray]
    fee: np.ndarray                # currency


def _bid_ask_before(tape: Tape, instruments: np.ndarray, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The quote in force when each command seq arrived, per element, as (bid, ask) (0: empty)."""
    bid, ask = np.zeros(len(seqs), np.int64), np.zeros(len(seqs), np.int64)
    for iid, series in tape.quotes.items():
        m = instruments == iid
        if m.all():
            return series.bid_ask_before_seq(seqs)
        if m.any():
            bid[m], ask[m] = series.bid_ask_before_seq(seqs[m])
    return bid, ask


def _mids_at(tape: Tape, instruments: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """The mid after every event stamped <= ts, per element (NaN where none)."""
    if len(tape.quotes) == 1:
        (iid, series), = tape.quotes.items()
        return np.where(instruments == iid, series.mid_at_time(ts), np.nan)
    out = np.full(len(ts), np.nan)
    for iid, series in tape.quotes.items():
        m = instruments == iid
        if m.any():
            out[m] = series.mid_at_time(ts[m])
    return out


def _reach(tape: Tape) -> int:
    """The last time the tape saw: its last event's stamp, or a later quote where the tape is a
    window of a longer journal (its quotes run on past the window)."""
    quoted = [int(series.rows["ts"][-1]) for series in tape.quotes.values() if len(series.rows)]
    return max([tape.last_ts, *quoted])


def fill_measures(tape: Tape, ref: Reference) -> FillMeasures:
    f, o = tape.fills, tape.orders
    rows = f["order_row"]
    ok = rows >= 0
    r = np.maximum(rows, 0)
    s = f["side"].astype(np.float64)
    p = f["price"].astype(np.float64)
    m_o = np.where(ok, mid_prices(o["bid0"][r], o["ask0"][r]), np.nan)
    bid_j, ask_j = _bid_ask_before(tape, f["instrument"], f["seq"])
    m_j = mid_prices(bid_j, ask_j)
    touch = np.where(f["side"] > 0, ask_j, bid_j).astype(np.float64)
    touch[touch == 0] = np.nan
    eff = 2.0 * s * (p - m_o)
    bid0 = np.where(ok, o["bid0"][r], 0).astype(np.float64)
    ask0 = np.where(ok, o["ask0"][r], 0).astype(np.float64)
    far0 = np.where(f["side"] > 0, ask0, bid0)
    far0[far0 == 0] = np.nan
    marketable = ok & o["marketable"][r]
    pi = np.where(marketable, s * (far0 - p), np.nan)
    markouts: dict[int, np.ndarray] = {}
    mids: dict[int, np.ndarray] = {}
    reach = _reach(tape)
    for h in sorted(set(MARKOUT_HORIZONS_NS) | set(REALISED_HORIZONS_NS)):
        mh = np.where(f["ts"] + h <= reach, _mids_at(tape, f["instrument"], f["ts"] + h), np.nan)
        mids[h] = mh
        markouts[h] = s * (mh - p) / p * 1e4
    realised = {h: 2.0 * s * (p - mids[h]) for h in REALISED_HORIZONS_NS}
    fees = ref.fees
    per_share = np.select([f["liquidity"] == LIQ_TAKER, f["liquidity"] == LIQ_MAKER,
                           f["liquidity"] == LIQ_AUCTION],
                          [fees.taker_per_share, fees.maker_per_share, fees.auction_per_share], 0.0)
    # outside flow (a side without an order: replayed history) pays no fee here
    fee = np.where(ok, per_share * f["qty"], 0.0)
    return FillMeasures(m_o, m_j, touch, eff, realised, pi,
                        {h: markouts[h] for h in MARKOUT_HORIZONS_NS}, mids, fee)


@dataclass(frozen=True)
class CostParts:
    """Per fill, currency (price units x qty / price_scale), positive = cost. Sums to the arrival
    slippage cost fill by fill: timing + half_spread + impact == s q (p - m_o)."""
    timing: np.ndarray
    half_spread: np.ndarray
    impact: np.ndarray


def cost_parts(tape: Tape, fm: FillMeasures, ref: Reference, anchor_mid: np.ndarray | None = None) -> CostParts:
    """The split of the module docstring; anchor_mid replaces m_o (the parent's arrival mid for
    implementation shortfall)."""
    f = tape.fills
    s = f["side"].astype(np.float64)
    q = f["qty"].astype(np.float64)
    p = f["price"].astype(np.float64)
    m0 = fm.mid_arrival if anchor_mid is None else anchor_mid
    scale = float(ref.price_scale)
    # where the book was one-sided when the trade's command arrived there is no m_j: the fill
    # is charged against the arrival mid (no timing part), so the parts still add up exactly
    mj = np.where(np.isfinite(fm.mid_before), fm.mid_before, m0)
    taker = (f["liquidity"] == LIQ_TAKER) & np.isfinite(fm.touch_before) & np.isfinite(fm.mid_before)
    timing = s * q * (mj - m0) / scale
    half = np.where(taker, s * q * (fm.touch_before - mj), s * q * (p - mj)) / scale
    impact = np.where(taker, s * q * (p - fm.touch_before), 0.0) / scale
    return CostParts(timing, half, impact)


def interval_vwap(tape: Tape, instrument: np.ndarray, start_ts: np.ndarray, end_ts: np.ndarray) -> np.ndarray:
    """The venue's VWAP of each instrument's trades stamped in [start, end] (NaN if none)."""
    out = np.full(len(start_ts), np.nan)
    trades = tape.fills[0::2]            # one row per trade (the buy side)
    for iid in npx.unique(instrument):
        t = trades[trades["instrument"] == iid]
        if len(t) == 0:
            continue
        cum_pq = np.concatenate(([0.0], np.cumsum(t["price"].astype(np.float64) * t["qty"])))
        cum_q = np.concatenate(([0.0], np.cumsum(t["qty"].astype(np.float64))))
        m = instrument == iid
        lo = np.searchsorted(t["ts"], start_ts[m], side="left")
        hi = np.searchsorted(t["ts"], end_ts[m], side="right")
        vol = cum_q[hi] - cum_q[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[m] = np.where(vol > 0, (cum_pq[hi] - cum_pq[lo]) / vol, np.nan)
    return out


def closing_prices(tape: Tape) -> dict[int, float]:
    """Last trade price of each instrument in the tape (the close), else its last mid."""
    out: dict[int, float] = {}
    trades = tape.fills[0::2]
    for iid in tape.instruments:
        t = trades[trades["instrument"] == iid]
        if len(t):
            out[iid] = float(t["price"][-1])
        elif iid in tape.quotes and len(tape.quotes[iid].rows):
            out[iid] = float(mid_of(tape.quotes[iid].rows[-1:])[0])
    return out
