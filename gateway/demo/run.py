"""``python -m gateway demo``: the README's main command on embedded defaults.

Starts the matching engine and the order-entry gateway as their own pinned processes, plays a
seeded order flow for three instruments (set-up, pre-open and the opening call auction through the
shared-memory rings; then a continuous session with makers, takers, icebergs and stops sent by a
client over TCP through the gateway, one request at a time), reads the engine's broadcast event
log, and prints what an operator looks at: the seed document's worked example, the auctions,
trades per instrument, the final books, the event and reject mix, a determinism check (the
engine's command journal replayed in-process gives byte-identical events), what the live market
maker (trading/marketmaking, run by trading/strategy/live.py in its own process) did on AAPL, the
transaction cost analysis of the run (trading/tca on the engine's journal) and the latency report:
P50/P99/P99.9/max of each stage of the order path, stamped in C by the gateway and the engine, and
end to end, with its HdrHistogram files. Everything printed is computed from this run.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from gateway.cli_numbers import seed as seed_arg
from gateway.cli_paths import os_error_line, output_dir
from gateway.demo.execution_algo import PARAMS as ALGO_PARAMS
from gateway.demo.flow import INSTRUMENTS, PRICE_UNIT_PER_USD, TICK, DemoFlow
from gateway.demo.venue import ALGO_INSTRUMENT, MAX_ACCOUNTS, MAX_LEVELS, MAX_ORDERS, MM_INSTRUMENT, \
    VenueError, VenueRun, run_venue
from gateway.latency import summarize
from native.messages import (AddInstrument, AuctionEvent, BookLevelEvent, Command, Event, NewOrder, RejectedEvent,
                             SetPhase, TradeEvent)
from native.engine import Engine
from native import records
from native.records import Reason, type_name
from trading.execution.strategy import ExecutionStrategy
from trading.strategy.ledger import FeeSchedule
from trading.tca.analysis import CostSummary, Decision, analyze
from trading.tca.analysis import summarize as summarize_costs
from trading.tca.errors import TcaInputError
from trading.tca.measures import MARKOUT_HORIZONS_NS, horizon_label
from trading.tca.reference import parse_reference
from trading.tca.tape import load_tape


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


# The live market maker's fee schedule: its LiveRunner is given none, so its ledger books the default.
_MM_FEES = FeeSchedule()
# What the demo's rejects mean, for the reasons its own participants meet.
REJECT_WHY = {
    "REJ_UNKNOWN_ORDER": "a strategy's cancel or replace that arrived after its order had filled or gone",
    "REJ_POST_ONLY_WOULD_TAKE": "a post-only quote the book had moved onto; it would have taken liquidity",
}


def seed_example() -> list[str]:
    """The seed document's example: the AAPL book hit by a market buy of 600."""
    asks = [(150.01, [200, 200]), (150.02, [150, 150, 150, 150]), (150.03, [250]),
            (150.04, [100, 100, 100, 100, 200, 200])]
    bids = [(149.99, [200, 200, 100]), (149.98, [150] * 5), (149.97, [150, 150]), (149.96, [200])]
    eng = Engine(max_orders=1024, max_levels=256, max_instruments=4, max_accounts=16)
    seq = iter(range(1, 1_000_000))
    cmds: list[Command] = [
        AddInstrument(instrument_id=1, seq=next(seq), tick_size=TICK,
         lot_size=1, reference_price=1_500_000, market_collar_ticks=100),
        SetPhase(instrument_id=1, seq=next(seq), phase=1),
        SetPhase(instrument_id=1, seq=next(seq), phase=2),
    ]
    oid = iter(range(1, 1_000_000))
    for side, book in ((2, asks), (1, bids)):
        for px, sizes in book:
            for qty in sizes:
                cmds.append(NewOrder(instrument_id=1, seq=next(seq),
                             order_id=next(oid), side=side, ord_type=1, tif=2,
                             price=round(px * PRICE_UNIT_PER_USD), qty=qty, account_id=1))
    eng.submit(cmds)
    events = eng.submit([NewOrder(instrument_id=1, seq=next(seq),
                          order_id=999, side=1, ord_type=2, tif=4, qty=600,
                          account_id=2)])
    eng.close()
    fills: dict[int, int] = {}
    for ev in events:
        if isinstance(ev, TradeEvent):
            fills[ev.price] = fills.get(ev.price, 0) + ev.qty
    qty = sum(fills.values())
    vwap = sum(p * q for p, q in fills.items()) / qty / PRICE_UNIT_PER_USD
    mean = sum(fills) / len(fills) / PRICE_UNIT_PER_USD
    lines = ["Seed example: AAPL book, market buy 600"]
    lines += [f"  bought {q:>4} @ {_usd(p)} USD" for p, q in sorted(fills.items())]
    lines.append(f"  total {qty} shares, volume-weighted average price {vwap:.5f} USD "
                 f"(the seed's 'average {mean:.3f}' is the plain mean of the two prices)")
    return lines


def _books_from_events(events: list[Event]) -> dict[tuple[int, int], dict[int, tuple[int, int]]]:
    """(instrument, side) -> {price: (qty, order_count)}, rebuilt from BOOK_LEVEL events the way
    any consumer of the event log would."""
    books: dict[tuple[int, int], dict[int, tuple[int, int]]] = {}
    for ev in events:
        if isinstance(ev, BookLevelEvent):
            levels = books.setdefault((ev.instrument_id, ev.side), {})
            if ev.order_count == 0:
                levels.pop(ev.price, None)
            else:
                levels[ev.price] = (ev.qty, ev.order_count)
    return books


def _print_book(symbol: str, bids: list[tuple[int, int, int]], asks: list[tuple[int, int, int]],
                depth: int) -> None:
    print(f"Final book {symbol} (top {depth}; prices in USD, displayed quantities in shares: an iceberg "
          "counts its visible tip, not its hidden reserve)")
    print(f"  {'orders':>6} {'bid qty':>9} {'bid':>9} | {'ask':<9} {'ask qty':<9} {'orders':<6}")
    for i in range(max(len(bids), len(asks))):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        left = f"{b[2]:>6} {b[1]:>9,} {_usd(b[0]):>9}" if b else " " * 26
        right = f"{_usd(a[0]):<9} {a[1]:<9,} {a[2]:<6}" if a else ""
        print(f"  {left} | {right}")
    print()


def _replay_in_process(venue: VenueRun) -> tuple[bytes, dict]:
    """Feeds every command as the engine process sequenced it (its command journal, boot
    commands included) to a fresh in-process engine and returns its event bytes from the first
    event the demo read off the log, and its final depth."""
    eng = Engine(max_orders=MAX_ORDERS, max_levels=MAX_LEVELS, max_instruments=len(INSTRUMENTS),
                 max_accounts=MAX_ACCOUNTS)
    out = eng.submit_records(venue.sequenced.view(records.RECORD_DTYPE).ravel())
    seqs = out.view(np.uint8).reshape(-1, 96)[:, 8:16].copy().view("<u8").ravel()
    out = out[seqs >= venue.first_seq]
    depth = {inst.instrument_id: (eng.depth(inst.instrument_id, 1, 64), eng.depth(inst.instrument_id, 2, 64))
             for inst in INSTRUMENTS}
    eng.check()
    eng.close()
    return out.tobytes(), depth


def _mark(price: float | None) -> str:
    """A mid in price units (half a tick where the spread is odd) as USD, or n/a with no two-sided book."""
    return "n/a" if price is None else f"{price / PRICE_UNIT_PER_USD:.3f} USD"


def _num(value: float, fmt: str = ".2f") -> str:
    return format(value, fmt) if math.isfinite(value) else "n/a"


def market_maker_lines(mm: dict[str, Any], symbol: str) -> list[str]:
    """The live market maker's section, from its own ledger (gateway/demo/market_maker.py)."""
    return [
        f"Market maker (live, measured from this run): MarketMakingStrategy on {symbol}, account "
        f"{mm['account']}, its own producer slot and the event log",
        f"  quotes sent: {mm['quotes_new']:,} new ({mm['quotes_new_refused']:,} refused by the venue), "
        f"{mm['quotes_replaced']:,} replaced, "
        f"{mm['quotes_cancelled']:,} cancelled, {mm['quotes_cancel_all']:,} cancel-all (its stop); "
        f"{mm['rejects']:,} rejected",
        f"  fills {mm['fills']:,} ({mm['maker_volume']:,} shares as maker), position {mm['position']:,}, "
        f"P&L {_num(mm['pnl'])} USD (realised {_num(mm['realized'])} USD, unrealised {_num(mm['unrealized'])} USD "
        f"at the last mid {_mark(mm['mark'])}, less fees {_num(mm['fees'])} USD)",
        f"  (fees: the strategy's assumed schedule, {_MM_FEES.maker_per_share * 100:+.2f} cents a share as "
        f"maker, {_MM_FEES.taker_per_share * 100:+.2f} as taker, negative a rebate; the demo venue charges none)",
    ]


def execution_lines(ex: dict[str, Any], symbol: str) -> list[str]:
    """The live execution algorithm's section, from its own report (gateway/demo/execution_algo.py)."""
    o = ex.get("order") or {}
    side = "buy" if ex.get("side") == 1 else "sell"
    styles = ", ".join(f"{n:,} {k}" for k, n in sorted((ex.get("child_styles") or {}).items())) or "none"
    avg = f"{ex['avg_price']:.4f}" if ex.get("avg_price") is not None else "n/a"
    arrival = f"{ex['arrival_mid']:.4f}" if ex.get("arrival_mid") is not None else "n/a"
    shortfall = _num(ex["shortfall_bps"], "+.2f") if ex.get("shortfall_bps") is not None else "n/a"
    return [
        f"Execution algorithm (live, measured from this run): {ex['algo']} parent order, {side} "
        f"{ex['qty']:,} {symbol} at {o.get('target_participation', 0):.0%} of the traded volume "
        f"(cap {o.get('max_participation', 0):.0%}), account {ex['account']}, its own producer slot",
        f"  state {ex['state']}: filled {ex['filled']:,} of {ex['qty']:,} (target now {ex['target_now']:,.0f}); "
        f"participation {ex['participation']:.1%}: its shares over the {ex['market_volume']:,} the venue traded in "
        f"{symbol} (its own included) from its start to {'its completing fill' if ex['state'] == 'done' else 'its last decision'}, "
        f"{ex.get('working_s', 0):.2f} s and {ex.get('working_decisions', 0):,} decisions",
        f"  {ex['orders_new']:,} child orders (as placed, on its own view of the book: {styles}), {ex['fills']:,} fills, {ex['rejects']:,} rejected; "
        f"average price {avg} USD against the arrival mid {arrival} USD: shortfall {shortfall} bps; "
        f"decision P50 {_num(ex['decision_p50_us'] or float('nan'), '.0f')} µs",
    ]


def _tca_row(s: CostSummary, horizons: tuple[str, ...]) -> str:
    marks = " ".join(f"{k} {_num(v, '+.1f')}" for k, v in s.markout_bps.items() if k in horizons)
    return (f"  {s.key:<8} {s.orders:>7,} {s.executions:>7,} {_num(s.fill_rate_limit, '.0%'):>6} "
            f"{_num(s.fill_rate_market, '.0%'):>6} {_num(s.effective_spread_bps, '.2f'):>8} "
            f"{_num(s.price_improved_pct, '.1f'):>6} | {marks}")


def algo_decisions(ex: dict[str, Any]) -> dict[int, Decision]:
    """The POV parent's decision as the algorithm saw it (its arrival mid, its quantity), so the
    TCA measures the parent's implementation shortfall against the same price as the algorithm's
    own figure: the move between the parent's arrival and its first child is the delay term,
    not hidden in a later benchmark."""
    o = ex.get("order") or {}
    if ex.get("arrival_mid") is None or not ex.get("qty"):
        return {}
    parent_id = int(ALGO_PARAMS.get("parent_id", ExecutionStrategy.defaults["parent_id"]))  # type: ignore[arg-type]
    return {parent_id: Decision(ts_ns=int(o.get("start_ns") or 0), price=float(ex["arrival_mid"]) * PRICE_UNIT_PER_USD,
                                qty=int(ex["qty"]))}


def tca_lines(journal_dir: Path, decisions: dict[int, Decision] | None = None) -> list[str]:
    """The transaction cost analysis of this run (trading/tca) on the engine's command and event
    journal: per instrument and per account; the algorithm's parent against its decision."""
    ref = parse_reference({"instruments": [{"id": i.instrument_id, "symbol": i.symbol}
                                           for i in INSTRUMENTS]}, "demo instruments")
    an = analyze(load_tape(str(journal_dir)), ref, decisions or None)
    # A markout's horizon must fit in the run: the TCA has none for a fill the journal did not outlive
    # by the horizon (measures.py), so a horizon longer than the run would print n/a in every row.
    fill_ts = an.tape.fills["ts"]
    span_ns = an.tape.last_ts - int(fill_ts.min()) if len(fill_ts) else 0
    horizons = tuple(horizon_label(h) for h in MARKOUT_HORIZONS_NS if h <= span_ns)
    cut = [horizon_label(h) for h in MARKOUT_HORIZONS_NS if h > span_ns]
    lines = ["Transaction cost analysis (trading/tca on this run's journal; measured)",
             f"  {'group':<8} {'orders':>7} {'fills':>7} {'lmt%':>6} {'mkt%':>6} {'sprd bps':>8} "
             f"{'PI %':>6} | markouts bps"]
    for dim in ("instrument", "account"):
        lines.append(f"  by {dim}:")
        lines += [_tca_row(s, horizons) for s in an.summary(dim)]
    children = an.tape.orders["parent_id"] > 0
    if children.any():
        # an execution algorithm's children carry their parent's id (trading/execution/parent_ids.py)
        lines.append("  by algorithm parent (its child orders as one row; IS: implementation shortfall "
                     "against its arrival mid, + a cost, fees included):")
        lines += [_tca_row(s, horizons) + f" | IS {_num(s.shortfall_bps, '+.2f')} bps (fees {_num(s.is_fees_bps, '+.2f')})"
                  for s in summarize_costs(an, "parent", order_mask=children)]
    lines.append("  (lmt% / mkt%: shares filled of shares ordered, limit / market orders; sprd bps: effective "
                 "spread 2s(p - arrival mid) in bps of the arrival mid over every fill, share-weighted, so negative "
                 "where resting orders earned the spread; PI %: of the executed marketable orders, those "
                 "price-improved; markouts in bps of the fill price, + in the filled side's favour, the mid h after "
                 "each fill, over the fills the run outlived by h (n/a where none did)"
                 + (f"; {', '.join(cut)} not shown: longer than the {span_ns / 1e9:.1f} s from the first fill to the "
                    "run's end" if cut else "") + ")")
    return lines


def run(orders_per_instrument: int, seed: int, depth: int, wait: str, report_dir: Path,
        journal_dir: Path | None = None) -> int:
    """The demo; the engine's journal goes to journal_dir when given (it must not exist yet: the
    run's commands and events are kept for an independent check), else to a temporary folder."""
    if journal_dir is not None:
        return _run(orders_per_instrument, seed, depth, wait, report_dir, journal_dir)
    with tempfile.TemporaryDirectory(prefix="venue-demo-journal-") as tmp:
        return _run(orders_per_instrument, seed, depth, wait, report_dir, Path(tmp) / "journal")


def _run(orders_per_instrument: int, seed: int, depth: int, wait: str, report_dir: Path,
         journal_dir: Path) -> int:
    flow = DemoFlow(seed=seed, orders_per_instrument=orders_per_instrument)
    print(f"venue demo: {len(INSTRUMENTS)} instruments, seed {seed}, "
          f"{orders_per_instrument:,} continuous-session orders per instrument")
    print(f"host: {platform.node()} {platform.machine()}, {psutil.cpu_count()} cpus "
          f"(allowed: {sorted(os.sched_getaffinity(0))})")
    print()
    for line in seed_example():
        print(line)
    print()

    try:
        venue = run_venue(flow, journal_dir, wait=wait)
    except VenueError as exc:
        print(f"venue demo: {exc}", file=sys.stderr)
        return 1
    print(f"Engine process: pinned to cpu {venue.engine_cpu}, wait strategy {venue.wait}, "
          f"journal (async durability); gateway process (blocks in epoll when idle, no spin) "
          f"and TCP client (SCHED_BATCH, so it does not preempt the gateway) pinned to cpu "
          f"{venue.gateway_cpu}; the market maker's process (SCHED_BATCH) on cpu {venue.market_maker_cpu}; "
          "shared-memory rings in /dev/shm")
    lines = [ln.strip() for ln in venue.engine_stderr.splitlines() if ln.strip()]
    lines += [ln.strip() for ln in venue.gateway_stderr.splitlines()
              if ln.strip().startswith("gateway: ")]
    warnings = [ln.split("warning:", 1)[1].strip() for ln in lines if "warning:" in ln]
    others = [ln for ln in lines if "warning:" not in ln]
    for line in others:
        print(f"  {line}")
    if warnings:
        # The engine prints one line per host setting that differs from the tuning profile;
        # the ones that matter most for a pinned engine go first.
        key = ("isolated", "cpu_dma_latency", "irq", "nohz", "rcu")
        ranked = sorted(warnings, key=lambda w: min((i for i, k in enumerate(key) if k in w),
                                                    default=len(key)))
        print(f"  host check at engine start-up: {len(warnings)} settings differ from the 'venue' "
              "tuning profile, e.g.:")
        for w in ranked[:4]:
            print(f"    {w}")
        print("    (python -m tuning audit lists them all; python -m tuning plan shows the fixes)")
    mm_commands = int(venue.market_maker["commands"])
    algo_commands = int(venue.execution["commands"])
    forwarded = len(venue.sequenced) - len(INSTRUMENTS) - venue.ring_commands - mm_commands - algo_commands
    print(f"  {len(venue.sequenced):,} commands sequenced: {len(INSTRUMENTS)} boot, "
          f"{venue.ring_commands:,} set-up and opening commands through the rings, {forwarded:,} "
          f"of the {venue.gateway_requests:,} continuous-session requests sent over TCP, "
          f"{mm_commands:,} from the market maker and {algo_commands:,} from the execution algorithm "
          "through their own rings")
    if venue.gateway_answered:
        print("  the gateway answered the others itself: " + ", ".join(
            f"{n:,} {why}" for why, n in venue.gateway_answered.most_common()))
        if any("GW_UNKNOWN_ORDER_ID" in why for why in venue.gateway_answered):
            print("    (GW_UNKNOWN_ORDER_ID: the makers requote without waiting for their fills, so "
                  "some cancels and replaces name a quote that had filled or gone meanwhile; the "
                  "gateway, which no longer holds it, answers at once without the engine: the "
                  "normal race of a fast quoter, not an error)")
    print(f"  {len(venue.events):,} events on the broadcast "
          f"log{' (LAPPED: events lost)' if venue.lapped else ''}; gateway and engine stopped "
          f"cleanly on SIGTERM")
    print()

    events = venue.events
    by_symbol = {inst.instrument_id: inst.symbol for inst in INSTRUMENTS}
    stats = {iid: _TradeStats() for iid in by_symbol}
    auctions: dict[int, AuctionEvent] = {}
    kinds: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    for ev in events:
        kinds[type_name(ev)] += 1
        if isinstance(ev, TradeEvent):
            stats[ev.instrument_id].add(ev.price, ev.qty)
        elif isinstance(ev, AuctionEvent):
            auctions[ev.instrument_id] = ev
        elif isinstance(ev, RejectedEvent):
            rejects[Reason(ev.reason).name] += 1

    print("Opening auctions")
    for iid, ev in sorted(auctions.items()):
        if ev.crossed:
            side = {1: " to buy", 2: " to sell"}.get(ev.imbalance_side, "")
            print(f"  {by_symbol[iid]:<5} uncrossed {ev.matched_qty:>6,} shares @ {_usd(ev.price)} USD"
                  f"  (imbalance {ev.imbalance_qty:,} shares{side if ev.imbalance_qty else ''})")
        else:
            print(f"  {by_symbol[iid]:<5} no cross")
    print()
    print("Trades (volume in shares, prices in USD)")
    print(f"  {'symbol':<6} {'trades':>8} {'volume':>10} {'VWAP':>10} {'low':>9} {'high':>9} {'last':>9}")
    for iid, st in stats.items():
        if st.count == 0:
            print(f"  {by_symbol[iid]:<6} {0:>8}")
            continue
        vwap = st.notional / st.volume / PRICE_UNIT_PER_USD
        print(f"  {by_symbol[iid]:<6} {st.count:>8,} {st.volume:>10,} {vwap:>10.4f} "
              f"{_usd(st.low):>9} {_usd(st.high):>9} {_usd(st.last):>9}")
    print()

    books = _books_from_events(events)
    for inst in INSTRUMENTS:
        bids = sorted(((p, q, c) for p, (q, c) in books.get((inst.instrument_id, 1), {}).items()),
                      reverse=True)
        asks = sorted((p, q, c) for p, (q, c) in books.get((inst.instrument_id, 2), {}).items())
        _print_book(inst.symbol, bids[:depth], asks[:depth], depth)

    print("Events by type: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    if rejects:
        print("Rejects by reason: " + ", ".join(f"{k} {v:,}" for k, v in rejects.most_common()))
        for name in rejects:
            if name in REJECT_WHY:
                print(f"  ({name}: {REJECT_WHY[name]})")

    replay_bytes, replay_depth = _replay_in_process(venue)
    identical = replay_bytes == venue.event_records.tobytes()
    books_match = all(
        replay_depth[iid][0] == sorted(((p, q, c) for p, (q, c) in books.get((iid, 1), {}).items()),
                                       reverse=True)[:64]
        and replay_depth[iid][1] == sorted((p, q, c) for p, (q, c) in books.get((iid, 2), {}).items())[:64]
        for iid in by_symbol)
    print("Determinism: the sequenced commands (the engine's command journal) replayed "
          f"in-process give {'byte-identical' if identical else 'DIFFERENT'} events "
          f"({len(replay_bytes) // 96:,} records) and {'the same' if books_match else 'DIFFERENT'} books")
    print()

    for line in market_maker_lines(venue.market_maker, by_symbol[MM_INSTRUMENT]):
        print(line)
    print()
    for line in execution_lines(venue.execution, by_symbol[ALGO_INSTRUMENT]):
        print(line)
    print()
    try:
        tca = tca_lines(journal_dir, algo_decisions(venue.execution))
    except TcaInputError as exc:
        print(f"venue demo: the transaction cost analysis failed: {exc}", file=sys.stderr)
        return 1
    for line in tca:
        print(line)
    print()

    rtt = venue.round_trip_ns
    print("Latency of the continuous session's requests, stamped in C at seven points of the "
          "order path")
    print("(gateway: socket receive, decode, ring enqueue; engine: dequeue, matching done, "
          "event published;")
    print(" gateway: transmit of the first report, stamped when the send pass that flushed it returns, so "
          "a preemption just after the send counts although the client has its answer), recorded per stage "
          "into HdrHistograms in "
          "shared memory (3 significant digits: each figure is the top of its bucket, up to 0.1 % above "
          "the value recorded):")
    print(f"  client round trip (Python client, request -> its answer, {len(rtt):,} requests one "
          f"at a time): P50 {np.percentile(rtt, 50) / 1e3:.1f} µs, "
          f"P99 {np.percentile(rtt, 99) / 1e3:.1f} µs, max {rtt.max() / 1e3:.1f} µs")
    try:
        summarize(venue.latency, report_dir, title="demo venue")
    except OSError as exc:          # --report-dir passed its check at start; a full disk can still fail
        print(f"venue demo: the latency report could not be written: {os_error_line(exc)}", file=sys.stderr)
        return 1
    healthy = venue.engine_exit_code == 0 and venue.gateway_exit_code == 0
    return 0 if identical and books_match and healthy and not venue.lapped else 1


# The demo holds every request and event in memory and runs the session one request at a time:
# a million orders per instrument is minutes of run and about a gigabyte; beyond that is a
# mistyped number, not a demo (0 left nothing to report: a traceback on the empty latency sample).
MAX_ORDERS_PER_INSTRUMENT = 1_000_000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000,
                        help="continuous-session orders per instrument (default 20000, at most "
                             f"{MAX_ORDERS_PER_INSTRUMENT:,})")
    parser.add_argument("--seed", type=seed_arg, default=20261123, help="order-flow seed")
    parser.add_argument("--depth", type=int, default=5, help="book levels to print per side")
    parser.add_argument("--wait", choices=("backoff", "spin"), default="backoff",
                        help="engine wait strategy: backoff (default; keeps a small machine "
                             "usable) or spin (for an isolated core)")
    parser.add_argument("--report-dir", type=output_dir, default=Path("reports") / "demo",
                        help="where the latency report files go (default reports/demo)")
    parser.add_argument("--journal-dir", type=output_dir, default=None,
                        help="keep the engine's command and event journal of the run here (a folder "
                             "that does not exist yet), to check the printed figures against it")
    args = parser.parse_args(argv)
    if args.journal_dir is not None and args.journal_dir.exists():
        parser.error(f"--journal-dir {str(args.journal_dir)!r} exists: give a folder that does not exist yet")
    if not 1 <= args.orders <= MAX_ORDERS_PER_INSTRUMENT:
        parser.error(f"--orders must be 1..{MAX_ORDERS_PER_INSTRUMENT:,}, got {args.orders}")
    if not 1 <= args.depth <= 64:
        parser.error(f"--depth must be between 1 and 64, got {args.depth}")
    return run(args.orders, args.seed, args.depth, args.wait, args.report_dir, args.journal_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
