"""How fast does a strategy running as an external participant (trading/strategy/tcp.py: orders
over the order-entry gateway, its book from the venue's market-data feed) answer a market event?

A venue under ``python -m gateway up`` (through the one launcher, gateway/launcher.py) and its feed
(``python -m gateway md publish`` over ZeroMQ, joined late from its recovery server). Another
firm's process (session 201) raises the best bid one tick at a time: it sends a limit buy over its
own gateway session, waits for the acknowledgement, cancels its previous bid, pauses. The strategy
(session 101) reacts to every new best bid by cancelling its order and resting a new one 50 ticks
below it (it never moves the best bid it watches).

Measured, on CLOCK_MONOTONIC (one host, so the two processes' clocks agree):
- market event -> strategy's order: from the other firm writing its order to its socket to the
  strategy writing its reaction to its own socket (gateway, engine, feed publisher, ZeroMQ, the
  runner and the strategy), P50/P99;
- in the runner: from the poll that brought the feed's packet to the reaction written, P50/P99;
- baseline, in the same run: the other firm's order -> its acknowledgement over its session (the
  gateway round trip every TCP reaction contains at least once).
The in-process path (own producer slot, event log) is bench/replay.py's "live" rows.

Usage: python bench/strategy_tcp.py [--quick]
Table first, then one JSON line: {"bench": "strategy_tcp", "machine", "metrics", "baselines", "ratios"}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.client import Client  # noqa: E402
from gateway.launcher import Venue  # noqa: E402
from gateway.marketdata.recovery import RecoveryClient  # noqa: E402
from gateway.marketdata.subscriber import Subscriber  # noqa: E402
from gateway.marketdata.transport import ZmqReceiver  # noqa: E402
from trading.strategy.api import Strategy  # noqa: E402
from trading.strategy.context import Context  # noqa: E402
from trading.strategy.tcp import TcpRunner  # noqa: E402

DEADLINE_S = 120.0
FEED_SESSION = "VENUE"
CONFIG = """
[venue]
name = "{name}"
max_accounts = 8
[gateway]
listen = "127.0.0.1:0"
admin_endpoint = ""
[control]
command_endpoint = "tcp://127.0.0.1:*"
publish_endpoint = "tcp://127.0.0.1:*"
audit_log = "{audit}"
[schedule]
pre_open = 0
open = 0
[[instruments]]
id = 1
symbol = "ACME"
tick = 1
lot = 1
reference_price = 10000
[[firms]]
firm_id = 1
name = "alpha"
accounts = [1, 2]
[[firms]]
firm_id = 2
name = "beta"
accounts = [3]
[[sessions]]
session_id = 101
firm_id = 1
key = "key-101"
[[sessions]]
session_id = 201
firm_id = 2
key = "key-201"
[[users]]
name = "ops"
role = "operator"
# the scrypt hash of "operator-token-1" (python -m gateway keys hash-token)
token_hash = "scrypt$16384$8$1$zKEevEElieZ+Xhi+oeaZZA==$XXQ1F0m1ZrUpGWGGWsNmqB5+SvAm8DgGAw64u+kypX4="
"""

# the other firm: raises the best bid one tick per step; prints [price, sent_ns, acked_ns] per order
FEEDER = r"""
import json, sys, time
from gateway.client import Client, ExecType, Side
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402
port, n, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
c = Client.connect("127.0.0.1", port, 201, 2, "key-201", keepalive_ms=20_000)
out, prev = [], None
for i in range(n):
    price = 9_000 + i
    sent = time.monotonic_ns()
    cid = c.new_order(1, Side.BUY, 1, 3, price=price)
    c.wait_report(cid, ExecType.NEW, timeout_s=20)
    out.append([price, sent, time.monotonic_ns()])
    if prev is not None:
        c.cancel_order(prev)
    prev = cid
    time.sleep(pause)
c.terminate()
print(json.dumps(out))
"""


class Reactor(Strategy):
    """Reacts to every new best bid: cancels its order, rests one 50 ticks under the bid."""

    def __init__(self) -> None:
        super().__init__()
        self.last: int | None = None
        self.pending: int | None = None     # the bid it just reacted to (the bench takes it)

    def on_book(self, ctx: Context) -> None:
        bid = ctx.book.best_bid
        if bid is None or bid == self.last:
            return
        self.last = bid
        for o in list(ctx.orders.values()):
            if o.status == "live":
                ctx.cancel(o.order_id)
        ctx.buy(bid - 50, 1)
        self.pending = bid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentiles(ns: list[int]) -> dict[str, float]:
    a = np.array(ns[5:] or ns, dtype=np.int64)       # the first few warm up
    return {"n": int(len(a)), "p50_us": float(np.percentile(a, 50)) / 1e3, "p99_us": float(np.percentile(a, 99)) / 1e3,
            "max_us": float(a.max()) / 1e3}


def _feed(zmq_port: int, recovery_port: int) -> Subscriber:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            return Subscriber(ZmqReceiver(f"tcp://127.0.0.1:{zmq_port}"),
                              RecoveryClient(("127.0.0.1", recovery_port), FEED_SESSION), FEED_SESSION, late_join=True)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def measure(quick: bool) -> dict[str, Any]:
    n = 300 if quick else 2000
    with tempfile.TemporaryDirectory(prefix="strategy-tcp-") as tmp_name, \
            Venue(prefix="st", log_dir=Path(tmp_name), stop_deadline_s=60.0) as venue:
        tmp = Path(tmp_name)
        config = tmp / "venue.toml"
        config.write_text(CONFIG.format(name=venue.name, audit=tmp / "audit.jsonl"))
        ready = venue.start_up(config, tmp / "run", tmp / "ready.json", deadline_s=DEADLINE_S)
        port = int(ready["gateway"].rpartition(":")[2])
        zmq_port, recovery_port = _free_port(), _free_port()
        venue.spawn("md", [sys.executable, "-m", "gateway", "md", "publish", "--engine", venue.name, "--no-udp",
                           "--zmq", f"tcp://127.0.0.1:{zmq_port}", "--recovery-port", str(recovery_port),
                           "--duration-s", "3600", "--heartbeat-ms", "100", "--spin-polls", "20000"],
                    stdout_to_log=True)
        strategy = Reactor()
        runner = TcpRunner(Client.connect("127.0.0.1", port, 101, 1, "key-101", keepalive_ms=20_000),
                           _feed(zmq_port, recovery_port), strategy, instrument_id=1, account_id=1)
        runner.start()
        feeder = subprocess.Popen([sys.executable, "-c", FEEDER, str(port), str(n), "0.005"], cwd=REPO,
                                  env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True)
        reacted: dict[int, int] = {}
        while feeder.poll() is None:
            runner.step(0.0)
            if strategy.pending is not None:
                reacted.setdefault(strategy.pending, runner.sent_at_ns)
                strategy.pending = None
        out, _ = feeder.communicate(timeout=DEADLINE_S)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            runner.step(0.001)
        runner.stop()
        orders = json.loads(out.strip().splitlines()[-1]) if feeder.returncode == 0 and out.strip() else []
    if not orders:
        return {"error": f"the other firm's process failed (exit {feeder.returncode})"}
    event_to_order = [reacted[p] - sent for p, sent, _ in orders if p in reacted]
    return {"orders": len(orders), "reactions": len(event_to_order), "error": runner.error,
            "event_to_order": _percentiles(event_to_order) if event_to_order else {},
            "in_runner": _percentiles(list(runner.reaction_ns)) if runner.reaction_ns else {},
            "in_runner_cpu": _percentiles(list(runner.reaction_cpu_ns)) if runner.reaction_cpu_ns else {},
            "order_to_ack": _percentiles([acked - sent for _, sent, acked in orders])}


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    load = os.getloadavg()
    r = measure(args.quick)
    if "event_to_order" not in r or not r["event_to_order"]:
        print(f"strategy over TCP: no reactions measured ({r.get('error')})")
        return 1
    e, i, c, b = r["event_to_order"], r["in_runner"], r["in_runner_cpu"], r["order_to_ack"]
    print(f"{'path':<46} {'n':>6} {'P50 us':>9} {'P99 us':>9} {'max us':>9}")
    for label, s in (("market event -> strategy's order (TCP)", e), ("in the runner: poll -> order written", i),
                     ("  the same, the runner's CPU time", c), ("baseline: other firm's order -> its ack", b)):
        if s:
            print(f"{label:<46} {s['n']:>6} {s['p50_us']:>9.1f} {s['p99_us']:>9.1f} {s['max_us']:>9.1f}")
    print(f"{r['reactions']} of {r['orders']} new best bids answered; load average at start: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    machine = {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
               "loadavg": [round(x, 2) for x in load], "quick": args.quick}
    metrics = {"event_to_order_p50_ns": e["p50_us"] * 1e3, "event_to_order_p99_ns": e["p99_us"] * 1e3,
               "in_runner_p50_ns": i.get("p50_us", 0.0) * 1e3, "in_runner_p99_ns": i.get("p99_us", 0.0) * 1e3,
               "in_runner_cpu_p50_ns": c.get("p50_us", 0.0) * 1e3, "in_runner_cpu_p99_ns": c.get("p99_us", 0.0) * 1e3,
               "reactions": r["reactions"], "orders": r["orders"]}
    baselines = {"order_to_ack_p50_ns": b["p50_us"] * 1e3, "order_to_ack_p99_ns": b["p99_us"] * 1e3}
    ratios = {"event_to_order_over_order_to_ack_p50": e["p50_us"] / b["p50_us"],
              "event_to_order_over_order_to_ack_p99": e["p99_us"] / b["p99_us"]}
    print(json.dumps({"bench": "strategy_tcp", "machine": machine, "metrics": metrics, "baselines": baselines,
                      "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
