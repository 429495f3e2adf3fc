"""The peer side of bench/replay.py: the same LOBSTER day and the same quoting strategy through
hftbacktest (L3 market-by-order data, its L3 FIFO queue model, numba-compiled strategy loop).

Run by bench/replay.py in an interpreter that has the `hftbacktest` package (it is not a dependency
of this project: `python -m venv /tmp/hbt && /tmp/hbt/bin/pip install hftbacktest`, then
`python bench/replay.py --peer-python /tmp/hbt/bin/python`). Prints one JSON line.

LOBSTER -> hftbacktest events: the order-book file's first row as ADD_ORDER events of synthetic
orders; type 1 ADD_ORDER; type 2 MODIFY_ORDER to the order's remaining size; type 3 CANCEL_ORDER;
type 4 FILL of the resting order plus a TRADE print; type 5 a TRADE print only (no order: the peer
has no hidden liquidity). Messages about ids the file never added are dropped (the peer's L3 book
has no level quantity without an order). Prices stay in LOBSTER units (tick 100), local time =
exchange time + 50 us feed latency, order latency 50 us each way, the same fee schedule. The peer's
L3 model only exists with its no-partial-fill exchange (L3PartialFillExchange is unsupported), so
each of its fills is a whole order of 100.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

from hftbacktest import (ADD_ORDER_EVENT, BUY_EVENT, CANCEL_ORDER_EVENT, EXCH_EVENT, FILL_EVENT, GTC, LIMIT,
                         LOCAL_EVENT, MODIFY_ORDER_EVENT, NEW, SELL_EVENT, TRADE_EVENT, BacktestAsset,
                         HashMapMarketDepthBacktest, event_dtype)

LATENCY_NS = 50_000
SCALE = 10_000.0


def convert(path: Path) -> tuple[np.ndarray, int]:
    msgs = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    book_path = path.with_name(path.name.replace("_message_", "_orderbook_"))
    book = np.loadtxt(book_path, delimiter=",", dtype=np.float64, ndmin=2) if book_path.is_file() else None
    out = []
    live: dict[int, float] = {}
    t0 = int(round(msgs[0, 0] * 1e9))
    start = 0
    synth = 1 << 40
    if book is not None:
        start = 1
        for k in range(book.shape[1] // 4):
            ap, aq, bp, bq = book[0, 4 * k:4 * k + 4]
            for px, q, side in ((ap, aq, SELL_EVENT), (bp, bq, BUY_EVENT)):
                if q > 0 and abs(px) < 9_999_999_999:
                    synth += 1
                    out.append((ADD_ORDER_EVENT | side, t0, px, q, synth))
    for t, typ, oid, size, px, direction in msgs[start:]:
        ts, oid, typ = int(round(t * 1e9)), int(oid), int(typ)
        side = BUY_EVENT if direction > 0 else SELL_EVENT
        aggressor = SELL_EVENT if direction > 0 else BUY_EVENT
        if typ == 1:
            live[oid] = size
            out.append((ADD_ORDER_EVENT | side, ts, px, size, oid))
        elif typ in (2, 3, 4) and oid in live:
            left = live[oid] - size
            if typ == 4:
                out.append((TRADE_EVENT | aggressor, ts, px, size, 0))
                out.append((FILL_EVENT | side, ts, px, size, oid))
            elif typ == 3 or left <= 0:
                out.append((CANCEL_ORDER_EVENT | side, ts, px, 0.0, oid))
            else:
                out.append((MODIFY_ORDER_EVENT | side, ts, px, left, oid))
            if typ == 3 or left <= 0:
                live.pop(oid, None)
            else:
                live[oid] = left
        elif typ == 5:
            out.append((TRADE_EVENT | aggressor, ts, px, size, 0))
    data = np.zeros(len(out), dtype=event_dtype)
    arr = np.array(out, dtype=np.float64)
    data["ev"] = arr[:, 0].astype(np.uint64) | EXCH_EVENT | LOCAL_EVENT
    data["exch_ts"] = arr[:, 1].astype(np.int64)
    data["local_ts"] = data["exch_ts"] + LATENCY_NS
    data["px"], data["qty"], data["order_id"] = arr[:, 2], arr[:, 3], arr[:, 4].astype(np.uint64)
    return data, len(msgs)


def asset(data: np.ndarray) -> BacktestAsset:
    return (BacktestAsset().data(data).linear_asset(1.0).constant_order_latency(LATENCY_NS, LATENCY_NS)
            .l3_fifo_queue_model().no_partial_fill_exchange().trading_qty_fee_model(-0.002 * SCALE, 0.003 * SCALE)
            .tick_size(100.0).lot_size(1.0).last_trades_capacity(0))


@njit
def run_none(hbt):  # type: ignore[no-untyped-def]
    while hbt.elapse(60_000_000_000) == 0:
        pass
    return 0


@njit
def run_quote(hbt, size, interval, max_pos):  # type: ignore[no-untyped-def]
    next_id = 1
    bid_id = 0
    ask_id = 0
    while hbt.elapse(interval) == 0:
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        bb, ba = depth.best_bid, depth.best_ask
        if not (bb > 0 and ba > bb):
            continue
        pos = hbt.position(0)
        orders = hbt.orders(0)
        if bid_id != 0:
            o = orders.get(bid_id)
            if o is None or o.status != NEW:
                bid_id = 0
            elif o.price != bb or pos + size > max_pos:
                hbt.cancel(0, bid_id, False)
                bid_id = 0
        if bid_id == 0 and pos + size <= max_pos:
            hbt.submit_buy_order(0, next_id, bb, size, GTC, LIMIT, False)
            bid_id = next_id
            next_id += 1
        if ask_id != 0:
            o = orders.get(ask_id)
            if o is None or o.status != NEW:
                ask_id = 0
            elif o.price != ba or size - pos > max_pos:
                hbt.cancel(0, ask_id, False)
                ask_id = 0
        if ask_id == 0 and size - pos <= max_pos:
            hbt.submit_sell_order(0, next_id, ba, size, GTC, LIMIT, False)
            ask_id = next_id
            next_id += 1
    return next_id - 1


def main() -> int:
    path = Path(sys.argv[1])
    quick = "--quick" in sys.argv
    t0 = time.perf_counter()
    data, messages = convert(path)
    prep = time.perf_counter() - t0
    warm = HashMapMarketDepthBacktest([asset(data[:2000])])      # numba compiles outside the timing
    run_none(warm)
    warm = HashMapMarketDepthBacktest([asset(data[:2000])])
    run_quote(warm, 100.0, 100_000_000, 500.0)
    out = {"messages": messages, "peer_events": len(data), "prepare_s": prep}
    for name in ("noop", "quote"):
        best = None
        for _ in range(1 if quick else 3):
            hbt = HashMapMarketDepthBacktest([asset(data)])
            t, cpu = time.perf_counter(), time.process_time()
            orders = run_none(hbt) if name == "noop" else run_quote(hbt, 100.0, 100_000_000, 500.0)
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            sv = hbt.state_values(0)
            depth = hbt.depth(0)
            mid = (depth.best_bid + depth.best_ask) / 2
            r = {"wall_s": wall, "cpu_s": cpu, "events_per_s": messages / wall, "fills": int(sv.num_trades),
                 "volume": int(sv.trading_volume), "position": int(sv.position), "orders": int(orders),
                 "fees": sv.fee / SCALE, "pnl": (sv.balance + sv.position * mid - sv.fee) / SCALE}
            hbt.close()
            best = r if best is None or r["wall_s"] < best["wall_s"] else best
        out[name] = best
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
