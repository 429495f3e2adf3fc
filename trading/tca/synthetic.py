"""A synthetic trading day for benchmarks and large tests, built as command records with numpy
(no per-command Python) and journaled through the real engine by journal_build.write_journal.

Per instrument: a deep base book (account 9: bid 99.90, ask 100.10, 10^9 shares each), then steps:
a maker (account 1 or 2) posts a limit order of q shares at a price inside the spread (a random
walk of 1..19 ticks of 1 cent above the base bid), alone at its level; then either a taker
(account 3 or 4) sends a market order for exactly q shares on the other side (one trade at the
maker's price), or, with probability cancel_prob, the maker cancels it. Every trade is therefore
known in advance: shares = sum q over the traded steps, which the reconciliation checks use.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from native import records
from trading.tca import codes

BASE_BID, BASE_ASK, TICK = 999_000, 1_001_000, 100


@dataclass(frozen=True)
class SyntheticDay:
    commands: np.ndarray      # 96-byte command records, seq 1..n
    trades: int
    shares: int
    notional_units: int       # sum price x qty, engine units


def synthetic_day(n_steps: int, instruments: int = 2, cancel_prob: float = 0.1, seed: int = 1,
                  start_ts_ns: int = 1_765_000_000_000_000_000, step_ns: int = 2_000_000) -> SyntheticDay:
    rng = np.random.default_rng(seed)
    setup = []
    for iid in range(1, instruments + 1):
        setup += [{"type": "ADD_INSTRUMENT", "instrument_id": iid, "tick_size": TICK, "lot_size": 1,
                   "reference_price": 1_000_000, "market_collar_ticks": 1000},
                  {"type": "SET_PHASE", "instrument_id": iid, "phase": codes.PHASE_PRE_OPEN},
                  {"type": "SET_PHASE", "instrument_id": iid, "phase": codes.PHASE_CONTINUOUS},
                  {"type": "NEW_ORDER", "instrument_id": iid, "order_id": 10 * iid + 1, "price": BASE_BID,
                   "qty": 10**9, "side": codes.SIDE_BUY, "ord_type": codes.ORD_LIMIT, "tif": codes.TIF_GTC,
                   "account_id": 9},
                  {"type": "NEW_ORDER", "instrument_id": iid, "order_id": 10 * iid + 2, "price": BASE_ASK,
                   "qty": 10**9, "side": codes.SIDE_SELL, "ord_type": codes.ORD_LIMIT, "tif": codes.TIF_GTC,
                   "account_id": 9}]
    for i, c in enumerate(setup):
        c["seq"], c["ts_ns"] = i + 1, start_ts_ns
    head = records.encode_commands([records.command_from_dict(c) for c in setup])
    n = n_steps
    inst = rng.integers(1, instruments + 1, n).astype(np.uint32)
    walk = np.clip(10 + np.cumsum(rng.integers(-1, 2, n)), 1, 19)
    price = (BASE_BID + walk * TICK).astype(np.int64)
    maker_buys = rng.random(n) < 0.5
    qty = rng.integers(1, 11, n).astype(np.int64) * 100
    cancel = rng.random(n) < cancel_prob
    maker_oid = (1000 + 2 * np.arange(n)).astype(np.uint64)
    taker_oid = maker_oid + np.uint64(1)
    body = np.zeros(2 * n, dtype=records.RECORD_DTYPE)
    no = body.view(records.CMD_DTYPES[codes.CMD_NEW_ORDER])
    m, t = no[0::2], no[1::2]
    m["type"] = codes.CMD_NEW_ORDER
    m["instrument_id"], m["order_id"], m["client_order_id"] = inst, maker_oid, maker_oid
    m["price"], m["qty"] = price, qty
    m["side"] = np.where(maker_buys, codes.SIDE_BUY, codes.SIDE_SELL)
    m["ord_type"], m["tif"] = codes.ORD_LIMIT, codes.TIF_DAY
    m["account_id"] = np.where(rng.random(n) < 0.5, 1, 2)
    t["type"] = codes.CMD_NEW_ORDER
    t["instrument_id"], t["order_id"], t["client_order_id"] = inst, taker_oid, taker_oid
    t["qty"] = qty
    t["side"] = np.where(maker_buys, codes.SIDE_SELL, codes.SIDE_BUY)
    t["ord_type"], t["tif"] = codes.ORD_MARKET, codes.TIF_IOC
    t["account_id"] = np.where(rng.random(n) < 0.5, 3, 4)
    cx = body.view(records.CMD_DTYPES[codes.CMD_CANCEL])[1::2]
    ci = np.flatnonzero(cancel)
    crow = np.zeros(len(ci), dtype=records.RECORD_DTYPE).view(records.CMD_DTYPES[codes.CMD_CANCEL])
    crow["type"], crow["instrument_id"], crow["order_id"] = codes.CMD_CANCEL, inst[ci], maker_oid[ci]
    body_raw = body.view(np.uint8).reshape(-1, 96)
    body_raw[1::2][ci] = crow.view(np.uint8).reshape(-1, 96)
    del cx
    out = np.concatenate([head, body])
    hdr = out.view(records.dtype_of("eng_cmd_hdr_t"))
    hdr["seq"] = np.arange(1, len(out) + 1, dtype=np.uint64)
    ts = np.full(len(out), start_ts_ns, dtype=np.int64)
    ts[len(head):] = start_ts_ns + step_ns * (1 + np.arange(2 * n) // 2)
    hdr["ts_ns"] = ts
    traded = ~cancel
    return SyntheticDay(out, int(traded.sum()), int(qty[traded].sum()), int((price * qty)[traded].sum()))
