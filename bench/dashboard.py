"""The web dashboard's cost, under a sustained load on a real venue (`python -m gateway up`):

- the latency from an engine event (a trade) to its appearance in the browser, P50/P99: the
  engine stamps the trade (CLOCK_MONOTONIC), the page notes the wall time it rendered the tape row
  (headless Chromium, Playwright), both on this host's clocks;
- the dashboard process's CPU (fraction of one core) with a browser open and with none;
- the order path's round trip (a Python client: NewOrderSingle -> ExecutionReport through the
  gateway) with the dashboard open against closed, in interleaved rounds of the same run
  (closed, open, closed, open, ..., closed; bench/ab_rounds.py): the ratio of the open rounds'
  median P50 (and P99) to the closed rounds', with a bootstrap interval over rounds, beside the
  same ratio between two halves of the closed rounds (the noise yardstick). "Within noise" means
  the open/closed ratio lies inside the noise band that yardstick spans (bench/ab_rounds.py).
  Closed: no browser connected (the page navigated to about:blank; the Chromium process stays,
  idle); open: the page on the books tab, live (a hidden tab's panels are not drawn).

Load: a producer slot submits a seeded maker/taker flow to the engine at --rate commands/s (trades,
book levels, acknowledgements on the event log the dashboard reads).

    python bench/dashboard.py [--quick] [--rate N]

Without Chromium (/usr/bin/chromium) the "browser" is a Python WebSocket client that logs in the
same way; the JSON says which.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab_rounds import Comparison, compare  # noqa: E402
import psutil  # noqa: E402

from gateway import launcher  # noqa: E402
from gateway.client import Client, ExecType, ExecutionReport, TimeInForce  # noqa: E402
from gateway.security.credentials import hash_token  # noqa: E402
from native.messages import Cancel, NewOrder, OrdType, Side, Tif  # noqa: E402
from shm.client import EngineClient  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "bench-operator-token"
MIN_SAMPLES = 30               # per round, whatever its time cap

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
    """A seeded maker/taker flow at `rate` commands/s (orders and cancels) through a producer slot, in 100-order batches.
    Makers cancel their oldest order once more than RESTING_MAKERS are out (filled ones too: the
    engine rejects those cancels), so the book stays bounded however long the run."""

    RESTING_MAKERS = 2000

    def __init__(self, venue: str, rate: int) -> None:
        super().__init__(daemon=True)
        self.venue, self.rate, self.sent = venue, rate, 0
        self.stop = threading.Event()

    def run(self) -> None:
        rng = random.Random(11)
        oid = 9_000_000_000
        makers: collections.deque[tuple[int, int]] = collections.deque()
        with EngineClient(self.venue) as eng:
            t0 = time.monotonic()
            while not self.stop.is_set():
                batch: list[NewOrder | Cancel] = []
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
                    if not taker:
                        makers.append((ins, oid))
                        if len(makers) > self.RESTING_MAKERS:
                            old_ins, old_oid = makers.popleft()
                            batch.append(Cancel(instrument_id=old_ins, order_id=old_oid))
                eng.submit_many(batch)
                self.sent += len(batch)
                ahead = self.sent / self.rate - (time.monotonic() - t0)
                if ahead > 0:
                    self.stop.wait(ahead)


def order_path(c: Client, samples: int, max_s: float = 1e9) -> list[int]:
    """Round trips (ns) of IOC buys far below the market: each is acknowledged and expires.
    Stops after `samples`, or after max_s once MIN_SAMPLES are in (a loaded host is slow)."""
    out: list[int] = []
    end = time.monotonic() + max_s
    for _ in range(samples):
        if len(out) >= MIN_SAMPLES and time.monotonic() > end:
            break
        t0 = time.perf_counter_ns()
        oid = c.buy(1, 1, "0.5000", account_id=1, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
        c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == oid
                     and m.exec_type != ExecType.NEW, 10.0)
        out.append(time.perf_counter_ns() - t0)
    return out


def pct(values: list[int] | list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), p)) if values else float("nan")


class Browser:
    """Chromium on the dashboard (books tab, ?measure), or a Python WebSocket client without it.
    launch() once; then show() opens the dashboard and hide() closes it (about:blank), as often as
    the rounds need: the login cookie stays in the browser profile, so a shown page is live again
    without a new login."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kind = "chromium" if Path(CHROMIUM).exists() else "python-websocket"
        self._pw: Any = None
        self.page: Any = None
        self.context: Any = None
        self.profile = ""
        self.cookie = ""
        self.ws: Any = None
        self.shown: list[tuple[int, int, float]] = []

    def launch(self) -> None:
        if self.kind != "chromium":
            self._login_cookie()
            return
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

    def show(self) -> None:
        if self.kind != "chromium":
            self._ws_thread()
            return
        if not self.page.url.startswith(self.url):
            self.page.goto(self.url + "?measure=1")
            self.page.wait_for_selector("#conn.up", timeout=30_000)
        self.page.click("#tabs [data-tab=books]")

    def hide(self) -> None:
        if self.kind == "chromium":
            self.page.goto("about:blank")          # the WebSocket closes with the page
        elif self.ws is not None:
            self.ws.close()
            self.ws = None

    def _login_cookie(self) -> None:
        req = urllib.request.Request(self.url + "api/login", data=json.dumps({"user": "ops", "token": TOKEN}).encode(),
                                     headers={"Content-Type": "application/json", "X-Dashboard": "1"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.cookie = resp.headers["set-cookie"].split(";", 1)[0]

    def _ws_thread(self) -> None:
        from websockets.sync.client import connect
        self.shown = []
        ws = self.ws = connect(self.url.replace("http://", "ws://") + "ws", additional_headers={"Cookie": self.cookie})
        ws.send(json.dumps({"since": 0}))
        seen: set[int] = set()
        shown = self.shown

        def loop() -> None:
            try:
                for raw in ws:
                    now = time.time_ns() / 1e6
                    msg = json.loads(raw)
                    if msg.get("panel") == "tape":
                        for t in msg["state"]["trades"]:
                            if t["seq"] not in seen:
                                seen.add(t["seq"])
                                shown.append((t["seq"], t["ts_ns"], now))
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
        else:
            self.hide()


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process that appeared in between (Chromium starts a
    renderer per navigation) counts from zero; one that ended in between is lost (its last
    interval is not readable after it exits)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


@dataclass
class Round:
    """One round of the order path under one condition."""
    open: bool
    rt_ns: list[int]
    dash_cores: float           # the dashboard process's CPU over the round, in cores
    browser_cores: float        # Chromium's (all its processes), in cores

    @property
    def p50(self) -> float:
        return pct(self.rt_ns, 50)

    @property
    def p99(self) -> float:
        return pct(self.rt_ns, 99)


def run_round(c: Client, dash_pid: int, browser: Browser, is_open: bool, samples: int, max_s: float) -> Round:
    d0, b0, w0 = cpu_by_pid([dash_pid]), cpu_by_pid(browser.pids()), time.monotonic()
    rt = order_path(c, samples, max_s)
    wall = max(time.monotonic() - w0, 1e-9)
    d1, b1 = cpu_by_pid([dash_pid]), cpu_by_pid(browser.pids())
    return Round(is_open, rt, cpu_used(d0, d1) / wall, cpu_used(b0, b1) / wall)


def rounds_table(rounds: list[Round]) -> None:
    print(f"{'round':<7}{'dashboard':<11}{'samples':>8}{'P50 us':>10}{'P99 us':>10}{'dash cores':>12}{'browser cores':>15}")
    for i, r in enumerate(rounds):
        print(f"{i + 1:<7}{'open' if r.open else 'closed':<11}{len(r.rt_ns):>8}{r.p50 / 1e3:>10.1f}{r.p99 / 1e3:>10.1f}"
              f"{r.dash_cores:>12.3f}{r.browser_cores:>15.3f}")


def verdict(name: str, c: Comparison) -> str:
    e, n = c.effect, c.noise
    return (f"{name:<5} open/closed {e.value:.3f} [{e.low:.3f}, {e.high:.3f}]   closed/closed (noise) "
            f"{n.value:.3f} [{n.low:.3f}, {n.high:.3f}], band [{c.band[0]:.3f}, {c.band[1]:.3f}]   -> "
            f"{'within noise' if c.within_noise else 'NOT within noise'}")


def report(quick: bool, mach: dict[str, Any], latencies: list[float], rounds: list[Round],
           sent_rate: float, browser_kind: str) -> None:
    """The tables, then the JSON line."""
    opened = [r for r in rounds if r.open]
    closed = [r for r in rounds if not r.open]
    c50 = compare([r.p50 for r in opened], [r.p50 for r in closed])
    c99 = compare([r.p99 for r in opened], [r.p99 for r in closed])
    lat_ms = [v / 1e6 for v in latencies]
    metrics = {"event_to_browser_p50_ns": pct(latencies, 50), "event_to_browser_p99_ns": pct(latencies, 99),
               "event_to_browser_samples": len(latencies),
               "dashboard_cpu_open_cores": float(np.mean([r.dash_cores for r in opened])),
               "browser_cpu_open_cores": float(np.mean([r.browser_cores for r in opened])),
               "order_path_open_p50_ns": float(np.median([r.p50 for r in opened])),
               "order_path_open_p99_ns": float(np.median([r.p99 for r in opened])),
               "rounds_open": len(opened), "rounds_closed": len(closed),
               "samples_per_round_min": min(len(r.rt_ns) for r in rounds),
               "load_commands_per_s": sent_rate, "browser": browser_kind,
               "p50_within_noise": c50.within_noise, "p99_within_noise": c99.within_noise}
    baselines = {"order_path_closed_p50_ns": float(np.median([r.p50 for r in closed])),
                 "order_path_closed_p99_ns": float(np.median([r.p99 for r in closed])),
                 "dashboard_cpu_closed_cores": float(np.mean([r.dash_cores for r in closed])),
                 "refresh_interval_ns": 1e9 / 4.0}
    ratios = {"order_path_p50_open_vs_closed": c50.effect.value,
              "order_path_p50_open_vs_closed_interval": [c50.effect.low, c50.effect.high],
              "order_path_p50_noise_closed_vs_closed": c50.noise.value,
              "order_path_p50_noise_interval": [c50.noise.low, c50.noise.high],
              "order_path_p50_noise_band": list(c50.band),
              "order_path_p99_open_vs_closed": c99.effect.value,
              "order_path_p99_open_vs_closed_interval": [c99.effect.low, c99.effect.high],
              "order_path_p99_noise_closed_vs_closed": c99.noise.value,
              "order_path_p99_noise_interval": [c99.noise.low, c99.noise.high],
              "order_path_p99_noise_band": list(c99.band),
              "event_to_browser_p50_vs_refresh_interval": metrics["event_to_browser_p50_ns"] / baselines["refresh_interval_ns"]}
    print(f"dashboard bench ({'quick' if quick else 'full'}): load {sent_rate:,.0f} commands/s through a producer "
          f"slot, browser: {browser_kind}, load average {os.getloadavg()[0]:.1f} at the end")
    rounds_table(rounds)
    print(f"order path over {len(opened)} open and {len(closed)} closed rounds (ratio of the rounds' medians, "
          "90% bootstrap interval over rounds):")
    print("  " + verdict("P50", c50))
    print("  " + verdict("P99", c99))
    print(f"engine trade -> shown in the browser: P50 {pct(lat_ms, 50):.1f} ms, P99 {pct(lat_ms, 99):.1f} ms "
          f"({len(lat_ms)} trades; conflated to 4 updates/s)")
    print(f"dashboard process CPU: {baselines['dashboard_cpu_closed_cores']:.3f} cores closed, "
          f"{metrics['dashboard_cpu_open_cores']:.3f} cores open; Chromium {metrics['browser_cpu_open_cores']:.3f} cores open")
    print(json.dumps({"bench": "dashboard", "machine": mach, "metrics": metrics, "baselines": baselines,
                      "ratios": ratios}))


def measure(c: Client, dash_pid: int, browser: Browser, pairs: int, samples: int,
            max_s: float) -> tuple[list[Round], list[float]]:
    """closed, open, closed, ..., closed: `pairs` open rounds between pairs + 1 closed ones."""
    rounds: list[Round] = []
    latencies: list[float] = []
    offset_ns = time.time_ns() - time.monotonic_ns()
    for i in range(2 * pairs + 1):
        is_open = i % 2 == 1
        if is_open:
            browser.show()
            time.sleep(1.0)                                    # its first catch-up is not the steady state
        start_ms = time.time_ns() / 1e6
        rounds.append(run_round(c, dash_pid, browser, is_open, samples, max_s))
        if is_open:
            time.sleep(0.5)                                    # the last trades reach the page
            for _seq, ts_ns, shown_ms in browser.shown_since(start_ms):
                latencies.append(shown_ms * 1e6 - (ts_ns + offset_ns))
            browser.hide()
            time.sleep(0.3)                                    # the socket is gone before the next round
    return rounds, latencies


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description="The web dashboard's cost under load (see the module docstring).")
    ap.add_argument("--quick", action="store_true", help="fewer rounds and samples: finishes within 60 s")
    ap.add_argument("--rate", type=int, default=5000, help="load: commands/s (orders, and the makers' cancels) through a producer slot")
    ap.add_argument("--pairs", type=int, default=None, help="open rounds (closed: one more); default 4 quick, 8 full")
    ap.add_argument("--samples", type=int, default=None, help="most order round trips per round; default 20000 quick, 100000 full")
    ap.add_argument("--round-s", type=float, default=None,
                    help=f"seconds per round (ended early by --samples; at least {MIN_SAMPLES} samples on a slow "
                         "host); default 1.2 quick, 10 full")
    args = ap.parse_args()
    if not 100 <= args.rate <= 1_000_000:
        ap.error(f"--rate must be 100..1000000, got {args.rate}")
    pairs = args.pairs if args.pairs is not None else (4 if args.quick else 8)
    samples = args.samples if args.samples is not None else (20_000 if args.quick else 100_000)
    round_s = args.round_s if args.round_s is not None else (1.2 if args.quick else 10.0)
    if not 2 <= pairs <= 100 or not MIN_SAMPLES <= samples <= 100_000 or not 0.1 <= round_s <= 600:
        ap.error(f"--pairs must be 2..100, --samples {MIN_SAMPLES}..100000 and --round-s 0.1..600")
    mach = machine()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    with launcher.Venue(prefix="bd", log_dir=tmp, stop_deadline_s=30) as venue:
        cfg = tmp / "venue.toml"
        cfg.write_text(CONFIG.format(name=venue.name, audit=tmp / "audit.jsonl",
                                     token_hash=hash_token(TOKEN).encode()))
        ready = venue.start_up(cfg, tmp / "run", tmp / "ready.json")
        dash_pid = int(ready["pids"]["dashboard"])
        host, _, port = ready["gateway"].rpartition(":")
        load = Load(ready["venue"], args.rate)
        load_t0 = time.monotonic()
        load.start()
        browser = Browser(ready["dashboard"])
        c: Client | None = None
        try:
            browser.launch()
            browser.hide()
            # connected after Chromium's start (slow on a loaded host); a long keepalive covers the
            # pauses between rounds while the page is shown or hidden
            c = Client.connect(host, int(port), 101, 1, "key-101", keepalive_ms=60_000)
            order_path(c, 50)                                  # warm-up
            rounds, latencies = measure(c, dash_pid, browser, pairs, samples, round_s)
        finally:
            browser.close()
            load.stop.set()
            load.join(10)
            if c is not None:
                c.terminate()
        sent_rate = load.sent / (time.monotonic() - load_t0)
    report(args.quick, mach, latencies, rounds, sent_rate, browser.kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
