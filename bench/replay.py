"""How fast does a historical day replay through the real engine with a strategy, against the
peer (hftbacktest), and how fast does a live strategy turn a market-data event into an order?

Question 1: historical messages per second through trading.replay (the real C engine in process,
the strategy in plain Python) on the GOOG full-day LOBSTER sample, with the no-op strategy and
with the issue's quoting strategy (TouchQuoter: 100 at the best bid and ask every 100 ms, cancel
and repost when the touch moves, position limit 500), 50 us order and feed latency; loading and
building the engine commands is timed apart, and a run's wall and CPU time leave out its set-up
(Replay(): the engine's allocation), as the peer's leave out building its back-test object. The
same day through hftbacktest's L3 FIFO model (numba), run by bench/replay_peer.py in the
interpreter given by --peer-python (it needs the hftbacktest package, which is not a dependency of
this project), in the same run: ratios ours/peer.
The floor of a plain-Python strategy, measured in the same run: (a) an empty Python function called
once per wake-up of our quoting run, (b) the quoting decision alone in plain Python over the touches
its timer saw, (c) the strategy's own on_timer through the real Context over those touches, with
no runtime; no-op engine + (a) + (b) is the best a plain-Python strategy could do, whatever the
runtime (the table prints each beside our run and the peer's).
Question 2: live, a strategy attached to a running engine process (its own producer slot, the event
log): time from the engine's timestamp of a market event (the sequencer's CLOCK_MONOTONIC at the
triggering command's dequeue) to the strategy's reaction being handed to its command ring, P50/P99,
while a second process sends market orders; also the part spent in the runner (from the poll that
brought the event to the ring) in wall and thread CPU time. Two modes: "spin" (the bench polls
LiveRunner.step without pause) and "doorbell" (LiveRunner.run: idle, it sleeps on the event log's
futex doorbell and is woken by the next event).

Usage: python bench/replay.py [--quick] [--data PATH] [--peer-python PATH]
Table first, then one JSON line: {"bench": "replay", "machine", "metrics", "baselines", "ratios"}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trading.replay.history import build_history  # noqa: E402
from trading.replay.latency import Constant  # noqa: E402
from trading.replay.lobster import load_lobster  # noqa: E402
from trading.replay.runtime import Replay, ReplayConfig, run_replay  # noqa: E402
from trading.strategy.api import Strategy  # noqa: E402
from trading.strategy.context import Context  # noqa: E402
from trading.strategy.examples import NoOp, TouchQuoter  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "GOOG_2012-06-21_34200000_57600000_message_1.csv"
LATENCY_NS = 50_000


def ours(path: Path, quick: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    day = load_lobster(path)
    hist = build_history(day)
    prep = time.perf_counter() - t0
    n = len(day)
    out: dict[str, Any] = {"messages": n, "engine_commands": len(hist), "prepare_s": prep}
    cfg = dict(order_latency=Constant(LATENCY_NS), feed_latency=Constant(LATENCY_NS), compute="none")
    runs: list[tuple[str, Strategy, dict[str, Any]]] = [
        ("noop", NoOp(), {}), ("quote", TouchQuoter(size=100, interval_ms=100, max_position=500), {}),
        # the peer's assumption, to size one part of the difference: hidden prints fill nothing
        ("quote_no_hidden", TouchQuoter(size=100, interval_ms=100, max_position=500), {"hidden_executions": False})]
    for name, strategy, extra in runs:
        best, best_cpu = None, 0.0
        for _ in range(1 if quick or extra else 3):
            # the set-up (the engine's allocation, the history's columns) is timed apart from both
            # wall_s and CPU, as the peer's back-test object is built outside its timing
            replay = Replay(hist, type(strategy)(**strategy.params), ReplayConfig(**cfg, **extra))
            cpu = time.process_time()      # CPU time: what the run cost, whatever else the host ran
            r = replay.run()
            cpu = time.process_time() - cpu
            if best is None or r.wall_s < best.wall_s:
                best, best_cpu = r, cpu
        assert best is not None
        led = best.ctx.ledger
        out[name] = {"wakeups": best.wakeups, "wall_s": best.wall_s, "cpu_s": best_cpu, "events_per_s": n / best.wall_s, "fills": len(best.fills),
                     "volume": led.volume, "position": led.position, "realized": led.realized,
                     "pnl": best.ctx.pnl, "fees": led.fees, "counts": best.counts}
    out["floor"] = floors(hist, out["quote"]["wakeups"], 3 if quick else 5)
    return out


class TouchRecorder(TouchQuoter):
    """The quoting strategy that also notes, at each of its ticks, the touch and position it saw
    (an untimed run: the sequence the plain-Python floor replays)."""

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.touches: list[tuple[int | None, int | None, int]] = []

    def on_timer(self, ctx: Context) -> None:
        self.touches.append((ctx.book.best_bid, ctx.book.best_ask, ctx.position))
        super().on_timer(ctx)


def _empty_callback(ctx: object) -> None:
    pass


def quote_logic(touches: list[tuple[int | None, int | None, int]], size: int, limit: int) -> int:
    """TouchQuoter's decision alone, in plain Python with no runtime: one order price per side,
    cancel and repost when the touch moved, no side past the position limit. Returns the number
    of orders and cancels it would send (so the work cannot be optimised away)."""
    own_bid: int | None = None
    own_ask: int | None = None
    actions = 0
    for bid, ask, pos in touches:
        if bid is None or ask is None:
            continue
        if own_bid is not None and (own_bid != bid or pos + size > limit):
            own_bid = None
            actions += 1
        if own_bid is None and pos + size <= limit:
            own_bid = bid
            actions += 1
        if own_ask is not None and (own_ask != ask or size - pos > limit):
            own_ask = None
            actions += 1
        if own_ask is None and size - pos <= limit:
            own_ask = ask
            actions += 1
    return actions


class _Touch:
    """The two attributes of a book view TouchQuoter reads."""
    best_bid: int | None = None
    best_ask: int | None = None


def strategy_alone(touches: list[tuple[int | None, int | None, int]]) -> int:
    """TouchQuoter's own on_timer through the real Context (its place / cancel / orders), over the
    recorded touches, with no runtime: no engine, no events; each cancel it sends is confirmed at
    once (the order leaves ctx.orders), so its orders stay as few as in the run. Returns the
    commands it sent."""
    strategy = TouchQuoter(size=100, interval_ms=100, max_position=500)
    ctx = Context(1, 2)
    book = _Touch()
    ctx.book = book      # type: ignore[assignment]   # only the touch is read
    orders, outbox, ledger = ctx.orders, ctx.outbox, ctx.ledger
    sent = 0
    for bid, ask, pos in touches:
        book.best_bid, book.best_ask, ledger.position = bid, ask, pos
        strategy.on_timer(ctx)
        for o in outbox:
            if o.op == "CANCEL":
                orders.pop(o.order_id, None)
        sent += len(outbox)
        outbox.clear()
    return sent


def floors(hist: Any, wakeups: int, repeat: int) -> dict[str, Any]:
    """What plain CPython costs with no runtime at all, for the quoting run's work: (a) an empty
    Python function called once per wake-up of the quoting run, (b) the quoting decision alone over
    the sequence of touches its timer saw (recorded in an untimed run); (c) the strategy's own
    on_timer through the real Context over the same touches (strategy_alone). Best of `repeat`."""
    rec = TouchRecorder(size=100, interval_ms=100, max_position=500)
    run_replay(hist, rec, ReplayConfig(order_latency=Constant(LATENCY_NS), feed_latency=Constant(LATENCY_NS),
                                       compute="none"))
    empty_s = logic_s = alone_s = float("inf")
    actions = alone_sent = 0
    for _ in range(repeat):
        f = _empty_callback
        t0 = time.perf_counter()
        for _ in range(wakeups):
            f(None)
        empty_s = min(empty_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        actions = quote_logic(rec.touches, 100, 500)
        logic_s = min(logic_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        alone_sent = strategy_alone(rec.touches)
        alone_s = min(alone_s, time.perf_counter() - t0)
    return {"wakeups": wakeups, "empty_calls_s": empty_s, "timer_ticks": len(rec.touches), "logic_s": logic_s,
            "logic_actions": actions, "strategy_alone_s": alone_s, "strategy_alone_commands": alone_sent}


def peer(path: Path, python: str | None, quick: bool) -> dict[str, Any] | str:
    if not python:
        return "not run: no --peer-python (an interpreter with the hftbacktest package)"
    r = subprocess.run([python, str(REPO / "bench" / "replay_peer.py"), str(path)] + (["--quick"] if quick else []),
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        return f"failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}"
    return json.loads(r.stdout.strip().splitlines()[-1])


class Reactor(Strategy):
    """Reacts to every change of the best bid: cancels its previous order and rests a new one 50
    ticks under it (never trades, and its own order never moves the best bid it watches)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: int | None = None

    def on_book(self, ctx: Context) -> None:
        bid = ctx.book.best_bid
        if bid is None or bid == self.last:
            return
        self.last = bid
        for o in list(ctx.orders.values()):
            if o.status == "live":
                ctx.cancel(o.order_id)
        ctx.buy(bid - 50, 1)


FEEDER = r"""
import sys, time
from native.messages import NewOrder, Cancel
from shm.client import EngineClient
name, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with EngineClient(name) as c:
    for i in range(n):
        c.submit(NewOrder(instrument_id=1, order_id=1_000_000 + i, price=10_000 + (i % 50), qty=1, side=1, ord_type=1,
                          tif=2, account_id=1))
        if i >= 20:
            c.submit(Cancel(instrument_id=1, order_id=1_000_000 + i - 20))
        time.sleep(1.0 / rate)
"""


def _percentiles(ns: Any) -> dict[str, float]:
    lat = np.array(list(ns)[10:], dtype=np.int64)     # the first reactions warm up
    if not len(lat):
        return {}
    return {"p50_us": float(np.percentile(lat, 50)) / 1e3, "p99_us": float(np.percentile(lat, 99)) / 1e3,
            "max_us": float(lat.max()) / 1e3}


def live(quick: bool, mode: str) -> dict[str, Any]:
    """mode "spin": the bench polls runner.step() without pause; "doorbell": the runner's own loop
    (LiveRunner.run: polls, then sleeps on the event log's futex doorbell when idle)."""
    from gateway import launcher
    from trading.strategy.live import LiveRunner
    venue = launcher.Venue(prefix="br")
    name = venue.name
    cpu = max(os.sched_getaffinity(0))
    try:
        try:
            venue.start_engine("--cpu", str(cpu), "--instruments", "1:1:1:10000", "--producers", "4", "--no-mlock")
        except launcher.LaunchError as exc:
            return {"error": f"engine did not start: {exc}"}
        others = sorted(os.sched_getaffinity(0) - {cpu})
        if others:
            os.sched_setaffinity(0, others)     # the strategy never shares the engine's core
        runner = LiveRunner(name, Reactor(), 1, 5)
        runner.start()
        n = 1000 if quick else 5000
        feeder = subprocess.Popen([sys.executable, "-c", FEEDER, name, str(n), "1000"], cwd=REPO,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
        if mode == "spin":
            while feeder.poll() is None:
                runner.step()
        else:
            while feeder.poll() is None:
                runner.run(duration_s=0.05)
        for _ in range(1000):
            runner.step()
        runner.stop()
        if len(runner.order_latency_ns) <= 10:
            return {"error": "no reactions recorded"}
        return {"reactions": len(runner.order_latency_ns) - 10, "feeder_orders": n,
                "event_to_ring": _percentiles(runner.order_latency_ns),
                "poll_to_ring": _percentiles(runner.reaction_ns),
                "poll_to_ring_cpu": _percentiles(runner.reaction_cpu_ns)}
    finally:
        venue.close()


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--peer-python", default=os.environ.get("HFTBACKTEST_PYTHON"))
    args = p.parse_args()
    if not args.data.is_file():
        print(f"replay bench: {args.data} not found (place ../shared/data or pass --data)", file=sys.stderr)
        return 2
    load = os.getloadavg()
    mine = ours(args.data, args.quick)
    other = peer(args.data, args.peer_python, args.quick)
    lv = {mode: live(args.quick, mode) for mode in ("spin", "doorbell")}
    rows = [("ours noop", mine["noop"]), ("ours quote", mine["quote"]), ("ours quote, no hidden", mine["quote_no_hidden"])]
    if isinstance(other, dict):
        rows += [("hftbacktest noop", other["noop"]), ("hftbacktest quote", other["quote"])]
    print(f"{'run':<22} {'events/s':>12} {'wall s':>8} {'CPU s':>8} {'fills':>6} {'volume':>8} {'position':>9} {'P&L':>10}")
    for label, r in rows:
        print(f"{label:<22} {r['events_per_s']:>12,.0f} {r['wall_s']:>8.3f} {r.get('cpu_s', float('nan')):>8.3f} "
              f"{r.get('fills', 0):>6} "
              f"{r.get('volume', 0):>8} {r.get('position', 0):>9} {r.get('pnl', 0.0):>10.2f}")
    if not isinstance(other, dict):
        print(f"hftbacktest: {other}")
    print(f"load + build engine commands: {mine['prepare_s']:.2f} s for {mine['messages']} messages")
    fl, q, noop = mine["floor"], mine["quote"], mine["noop"]
    # the best a plain-Python strategy could do: the engine's own time (the no-op run), one empty
    # call per wake-up and the strategy's decision, with no runtime between them at all
    floor_s = noop["wall_s"] + fl["empty_calls_s"] + fl["logic_s"]
    print(f"ours quote: {q['wakeups']} wake-ups ({fl['timer_ticks']} timer ticks); beyond the engine's no-op time "
          f"{(q['wall_s'] - noop['wall_s']) / max(q['wakeups'], 1) * 1e6:.2f} us per wake-up")
    print(f"floor, plain CPython with no runtime: (a) an empty function per wake-up {fl['empty_calls_s'] * 1e3:.2f} ms; "
          f"(b) the quoting decision alone over the {fl['timer_ticks']} touches {fl['logic_s'] * 1e3:.2f} ms; "
          f"no-op engine + (a) + (b) = {floor_s * 1e3:.2f} ms = {mine['messages'] / floor_s:,.0f} events/s")
    print(f"  (c) the quoting strategy's own on_timer through the real Context over the same touches, no runtime: "
          f"{fl['strategy_alone_s'] * 1e3:.2f} ms ({fl['strategy_alone_commands']} commands)")
    if isinstance(other, dict):
        print(f"  against hftbacktest quote {other['quote']['wall_s'] * 1e3:.2f} ms: floor/peer time "
              f"{floor_s / other['quote']['wall_s']:.2f}, ours/peer time {q['wall_s'] / other['quote']['wall_s']:.2f}")
    for mode, r in lv.items():
        if "error" in r:
            print(f"live ({mode}): {r['error']}")
            continue
        e, p, c = r["event_to_ring"], r["poll_to_ring"], r["poll_to_ring_cpu"]
        print(f"live ({mode}), {r['reactions']} reactions: engine event -> order on the ring P50 {e['p50_us']:.1f} us, "
              f"P99 {e['p99_us']:.1f} us; in the runner (poll -> ring) P50 {p['p50_us']:.1f} us, P99 {p['p99_us']:.1f} us, "
              f"its CPU time P50 {c['p50_us']:.1f} us, P99 {c['p99_us']:.1f} us")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    metrics = {"messages": mine["messages"], "prepare_s": mine["prepare_s"],
               "noop_events_per_s": mine["noop"]["events_per_s"], "quote_events_per_s": mine["quote"]["events_per_s"],
               "quote_fills": mine["quote"]["fills"], "quote_volume": mine["quote"]["volume"],
               "quote_pnl": mine["quote"]["pnl"], "noop_cpu_s": mine["noop"]["cpu_s"],
               "quote_cpu_s": mine["quote"]["cpu_s"], "quote_no_hidden_fills": mine["quote_no_hidden"]["fills"],
               "quote_no_hidden_volume": mine["quote_no_hidden"]["volume"],
               "quote_no_hidden_pnl": mine["quote_no_hidden"]["pnl"], "quote_wakeups": q["wakeups"],
               "quote_timer_ticks": fl["timer_ticks"], "floor_empty_calls_s": fl["empty_calls_s"],
               "floor_logic_s": fl["logic_s"], "floor_strategy_alone_s": fl["strategy_alone_s"], "floor_events_per_s": mine["messages"] / floor_s, "live": lv}
    baselines: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    if isinstance(other, dict):
        baselines = {"hftbacktest_noop_events_per_s": other["noop"]["events_per_s"],
                     "hftbacktest_quote_events_per_s": other["quote"]["events_per_s"],
                     "hftbacktest_quote_fills": other["quote"]["fills"], "hftbacktest_quote_volume": other["quote"]["volume"],
                     "hftbacktest_quote_pnl": other["quote"]["pnl"]}
        ratios = {"noop_ours_over_peer": mine["noop"]["events_per_s"] / other["noop"]["events_per_s"],
                  "quote_ours_over_peer": mine["quote"]["events_per_s"] / other["quote"]["events_per_s"]}
        ratios["quote_floor_over_peer"] = (mine["messages"] / floor_s) / other["quote"]["events_per_s"]
        if other["quote"].get("cpu_s"):     # by CPU time: the same comparison, less at the mercy of the load
            ratios["quote_cpu_peer_over_ours"] = other["quote"]["cpu_s"] / mine["quote"]["cpu_s"]
            ratios["noop_cpu_peer_over_ours"] = other["noop"]["cpu_s"] / max(mine["noop"]["cpu_s"], 1e-9)
    else:
        baselines = {"hftbacktest": other}
    machine = {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
               "loadavg": [round(x, 2) for x in load], "quick": args.quick}
    print(json.dumps({"bench": "replay", "machine": machine, "metrics": metrics, "baselines": baselines,
                      "ratios": ratios}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
