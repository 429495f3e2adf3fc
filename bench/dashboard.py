"""The web dashboard's cost, under a sustained load on a real venue (`python -m gateway up`):

- the latency from an engine event (a trade) to its appearance in the browser, P50/P99: the
  engine stamps the trade (CLOCK_MONOTONIC), the page notes the wall time it rendered the tape row
  (headless Chromium, Playwright), both on this host's clocks;
- the dashboard process's CPU (fraction of one core) with a browser open and with none;
- the order path's round trip (a Python client: NewOrderSingle -> ExecutionReport through the
  gateway) with the dashboard open against closed, in alternating phases of the same run: the
  ratio is the dashboard's effect on the order path (target: within noise).

Load: a producer slot submits a seeded maker/taker flow to the engine at --rate orders/s (trades,
book levels, acknowledgements on the event log the dashboard reads).

    python bench/dashboard.py [--quick] [--rate N]

Without Chromium (/usr/bin/chromium) the "browser" is a Python WebSocket client that logs in the
same way; the JSON says which.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from gateway import launcher  # noqa: E402
from gateway.client import Client, ExecType, ExecutionReport, TimeInForce  # noqa: E402
from gateway.security.credentials import hash_token  # noqa: E402
from native.messages import NewOrder, OrdType, Side, Tif  # noqa: E402
from shm.client import EngineClient  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "bench-operator-token"

CONFIG = """
[venue]
name = "{name}"
max_accounts = 64
[gateway]
listen = "127.0.0.1:0"
admin_endpoint = "tcp://127.0.0.1:*"
[control]
command_endpoint = "tcp://127.0.0.1:*"
publish_endpoint = "tcp://127.0.0.1:*"
audit_log = "{audit}"
status_interval_ms = 500
[dashboard]
listen = "127.0.0.1:0"
refresh_hz = 4.0
[schedule]
pre_open = 0
open = 0
[[instruments]]
id = 1
symbol = "ACME"
tick = 1
lot = 1
reference_price = 10000
[[instruments]]
id = 2
symbol = "BETA"
tick = 5
lot = 1
reference_price = 5000
[[firms]]
firm_id = 1
name = "alpha"
accounts = [1, 2]
[[firms]]
firm_id = 2
name = "beta"
accounts = [3, 4]
[[sessions]]
session_id = 101
firm_id = 1
key = "key-101"
[[users]]
name = "ops"
role = "operator"
roles = ["risk_officer"]
token_hash = "{token_hash}"
"""


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "cpu_model": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                               if line.startswith("model name")), "unknown"),
            "loadavg_at_start": os.getloadavg(),
            "placement": "engine, control plane, gateway, dashboard and Chromium unpinned, SCHED_OTHER, "
                         "engine --wait backoff; load producer and order-path client in this process",
            "note": "shared VM: other work running; tails include interference"}


class Load(threading.Thread):
    """A seeded maker/taker flow at `rate` orders/s through a producer slot, in 100-order batches."""

    def __init__(self, venue: str, rate: int) -> None:
        super().__init__(daemon=True)
        self.venue, self.rate, self.sent = venue, rate, 0
        self.stop = threading.Event()

    def run(self) -> None:
        rng = random.Random(11)
        oid = 9_000_000_000
        with EngineClient(self.venue) as eng:
            t0 = time.monotonic()
            while not self.stop.is_set():
                batch = []
                for _ in range(100):
                    oid += 1
                    ins, ref, tick = ((1, 10000, 1), (2, 5000, 5))[oid % 2]
                    side = rng.choice((int(Side.BUY), int(Side.SELL)))
                    taker = oid % 4 == 0
                    off = (-6 if side == Side.BUY else 6) * tick if taker else rng.randint(1, 8) * tick
                    batch.append(NewOrder(instrument_id=ins, order_id=oid, client_order_id=oid,
                                          price=ref - off if side == Side.BUY else ref + off,
                                          qty=rng.randint(1, 30), side=side, ord_type=int(OrdType.LIMIT),
                                          tif=int(Tif.IOC if taker else Tif.DAY), account_id=4 if taker else 3))
                eng.submit_many(batch)
                self.sent += len(batch)
                ahead = self.sent / self.rate - (time.monotonic() - t0)
                if ahead > 0:
                    self.stop.wait(ahead)


def order_path(c: Client, samples: int) -> list[int]:
    """Round trips (ns) of IOC buys far below the market: each is acknowledged and expires."""
    out = []
    for _ in range(samples):
        t0 = time.perf_counter_ns()
        oid = c.buy(1, 1, "0.5000", account_id=1, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
        c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == oid
                     and m.exec_type != ExecType.NEW, 10.0)
        out.append(time.perf_counter_ns() - t0)
    return out


def pct(values: list[int] | list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), p)) if values else float("nan")


class Browser:
    """Chromium on the dashboard (books tab, ?measure), or a Python WebSocket client without it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kind = "chromium" if Path(CHROMIUM).exists() else "python-websocket"
        self._pw: Any = None
        self.page: Any = None
        self.context: Any = None
        self.profile = ""

    def open(self) -> None:
        if self.kind == "chromium":
            from playwright.sync_api import sync_playwright
            self._pw = sync_playwright().start()
            self.profile = tempfile.mkdtemp(prefix="dash-bench-")
            self.context = self._pw.chromium.launch_persistent_context(
                self.profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 1000})
            self.page = self.context.new_page()
            self.page.goto(self.url + "?measure=1")
            self.page.fill("#user", "ops")
            self.page.fill("#token", TOKEN)
            self.page.click("#login-button")
            self.page.wait_for_selector("#conn.up", timeout=30_000)
            self.page.click("#tabs [data-tab=books]")
        else:
            self._ws_thread()

    def _ws_thread(self) -> None:
        from websockets.sync.client import connect
        req = urllib.request.Request(self.url + "api/login", data=json.dumps({"user": "ops", "token": TOKEN}).encode(),
                                     headers={"Content-Type": "application/json", "X-Dashboard": "1"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            cookie = resp.headers["set-cookie"].split(";", 1)[0]
        self.shown: list[tuple[int, int, float]] = []
        self.ws = connect(self.url.replace("http://", "ws://") + "ws", additional_headers={"Cookie": cookie})
        self.ws.send(json.dumps({"since": 0}))
        seen: set[int] = set()

        def loop() -> None:
            try:
                for raw in self.ws:
                    now = time.time_ns() / 1e6
                    msg = json.loads(raw)
                    if msg.get("panel") == "tape":
                        for t in msg["state"]["trades"]:
                            if t["seq"] not in seen:
                                seen.add(t["seq"])
                                self.shown.append((t["seq"], t["ts_ns"], now))
            except Exception:
                return
        threading.Thread(target=loop, daemon=True).start()

    def shown_since(self, start_wall_ms: float) -> list[tuple[int, int, float]]:
        rows = self.page.evaluate("window.dashboard.shown") if self.kind == "chromium" else list(self.shown)
        return [tuple(r) for r in rows if r[2] >= start_wall_ms]

    def pids(self) -> list[int]:
        if self.kind != "chromium":
            return []
        return [p.pid for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]

    def close(self) -> None:
        if self.kind == "chromium" and self._pw is not None:
            self.context.close()
            self._pw.stop()
            import shutil
            shutil.rmtree(self.profile, ignore_errors=True)
        elif self.kind != "chromium" and getattr(self, "ws", None) is not None:
            self.ws.close()


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def phase(c: Client, dash_pid: int, samples: int) -> tuple[list[int], float, float]:
    c0, w0 = cpu_s([dash_pid]), time.monotonic()
    rt = order_path(c, samples)
    return rt, cpu_s([dash_pid]) - c0, time.monotonic() - w0


def report(quick: bool, mach: dict[str, Any], latencies: list[float], closed: list[int], opened: list[int],
           cpu: dict[str, list[float]], sent_rate: float, browser_kind: str) -> None:
    """The table, then the JSON line."""
    lat_ms = [v / 1e6 for v in latencies]
    metrics = {"event_to_browser_p50_ns": pct(latencies, 50), "event_to_browser_p99_ns": pct(latencies, 99),
               "event_to_browser_samples": len(latencies),
               "dashboard_cpu_open_cores": cpu["open"][0] / max(cpu["open"][1], 1e-9),
               "order_path_open_p50_ns": pct(opened, 50), "order_path_open_p99_ns": pct(opened, 99),
               "load_orders_per_s": sent_rate, "browser": browser_kind}
    baselines = {"order_path_closed_p50_ns": pct(closed, 50), "order_path_closed_p99_ns": pct(closed, 99),
                 "dashboard_cpu_closed_cores": cpu["closed"][0] / max(cpu["closed"][1], 1e-9),
                 "refresh_interval_ns": 1e9 / 4.0}
    ratios = {"order_path_p50_open_vs_closed": metrics["order_path_open_p50_ns"] / baselines["order_path_closed_p50_ns"],
              "order_path_p99_open_vs_closed": metrics["order_path_open_p99_ns"] / baselines["order_path_closed_p99_ns"],
              "event_to_browser_p50_vs_refresh_interval": metrics["event_to_browser_p50_ns"] / baselines["refresh_interval_ns"]}
    print(f"dashboard bench ({'quick' if quick else 'full'}): load {sent_rate:,.0f} orders/s through a producer "
          f"slot, browser: {metrics['browser']}, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'measure':<44}{'P50':>12}{'P99':>12}")
    print(f"{'engine trade -> shown in the browser (ms)':<44}{pct(lat_ms, 50):>12.1f}{pct(lat_ms, 99):>12.1f}"
          f"   ({len(lat_ms)} trades; conflated to 4 updates/s)")
    print(f"{'order path, dashboard closed (us)':<44}{pct(closed, 50) / 1e3:>12.1f}{pct(closed, 99) / 1e3:>12.1f}")
    print(f"{'order path, dashboard open (us)':<44}{pct(opened, 50) / 1e3:>12.1f}{pct(opened, 99) / 1e3:>12.1f}")
    print(f"{'ratio open / closed':<44}{ratios['order_path_p50_open_vs_closed']:>12.2f}{ratios['order_path_p99_open_vs_closed']:>12.2f}")
    print(f"dashboard process CPU: {baselines['dashboard_cpu_closed_cores']:.2f} cores closed, "
          f"{metrics['dashboard_cpu_open_cores']:.2f} cores open")
    print(json.dumps({"bench": "dashboard", "machine": mach, "metrics": metrics, "baselines": baselines,
                      "ratios": ratios}))


def main() -> int:
    ap = argparse.ArgumentParser(description="The web dashboard's cost under load (see the module docstring).")
    ap.add_argument("--quick", action="store_true", help="fewer samples: finishes within 60 s")
    ap.add_argument("--rate", type=int, default=5000, help="load: orders/s through a producer slot")
    args = ap.parse_args()
    if not 100 <= args.rate <= 1_000_000:
        ap.error(f"--rate must be 100..1000000, got {args.rate}")
    samples, rounds = (200, 2) if args.quick else (2000, 3)
    mach = machine()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    with launcher.Venue(prefix="bd", log_dir=tmp, stop_deadline_s=30) as venue:
        cfg = tmp / "venue.toml"
        cfg.write_text(CONFIG.format(name=venue.name, audit=tmp / "audit.jsonl",
                                     token_hash=hash_token(TOKEN).encode()))
        ready = venue.start_up(cfg, tmp / "run", tmp / "ready.json")
        dash_pid = int(ready["pids"]["dashboard"])
        host, _, port = ready["gateway"].rpartition(":")
        c = Client.connect(host, int(port), 101, 1, "key-101", keepalive_ms=20000)
        load = Load(ready["venue"], args.rate)
        load_t0 = time.monotonic()
        load.start()
        browser = Browser(ready["dashboard"])
        closed: list[int] = []
        opened: list[int] = []
        cpu = {"closed": [0.0, 0.0], "open": [0.0, 0.0]}
        latencies: list[float] = []
        offset_ns = time.time_ns() - time.monotonic_ns()
        try:
            order_path(c, 50)                                  # warm-up
            for _ in range(rounds):
                rt, used, wall = phase(c, dash_pid, samples)
                closed += rt
                cpu["closed"][0] += used
                cpu["closed"][1] += wall
                browser.open()
                time.sleep(1.0)                                # its first catch-up is not the steady state
                start_ms = time.time_ns() / 1e6
                rt, used, wall = phase(c, dash_pid, samples)
                opened += rt
                cpu["open"][0] += used
                cpu["open"][1] += wall
                time.sleep(0.6)                                # the last trades reach the page
                for _seq, ts_ns, shown_ms in browser.shown_since(start_ms):
                    latencies.append(shown_ms * 1e6 - (ts_ns + offset_ns))
                browser.close()
                browser = Browser(ready["dashboard"])
        finally:
            load.stop.set()
            load.join(10)
            c.terminate()
        sent_rate = load.sent / (time.monotonic() - load_t0)
    browser_kind = Browser("http://x/").kind
    report(args.quick, mach, latencies, closed, opened, cpu, sent_rate, browser_kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
