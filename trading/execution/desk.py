"""Parent orders run by the control plane: accepted, paused, resumed, amended and cancelled through
its API and the ops shell, each executed by its own strategy process
(``python -m trading strategy run --strategy trading.execution.strategy.ExecutionStrategy``)
under the parent's account, and rebuilt after a control-plane restart.

Journal: one JSON object per line in ``parents.jsonl`` in the desk's directory, appended and
fsynced before the desk answers: ``add`` (the validated order and its strategy parameters),
``launch`` (the process id and its ``id_block``: every launch of every parent numbers its child
order ids in a block of its own, the journal's last block + 1, so a relaunch never reuses an id),
``control`` (pause / resume / cancel / amend, with the control
version sent), ``finish`` (the final state and fills). Starting the desk replays it: every parent
comes back with its state; one whose process is still running (its pid alive with this parent's
progress file on its command line) is attached again; one whose process is gone while the order
is still live is relaunched for the quantity left (from its last progress file) and the time left.

A parent with ``route_session`` in its parameters is a routed parent: its process is
``python -m trading execution routed`` (routed_live.py), which executes it across every venue of
the multi-venue deployment this venue belongs to through the smart order router; pause, resume
and cancel work alike, amendments are refused.

Times are CLOCK_MONOTONIC ns (the live runner's clock, system-wide, so they survive a restart of
the control plane). Bad input is refused (ParentOrderRefused, naming the field) before anything is
journaled or launched.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from trading.execution.control import read_json, write_atomic
from trading.execution.parent import BUY, SELL, InstrumentRules, ParentOrder, ParentOrderRefused, validate
from trading.execution.strategy import ExecutionStrategy

STRATEGY = "trading.execution.strategy.ExecutionStrategy"
LIVE_STATES = ("working", "paused", "waiting")
# strategy parameters a caller may pass through (the rest come from the parent order itself)
PASS_THROUGH = ("slice_s", "decision_ms", "seed", "profile", "tod_offset_ns", "impact_y", "sigma_day", "adv",
                "half_spread", "kyle") + ("route_session", "route_strategy")
# a routed parent (several venues through the smart order router, routed_live.py): the session it
# uses on every venue (its key comes from the venue's own session table, never from the journal)
# and the router's strategy for each slice
ROUTE_KEYS = ("route_session", "route_strategy")
KEY_ENV = "VENUE_ROUTE_KEY"
MAX_HORIZON_S = 7 * 86_400      # a parent's duration and delayed start: a week at most


@dataclass
class Parent:
    id: int
    order: ParentOrder
    params: dict[str, str]
    state: str = "working"
    pid: int = 0
    control_version: int = 0
    final: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None


class ParentDesk:
    def __init__(self, venue: str, directory: str | Path, instruments: Mapping[int, InstrumentRules],
                 shm_dir: str | None = None, deployment: str | None = None,
                 sessions: Mapping[int, tuple[int, str]] | None = None) -> None:
        """deployment: the multi-venue file this venue runs under (``up --config``), whose venues a
        routed parent uses; sessions: session id -> (firm, key) of the venue's own table."""
        self.venue, self.shm_dir = venue, shm_dir
        self.deployment, self.sessions = deployment, dict(sessions or {})
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.journal = self.dir / "parents.jsonl"
        self.instruments = dict(instruments)
        self.parents: dict[int, Parent] = {}
        self.launches = 0      # the last id block given to a launch (journaled): each launch gets the next
        self._rebuild()

    # ---- the journal ------------------------------------------------------------------------
    def _append(self, record: dict[str, Any]) -> None:
        with open(self.journal, "a") as f:
            f.write(json.dumps(record, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _rebuild(self) -> None:
        if not self.journal.exists():
            return
        data = self.journal.read_bytes()
        whole = data[:data.rfind(b"\n") + 1]
        if len(whole) < len(data):
            # a torn last record (a crash mid-append; its answer was never given): cut it off, so
            # that the next record starts on a line of its own
            with open(self.journal, "r+b") as f:
                f.truncate(len(whole))
                os.fsync(f.fileno())
        for line in whole.decode().splitlines():
            self._apply(json.loads(line))
        for p in self.parents.values():
            if p.state in LIVE_STATES:
                self._reattach_or_relaunch(p)

    def _apply(self, rec: dict[str, Any]) -> None:
        op, pid = rec.get("op"), int(rec.get("id", 0))
        if op == "add":
            self.parents[pid] = Parent(pid, ParentOrder(**rec["order"]), dict(rec["params"]))
            return
        p = self.parents.get(pid)
        if p is None:
            return
        if op == "launch":
            p.pid = int(rec["pid"])
            self.launches = max(self.launches, int(rec.get("id_block", 0)))
        elif op == "control":
            p.control_version = int(rec["version"])
            if rec.get("state"):
                p.state = rec["state"]
            if rec.get("amend"):
                p.order = p.order.amended(**rec["amend"])
        elif op == "finish":
            p.state, p.final = rec["state"], dict(rec.get("progress") or {})

    def _reattach_or_relaunch(self, p: Parent) -> None:
        if _alive_with(p.pid, str(self._progress_path(p.id))):
            return          # still running: the progress and control files are its link
        progress = read_json(self._progress_path(p.id)) or {}
        filled = int(progress.get("filled", 0))
        now = time.monotonic_ns()
        lot = self.instruments.get(p.order.instrument_id, InstrumentRules()).lot_size
        left = (p.order.qty - filled) // lot * lot
        if now >= p.order.end_ns or left <= 0:
            self._finish(p, "done" if left <= 0 else "expired", progress)
            return
        self._launch(p, start_ns=now, qty=left)

    # ---- files and processes -----------------------------------------------------------------
    def _progress_path(self, pid: int) -> Path:
        return self.dir / f"parent-{pid}.progress.json"

    def _control_path(self, pid: int) -> Path:
        return self.dir / f"parent-{pid}.control.json"

    def _routed_command(self, p: Parent, params: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """The routed parent's process (routed_live.py) and its environment (the session key)."""
        from gateway.venues.config import load_multi_config
        assert self.deployment is not None
        session = int(p.params["route_session"])
        firm, key = self.sessions[session]
        symbol = next(i.symbol for i in load_multi_config(self.deployment).template.instruments
                      if i.id == p.order.instrument_id)
        cmd = [sys.executable, "-m", "trading", "execution", "routed", "--config", self.deployment, "--symbol", symbol,
               "--account", str(p.order.account_id), "--session", str(session), "--firm", str(firm),
               "--key-env", KEY_ENV, "--strategy", p.params.get("route_strategy") or "cost_minimization"]
        for k, v in params.items():
            if k not in ROUTE_KEYS:
                cmd += ["--param", f"{k}={v}"]
        return cmd, {**os.environ, KEY_ENV: key}

    def _launch(self, p: Parent, start_ns: int, qty: int) -> None:
        o = p.order
        tick = self.instruments[o.instrument_id].tick_size
        params = {**p.params, "algo": o.algo, "side": str(o.side), "qty": str(qty), "start_ns": str(start_ns),
                  "duration_s": repr((o.end_ns - start_ns) / 1e9), "limit_price": str(o.limit_price),
                  "risk_aversion": repr(o.risk_aversion), "max_participation": repr(o.max_participation),
                  "target_participation": repr(o.target_participation),
                  "min_participation": repr(o.min_participation),
                  "lot_size": str(self.instruments[o.instrument_id].lot_size),
                  "control": str(self._control_path(p.id)), "progress": str(self._progress_path(p.id)),
                  "id_block": str(self.launches + 1), "parent_id": str(p.id)}
        cmd = [sys.executable, "-m", "trading", "strategy", "run", "--venue", self.venue, "--strategy", STRATEGY,
               "--account", str(o.account_id), "--instrument", str(o.instrument_id), "--tick", str(tick),
               "--duration", repr(max(1.0, (o.end_ns - time.monotonic_ns()) / 1e9 + 5.0))]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        if self.shm_dir:
            cmd += ["--shm-dir", self.shm_dir]
        env = None
        if "route_session" in p.params:
            cmd, env = self._routed_command(p, {**params, "start_ns": str(start_ns)})
        write_atomic(self._control_path(p.id), {"version": p.control_version, "state": p.state, "amend": {}})
        with open(self.dir / f"parent-{p.id}.log", "ab") as out:
            p.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        p.pid = p.proc.pid
        self.launches += 1
        self._append({"op": "launch", "id": p.id, "pid": p.pid, "qty": qty, "start_ns": start_ns,
                      "id_block": self.launches})

    def _stop_process(self, p: Parent, timeout_s: float = 10.0) -> None:
        if p.proc is not None:
            if p.proc.poll() is None:
                p.proc.terminate()
                try:
                    p.proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    p.proc.kill()
                    p.proc.wait()
        elif _alive_with(p.pid, str(self._progress_path(p.id))):
            os.kill(p.pid, signal.SIGTERM)       # attached after a restart: not our child
            deadline = time.monotonic() + timeout_s
            while _alive_with(p.pid, str(self._progress_path(p.id))) and time.monotonic() < deadline:
                time.sleep(0.05)

    def _finish(self, p: Parent, state: str, progress: dict[str, Any]) -> None:
        p.state, p.final = state, progress
        self._append({"op": "finish", "id": p.id, "state": state, "progress": progress})

    def _failed(self, p: Parent, progress: dict[str, Any]) -> dict[str, Any]:
        """A live parent whose process died while this desk runs (a crash, a kill): it is finished
        as failed, journaled with the reason, and not relaunched. (A control plane that stops or
        restarts relaunches its live parents' processes at its next start, _reattach_or_relaunch:
        it stopped them itself.) Returns the progress with the reason under "failure"."""
        rc = p.proc.poll() if p.proc is not None else None
        how = ("is gone" if rc is None else f"exited with code {rc}" if rc >= 0 else f"was killed by signal {-rc}")
        left = progress.get("working_orders") or []
        reason = (f"its process (pid {p.pid}) {how} while the parent was {p.state}; "
                  f"{self.dir / f'parent-{p.id}.log'} has its output"
                  + (f"; {len(left)} child order(s) it had working may rest on the book: see `orders` of "
                     f"account {p.order.account_id}" if left else ""))
        final = {**progress, "failure": reason}
        self._finish(p, "failed", final)
        return final

    # ---- the API ----------------------------------------------------------------------------
    def add(self, account: int, instrument: int, side: str | int, qty: int, algo: str, duration_s: float,
            start_in_s: float = 0.0, limit_price: int = 0, risk_aversion: float = 1e-6,
            max_participation: float = 0.25, target_participation: float = 0.10, min_participation: float = 0.0,
            params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Validates and starts a parent order; ParentOrderRefused (nothing journaled, nothing
        launched) for bad input."""
        side_code = _side(side)
        if not duration_s > 0:
            raise ParentOrderRefused("duration_s", duration_s, "the end must come after the start (duration > 0)")
        if not duration_s <= MAX_HORIZON_S:        # inf too: int(inf * 1e9) was an OverflowError
            raise ParentOrderRefused("duration_s", duration_s, f"at most {MAX_HORIZON_S} s (a week)")
        if not 0 <= start_in_s <= MAX_HORIZON_S:   # NaN too
            raise ParentOrderRefused("start_in_s", start_in_s, f"must be 0..{MAX_HORIZON_S} s (a week)")
        extra = dict(params or {})
        for key in extra:
            if key not in PASS_THROUGH:
                raise ParentOrderRefused(key, extra[key], f"not a parameter a parent order takes ({', '.join(PASS_THROUGH)})")
        start = time.monotonic_ns() + int(start_in_s * 1e9)
        order = validate(ParentOrder(instrument, side_code, int(qty), str(algo).upper(), start,
                                     start + int(duration_s * 1e9), int(limit_price), float(risk_aversion),
                                     float(max_participation), float(target_participation),
                                     float(min_participation), account), self.instruments)
        self._check_route(extra)
        try:   # the strategy's own checks (VWAP's profile, IS's impact model) before anything starts
            strategy = ExecutionStrategy(**{k: v for k, v in extra.items() if k not in ROUTE_KEYS}, algo=order.algo)
            # with the seed the process will use (the order's own is 0): seed=-1 passed here, then
            # the process died in on_start (numpy: expected non-negative integer) while the list
            # said "working"
            seed = int(strategy.params["seed"])
            if seed < 0:
                raise ParentOrderRefused("seed", extra.get("seed"), "must be a whole number >= 0")
            strategy._schedule(replace(order, seed=seed))
        except ParentOrderRefused:
            raise
        except (ValueError, TypeError) as exc:
            field_ = getattr(exc, "field", "params")
            raise ParentOrderRefused(field_, extra.get(field_, extra), str(exc)) from None
        pid = max(self.parents, default=0) + 1
        p = Parent(pid, order, {k: str(v) for k, v in extra.items()})
        self._append({"op": "add", "id": pid, "order": asdict(order), "params": p.params})
        self.parents[pid] = p
        self._launch(p, start_ns=order.start_ns, qty=order.qty)
        return self.show(pid)

    def _check_route(self, extra: Mapping[str, str]) -> None:
        """A routed parent needs the deployment, a session of this venue and a known strategy."""
        if not any(k in extra for k in ROUTE_KEYS):
            return
        from trading.routing.strategies import STRATEGIES
        if self.deployment is None:
            raise ParentOrderRefused("route_session", extra.get("route_session"),
                                     "this venue is not part of a multi-venue deployment (up --config with [[venues]])")
        try:
            session = int(extra.get("route_session", ""))
        except ValueError:
            raise ParentOrderRefused("route_session", extra.get("route_session"), "must be a session id") from None
        if session not in self.sessions:
            raise ParentOrderRefused("route_session", session, f"not a session of this venue "
                                     f"(known: {', '.join(map(str, sorted(self.sessions))) or 'none'})")
        strategy = extra.get("route_strategy") or "cost_minimization"
        if strategy not in STRATEGIES:
            raise ParentOrderRefused("route_strategy", strategy, f"one of {', '.join(sorted(STRATEGIES))}")

    def _control(self, pid: int, state: str | None = None, amend: dict[str, Any] | None = None) -> dict[str, Any]:
        p = self._get(pid)
        if p.state not in LIVE_STATES:
            raise ParentOrderRefused("id", pid, f"parent {pid} is {p.state}")
        if amend and "route_session" in p.params:
            raise ParentOrderRefused("amend", amend, "a routed parent is paused, resumed or cancelled, not amended "
                                     "(cancel it and add a new one)")
        if amend:
            order = validate(p.order.amended(**amend), self.instruments)
            filled = int((read_json(self._progress_path(pid)) or {}).get("filled", 0))
            if order.qty < filled:
                raise ParentOrderRefused("qty", order.qty, f"below the {filled} already filled")
        p.control_version += 1
        self._append({"op": "control", "id": pid, "version": p.control_version, "state": state, "amend": amend or {}})
        if amend:
            p.order = order
        if state:
            p.state = state
        write_atomic(self._control_path(pid), {"version": p.control_version, "state": p.state, "amend": amend or {}})
        return self.show(pid)

    def pause(self, pid: int) -> dict[str, Any]:
        return self._control(pid, state="paused")

    def resume(self, pid: int) -> dict[str, Any]:
        if self._get(pid).state != "paused":
            raise ParentOrderRefused("id", pid, f"parent {pid} is not paused")
        return self._control(pid, state="working")

    def amend(self, pid: int, **changes: Any) -> dict[str, Any]:
        if not changes:
            raise ParentOrderRefused("amend", changes, "nothing to change")
        if "duration_s" in changes:
            changes["end_ns"] = self._get(pid).order.start_ns + int(float(changes.pop("duration_s")) * 1e9)
        return self._control(pid, amend=changes)

    def cancel(self, pid: int) -> dict[str, Any]:
        p = self._get(pid)
        out = self._control(pid, state="cancelled")
        self._stop_process(p)
        self._finish(p, "cancelled", read_json(self._progress_path(pid)) or {})
        return out

    def _get(self, pid: int) -> Parent:
        p = self.parents.get(int(pid))
        if p is None:
            raise ParentOrderRefused("id", pid, f"no parent order {pid} (known: {sorted(self.parents) or 'none'})")
        return p

    def show(self, pid: int) -> dict[str, Any]:
        p = self._get(pid)
        progress = read_json(self._progress_path(pid)) or p.final
        if p.state in LIVE_STATES and progress.get("state") in ("done", "expired"):
            self._finish(p, progress["state"], progress)
        running = _alive_with(p.pid, str(self._progress_path(pid)))
        if p.state in LIVE_STATES and not running:
            progress = self._failed(p, progress)
        o = p.order
        return {"id": p.id, "state": p.state, "algo": o.algo, "account": o.account_id, "instrument": o.instrument_id,
                "side": "buy" if o.side == BUY else "sell", "qty": o.qty, "filled": int(progress.get("filled", 0)),
                "target_now": progress.get("target_now"), "working": progress.get("working", 0),
                "children": progress.get("children", 0), "arrival_mid": progress.get("arrival_mid"),
                "avg_price": progress.get("avg_price"), "shortfall_bps": progress.get("shortfall_bps"),
                "participation": progress.get("participation"), "time_left_s": max(0.0, (o.end_ns - time.monotonic_ns()) / 1e9),
                "process": "running" if running else "gone", "pid": p.pid, "failure": progress.get("failure"),
                "control_error": progress.get("control_error"), "order": asdict(o),
                "working_orders": progress.get("working_orders", []),
                "routed": "route_session" in p.params, "venue_fills": progress.get("venues", {}),
                "recent_children": progress.get("recent_children", [])}

    def list(self) -> list[dict[str, Any]]:
        return [self.show(pid) for pid in sorted(self.parents)]

    def close(self) -> None:
        """Control plane stopping cleanly: the processes are stopped (their orders cancelled); the
        journal still says working, so the next start relaunches what is left. (A control plane
        that crashes leaves them running, and the next start attaches to them.)"""
        for p in self.parents.values():
            if p.state in LIVE_STATES:
                self._stop_process(p)
            p.proc = None


def _side(side: str | int) -> int:
    text = str(side).lower()
    if text in ("1", "buy", "b"):
        return BUY
    if text in ("2", "sell", "s"):
        return SELL
    raise ParentOrderRefused("side", side, "must be buy or sell")


def _alive_with(pid: int, marker: str) -> bool:
    """Whether pid runs and has marker on its command line (not a recycled pid)."""
    if pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return marker in cmdline and ") Z " not in stat
