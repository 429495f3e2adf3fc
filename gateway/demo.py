"""``python -m gateway demo``: the README's main command on embedded defaults.

Loads three instruments, replays a seeded order flow through the C engine (pre-open, opening call
auction, a continuous session with makers, takers, icebergs and stops, end of day) and prints what
a venue operator looks at: the seed document's worked example, trades per instrument, the final
books, the event and reject mix and the engine's own throughput on this run.
Everything printed is computed from the engine's event stream in this run; nothing is canned.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass

import psutil

from gateway.demo_flow import INSTRUMENTS, PRICE_UNIT_PER_USD, TICK, DemoFlow
from native.engine import Engine
from native.records import Reason


def _usd(price: int) -> str:
    return f"{price / PRICE_UNIT_PER_USD:,.2f}"


@dataclass
class _TradeStats:
    count: int = 0
    volume: int = 0
    notional: int = 0
    high: int | None = None
    low: int | None = None
    last: int | None = None

    def add(self, price: int, qty: int) -> None:
        self.count += 1
        self.volume += qty
        self.notional += price * qty
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)
        self.last = price


def seed_example() -> list[str]:
    """The seed document's example: the AAPL book hit by a market buy of 600."""
    asks = [(150.01, [200, 200]), (150.02, [150, 150, 150, 150]), (150.03, [250]),
            (150.04, [100, 100, 100, 100, 200, 200])]
    bids = [(149.99, [200, 200, 100]), (149.98, [150] * 5), (149.97, [150, 150]), (149.96, [200])]
    eng = Engine(max_orders=1024, max_levels=256, max_instruments=4, max_accounts=16)
    seq = iter(range(1, 1_000_000))
    cmds: list[dict] = [
        {"type": "ADD_INSTRUMENT", "instrument_id": 1, "seq": next(seq), "tick_size": TICK,
         "lot_size": 1, "reference_price": 1_500_000, "market_collar_ticks": 100},
        {"type": "SET_PHASE", "instrument_id": 1, "seq": next(seq), "phase": 1},
        {"type": "SET_PHASE", "instrument_id": 1, "seq": next(seq), "phase": 2},
    ]
    oid = iter(range(1, 1_000_000))
    for side, book in ((2, asks), (1, bids)):
        for px, sizes in book:
            for qty in sizes:
                cmds.append({"type": "NEW_ORDER", "instrument_id": 1, "seq": next(seq),
                             "order_id": next(oid), "side": side, "ord_type": 1, "tif": 2,
                             "price": round(px * PRICE_UNIT_PER_USD), "qty": qty, "account_id": 1})
    eng.submit(cmds)
    events = eng.submit([{"type": "NEW_ORDER", "instrument_id": 1, "seq": next(seq),
                          "order_id": 999, "side": 1, "ord_type": 2, "tif": 4, "qty": 600,
                          "account_id": 2}])
    eng.close()
    fills: dict[int, int] = {}
    for ev in events:
        if ev["type"] == "TRADE":
            fills[ev["price"]] = fills.get(ev["price"], 0) + ev["qty"]
    qty = sum(fills.values())
    avg = sum(p * q for p, q in fills.items()) / qty / PRICE_UNIT_PER_USD
    lines = ["Seed example: AAPL book, market buy 600"]
    lines += [f"  bought {q:>4} @ {_usd(p)}" for p, q in sorted(fills.items())]
    lines.append(f"  total {qty} shares, average price {avg:.3f}")
    return lines


def run(orders_per_instrument: int, seed: int, depth: int) -> int:
    flow = DemoFlow(seed=seed, orders_per_instrument=orders_per_instrument)
    commands = flow.session()
    eng = Engine(max_orders=1 << 16, max_levels=1 << 14, max_instruments=8, max_accounts=64)
    print(f"venue demo: {len(INSTRUMENTS)} instruments, {len(commands):,} commands, seed {seed}")
    print(f"host: {platform.node()} {platform.machine()}, {psutil.cpu_count()} cpus; "
          "engine in-process, single thread")
    print()
    for line in seed_example():
        print(line)
    print()

    t0 = time.perf_counter_ns()
    events = eng.submit(commands)
    elapsed_ns = time.perf_counter_ns() - t0

    by_symbol = {inst.instrument_id: inst.symbol for inst in INSTRUMENTS}
    stats = {iid: _TradeStats() for iid in by_symbol}
    auctions: dict[int, dict] = {}
    kinds: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    for ev in events:
        kinds[ev["type"]] += 1
        if ev["type"] == "TRADE":
            stats[ev["instrument_id"]].add(ev["price"], ev["qty"])
        elif ev["type"] == "AUCTION":
            auctions[ev["instrument_id"]] = ev
        elif ev["type"] == "REJECTED":
            rejects[Reason(ev["reason"]).name] += 1

    print("Opening auctions")
    for iid, ev in sorted(auctions.items()):
        if ev["crossed"]:
            print(f"  {by_symbol[iid]:<5} uncrossed {ev['matched_qty']:>6,} @ {_usd(ev['price'])}"
                  f"  (imbalance {ev['imbalance_qty']:,})")
        else:
            print(f"  {by_symbol[iid]:<5} no cross")
    print()
    print("Trades")
    print(f"  {'symbol':<6} {'trades':>8} {'volume':>10} {'VWAP':>10} {'low':>9} {'high':>9} {'last':>9}")
    for iid, st in stats.items():
        if st.count == 0:
            print(f"  {by_symbol[iid]:<6} {0:>8}")
            continue
        vwap = st.notional / st.volume / PRICE_UNIT_PER_USD
        print(f"  {by_symbol[iid]:<6} {st.count:>8,} {st.volume:>10,} {vwap:>10.4f} "
              f"{_usd(st.low):>9} {_usd(st.high):>9} {_usd(st.last):>9}")
    print()
    for inst in INSTRUMENTS:
        bids = eng.depth(inst.instrument_id, 1, depth)
        asks = eng.depth(inst.instrument_id, 2, depth)
        print(f"Final book {inst.symbol} (top {depth})")
        print(f"  {'orders':>6} {'bid qty':>9} {'bid':>9} | {'ask':<9} {'ask qty':<9} {'orders':<6}")
        for i in range(max(len(bids), len(asks))):
            b = bids[i] if i < len(bids) else None
            a = asks[i] if i < len(asks) else None
            left = f"{b[2]:>6} {b[1]:>9,} {_usd(b[0]):>9}" if b else " " * 26
            right = f"{_usd(a[0]):<9} {a[1]:<9,} {a[2]:<6}" if a else ""
            print(f"  {left} | {right}")
        print()

    eod = eng.submit(flow.end_of_day())
    expired = sum(1 for ev in eod if ev["type"] == "EXPIRED")
    eng.check()
    state_hash = eng.state_hash()
    eng.close()

    print("Events by type: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    if rejects:
        print("Rejects by reason: " + ", ".join(f"{k} {v:,}" for k, v in rejects.most_common()))
    print(f"End of day: {expired:,} DAY orders expired; state hash {state_hash:#018x}")
    rate = len(commands) / (elapsed_ns / 1e9)
    print(f"Engine: {len(commands):,} commands -> {len(events):,} events in {elapsed_ns / 1e6:,.1f} ms "
          f"({rate:,.0f} commands/s including Python encode/decode of every record; "
          "bench/engine.py measures the engine alone)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000,
                        help="continuous-session orders per instrument (default 20000)")
    parser.add_argument("--seed", type=int, default=20261123, help="order-flow seed")
    parser.add_argument("--depth", type=int, default=5, help="book levels to print per side")
    args = parser.parse_args(argv)
    if args.orders < 0:
        parser.error(f"--orders must be >= 0, got {args.orders}")
    if not 1 <= args.depth <= 64:
        parser.error(f"--depth must be between 1 and 64, got {args.depth}")
    return run(args.orders, args.seed, args.depth)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
