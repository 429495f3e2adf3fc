"""How long a client waits when a venue process dies under ``python -m gateway up``, and what
``journal verify``'s loss and damage checks cost beside its replay.

Part 1 (supervision): ``up`` on a journaled venue (three instruments, two sessions); each process
kind is SIGKILLed in turn, REPS times, and the time is taken from the kill until the venue serves
again as a client sees it: engine and gateway, until a reconnected session's order is
acknowledged (the engine: recovered from its journal, the control plane restarted after it, the
gateway resumed on it; the gateway: restarted on its port); control plane, until its status
answers. Kills come RESTART_STABLE_S apart at most, so the back-off grows as in a real crash
loop: the first restart of a kind is immediate, later ones wait 0.1, 0.2 s... (bounded here by
--restart-backoff-max 0.5 s so the bench stays short); the table shows each kill's figure.
Baseline, same run: the cold start of the whole venue (``up`` launched until its ready file).

Part 2 (verify): a journal of N commands written by a real engine process; the time of
``journal.problems()`` (segment headers' released seqs, both journals opened read-only with every
record's checksum) beside the replay from scratch that ``journal verify`` also does.

Figures on a shared machine move with the load: the JSON line carries the load average before and
after. Table first, then one JSON line: {"bench": "life", "machine", "metrics", "baselines",
"ratios"}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.client import Client, ClientError, ExecType  # noqa: E402
from gateway.control.client import ControlClient  # noqa: E402
from gateway.control.running_config import RUNNING_CONFIG_NAME  # noqa: E402
from gateway.enginehost import journal  # noqa: E402
from gateway.launcher import Venue, engine_pid, pid_of, run_main  # noqa: E402
from shm.client import EngineClient  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

DEADLINE_S = 120.0
CONFIG = """
[venue]
name = "{name}"
max_accounts = 16
[journal]
dir = "{journal}"
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
[[sessions]]
session_id = 101
firm_id = 1
key = "key-101"
[[users]]
name = "ops"
role = "operator"
# the scrypt hash of "operator-token-1" (python -m gateway keys hash-token)
token_hash = "scrypt$16384$8$1$zKEevEElieZ+Xhi+oeaZZA==$XXQ1F0m1ZrUpGWGGWsNmqB5+SvAm8DgGAw64u+kypX4="
"""


class LifeVenue:
    """`up` on CONFIG through the one launcher (gateway/launcher.py), and how a client sees it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.venue = Venue(prefix="lf", log_dir=tmp, stop_deadline_s=60.0)
        self.name = self.venue.name
        self.config = tmp / "venue.toml"
        self.config.write_text(CONFIG.format(name=self.name, journal=tmp / "journal",
                                             audit=tmp / "audit.jsonl"))
        self.port = 0
        self.next_seq = 1
        self.cl_ord_id = 1

    def start(self) -> float:
        t0 = time.perf_counter()
        ready = self.venue.start_up(self.config, self.tmp / "run", self.tmp / "ready.json",
                                    "--restart-backoff-max", "0.5", deadline_s=DEADLINE_S)
        elapsed = time.perf_counter() - t0
        self.port = int(ready["gateway"].rpartition(":")[2])
        return elapsed

    def wait(self, cond: Callable[[], Any], what: str) -> Any:
        return self.venue.wait_for(cond, what, DEADLINE_S)

    def order_acked(self) -> bool:
        """A fresh connection of session 101 gets an order acknowledged (False: not yet)."""
        try:
            c = Client.connect("127.0.0.1", self.port, 101, 1, "key-101", keepalive_ms=20000,
                               next_seq_no=self.next_seq, timeout_s=2.0)
        except (ClientError, OSError):
            return False
        try:
            cid = c.buy(1, 1, "1.00", account_id=1, cl_ord_id=self.cl_ord_id)
            self.cl_ord_id += 1
            r = c.wait_report(cid, timeout_s=10.0)
            return r.exec_type == ExecType.NEW
        except (ClientError, OSError):
            return False
        finally:
            self.next_seq = c.core.next_seq_out
            c.close()

    def control_answers(self) -> bool:
        try:
            ep = json.loads((self.tmp / "run" / "control.json").read_text())
            with ControlClient(ep["command"], "ops", "operator-token-1", timeout_s=1.0) as ctl:
                return bool(ctl.call("status")["engine"]["alive"])
        except Exception:           # not written yet, or a dead endpoint: not yet
            return False

    def kill_and_time(self, kind: str) -> float:
        if kind == "engine":
            pid = engine_pid(self.name)
        elif kind == "control":
            pid = pid_of("gateway control", str(self.tmp / "run" / RUNNING_CONFIG_NAME)) or 0
        else:
            pid = pid_of("gateway gateway --engine", self.name) or 0
        assert pid, kind
        t0 = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        if kind == "control":
            self.wait(lambda: pid_of("gateway control", str(self.tmp / "run" / RUNNING_CONFIG_NAME)) not in (None, pid)
                      and self.control_answers(), "the control plane")
        else:
            if kind == "engine":
                self.wait(lambda: engine_pid(self.name) not in (0, pid), "a new engine")
            self.wait(self.order_acked, f"service after the {kind}'s restart")
        return time.perf_counter() - t0

    def close(self) -> None:
        self.venue.close()


def supervision(reps: int) -> tuple[dict[str, Any], float]:
    with tempfile.TemporaryDirectory(prefix="bench-life-") as d:
        v = LifeVenue(Path(d))
        try:
            cold = v.start()
            v.wait(v.order_acked, "the first order")
            out: dict[str, Any] = {}
            for kind in ("engine", "control", "gateway"):
                out[kind] = [v.kill_and_time(kind) for _ in range(reps)]
            return out, cold
        finally:
            v.close()


def journal_checks(n: int) -> dict[str, float]:
    from tests.journal.conftest import order_stream   # the journal tests' seeded crossing flow
    with tempfile.TemporaryDirectory(prefix="bench-life-j-") as d:
        jdir = Path(d) / "journal"
        with Venue(prefix="lj", stop_deadline_s=120.0) as venue:
            venue.start_engine("--no-mlock", "--instruments", "1,2", "--max-orders", str(1 << 20),
                               "--journal", str(jdir), "--durability", "async")
            cmds = order_stream(random.Random(17), n, 1)
            with EngineClient(venue.name) as client:
                for k in range(0, n, 4096):
                    client.submit_many(cmds[k:k + 4096])
        t0 = time.perf_counter()
        found = journal.problems(str(jdir))
        t1 = time.perf_counter()
        res, e = journal.verify(str(jdir))
        t2 = time.perf_counter()
        e.close()
        assert not found, found
        return {"commands": float(res.commands), "problems_s": t1 - t0, "replay_s": t2 - t1}


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    p = argparse.ArgumentParser(prog="python bench/life.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 kills per kind, a 100k journal (< 60 s)")
    args = p.parse_args()
    reps, n = (3, 100_000) if args.quick else (10, 1_000_000)
    load_before = os.getloadavg()[0]
    restarts, cold = supervision(reps)
    jr = journal_checks(n)

    print(f"life bench: load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"({os.cpu_count()} CPUs, shared; figures move with the load)")
    print(f"  cold start of the venue (up -> ready file): {cold:.2f} s")
    print(f"  {'killed':<8} {'kill -> serving again, s (each kill; back-off grows)':<60}")
    for kind, times in restarts.items():
        print(f"  {kind:<8} " + " ".join(f"{t:6.2f}" for t in times))
    print(f"  journal of {int(jr['commands']):,} commands: verify's loss/damage checks "
          f"{jr['problems_s'] * 1e3:.1f} ms, its replay {jr['replay_s'] * 1e3:.1f} ms")

    metrics: dict[str, float] = {"cold_start_s": cold}
    ratios: dict[str, float] = {}
    for kind, times in restarts.items():
        metrics[f"{kind}_restart_first_s"] = times[0]
        metrics[f"{kind}_restart_median_s"] = sorted(times)[len(times) // 2]
        metrics[f"{kind}_restart_max_s"] = max(times)
        ratios[f"{kind}_restart_first_vs_cold_start"] = times[0] / cold
    metrics.update({"journal_commands": jr["commands"],
                    "verify_checks_ms": jr["problems_s"] * 1e3,
                    "verify_replay_ms": jr["replay_s"] * 1e3})
    ratios["verify_checks_vs_replay"] = jr["problems_s"] / jr["replay_s"]
    print(json.dumps({
        "bench": "life",
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "quick": args.quick,
                    "kills_per_kind": reps, "restart_backoff_max_s": 0.5,
                    "loadavg_1m_before": load_before, "loadavg_1m_after": os.getloadavg()[0]},
        "metrics": metrics,
        "baselines": {"cold_start_s": cold, "verify_replay_ms": jr["replay_s"] * 1e3},
        "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "life bench"))
