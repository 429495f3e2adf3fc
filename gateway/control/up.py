"""``python -m gateway up [--config FILE]``: the whole venue from one configuration file.

Starts three processes, in this order, each with the command line of its own verb:
1. ``python -m gateway engine`` with the configured instruments (in phase CLOSED), capacities,
   placement and journal;
2. ``python -m gateway control`` (the control-plane service), which sends the configured limits
   as sequenced commands and opens the instruments per the schedule;
3. ``python -m gateway gateway`` with the firms and sessions of the same file.
The control plane starts before the gateway so that it sees every order's events from the first.
Then it prints where everything listens and supervises. When the engine dies and the venue has a
journal, ``up`` restarts it (it recovers from the journal), then restarts the control plane (which
rebuilds its view from the journals); the gateway outlives the crash by itself, keeps its
sessions, learns from the journal what became of its orders and serves the clients' reconnects
and retransmission requests (native/gateway/gw_resume.c). At most ENGINE_RESTARTS_MAX restarts within
ENGINE_RESTART_WINDOW_S (a crash loop is not hidden); --no-engine-restart turns this off. If any
other process exits, or the engine without a journal, the others are stopped and ``up`` exits 1;
on SIGINT/SIGTERM it stops the gateway, the control plane and the engine, in that order, and exits
0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway.control.config import ConfigError, VenueConfig, load_config
from shm import errors as shm_errors
from shm.engine_segments import control_path, remove_leftovers
from shm.segment import KIND_CONTROL, Segment

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
ENGINE_RESTARTS_MAX = 3
ENGINE_RESTART_WINDOW_S = 600.0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway up",
                                description="Start engine, control plane and gateway from one venue config.")
    p.add_argument("--config", default=None,
                   help="venue config (TOML); default: the embedded gateway/control/default_venue.toml")
    p.add_argument("--run-dir", default=None,
                   help="where derived files go (gateway credentials, port files); default: a temp dir")
    p.add_argument("--ready-file", default=None,
                   help="write a JSON object with every endpoint here once the venue is up")
    p.add_argument("--no-mlock", action="store_true", help="pass --no-mlock to the engine")
    p.add_argument("--no-engine-restart", action="store_true",
                   help="when the engine dies, stop the venue instead of restarting the engine "
                        "from its journal")
    return p


def engine_command(cfg: VenueConfig, no_mlock: bool) -> list[str]:
    v = cfg.venue
    cmd = [sys.executable, "-m", "gateway", "engine", "--name", v.name,
           "--instruments", ",".join(f"{i.id}:{i.tick}:{i.lot}:{i.reference_price}" for i in cfg.instruments),
           "--phase", "closed", "--wait", v.engine_wait, "--max-orders", str(v.max_orders),
           "--max-accounts", str(v.max_accounts), "--producers", str(v.producers)]
    if v.engine_wait == "backoff":
        cmd += ["--sleep-us", "200"]
    if v.engine_cpu >= 0:
        cmd += ["--cpu", str(v.engine_cpu)]
    if v.shm_dir:
        cmd += ["--dir", v.shm_dir]
    if cfg.journal.dir:
        cmd += ["--journal", cfg.journal.dir, "--durability", cfg.journal.durability,
                "--snapshot-every", str(cfg.journal.snapshot_every)]
    if no_mlock:
        cmd.append("--no-mlock")
    return cmd


def _gateway_supports_admin() -> bool:
    from gateway.orderentry import process as gw_process
    return any("--admin" in a.option_strings for a in gw_process.build_parser()._actions)


def admin_token_file(admin_file: Path) -> str:
    """Where the gateway writes its admin token (0600, beside its endpoint file in the private run
    directory) and the control plane reads it."""
    return f"{admin_file}.token"


def gateway_command(cfg: VenueConfig, creds: Path, port_file: Path, admin_file: Path) -> list[str]:
    cmd = [sys.executable, "-m", "gateway", "gateway", "--engine", cfg.venue.name,
           "--listen", cfg.gateway.listen, "--config", str(creds), "--port-file", str(port_file)]
    if cfg.venue.gateway_cpu >= 0:
        cmd += ["--cpu", str(cfg.venue.gateway_cpu)]
    if cfg.venue.shm_dir:
        cmd += ["--dir", cfg.venue.shm_dir]
    if cfg.gateway.admin_endpoint and _gateway_supports_admin():
        cmd += ["--admin", cfg.gateway.admin_endpoint, "--admin-file", str(admin_file),
                "--admin-token-file", admin_token_file(admin_file)]
    return cmd


def write_gateway_credentials(cfg: VenueConfig, path: Path) -> None:
    """The gateway's credentials file (firms, sessions) derived from the venue config, mode 0600
    from its creation (never readable by others, not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps({"firms": [{"firm_id": f.firm_id, "accounts": list(f.accounts), "name": f.name}
                                          for f in cfg.firms],
                                "sessions": [{"session_id": s.session_id, "firm_id": s.firm_id, "key": s.key,
                                              "cancel_on_disconnect": s.cancel_on_disconnect,
                                              "throttle_msgs_per_s": s.throttle_msgs_per_s,
                                              "throttle_action": s.throttle_action} for s in cfg.sessions]}))


def control_command(config: str | None, endpoints_file: Path, admin_file: Path, cfg: VenueConfig) -> list[str]:
    cmd = [sys.executable, "-m", "gateway", "control", "--endpoints-file", str(endpoints_file)]
    if config is not None:
        cmd += ["--config", config]
    if cfg.gateway.admin_endpoint:
        cmd += ["--gateway-admin-file", str(admin_file), "--gateway-admin-token-file", admin_token_file(admin_file)]
    return cmd


def _engine_ready(cfg: VenueConfig, pid: int) -> bool:
    """The engine process `pid` serves (a dead predecessor's segments do not count)."""
    try:
        seg = Segment.attach(control_path(cfg.venue.name, cfg.venue.shm_dir or None), KIND_CONTROL, 0,
                             2_000_000_000)
    except shm_errors.ShmError:
        return False
    try:
        return seg.control().producer_count > 0 and seg.handle.hdr.creator_pid == pid
    finally:
        seg.detach()


def _remove_leftovers(cfg: VenueConfig) -> None:
    """Segments and latency regions a killed process could not remove (all processes are gone)."""
    shm_dir = cfg.venue.shm_dir or None
    remove_leftovers(cfg.venue.name, shm_dir)
    try:
        from gateway.latency.venue import region_paths
    except ImportError:
        return
    for path in region_paths(cfg.venue.name, shm_dir):
        path.unlink(missing_ok=True)


class Venue:
    """The three child processes; stop() is idempotent."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, what: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd)
        self.procs.append((what, proc))
        return proc

    def wait_for(self, cond: Any, what: str, ignore: str = "") -> None:
        end = time.monotonic() + START_TIMEOUT_S
        while not cond():
            for name, proc in self.procs:
                if name != ignore and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited (status {proc.returncode}) while waiting for {what}")
            if time.monotonic() > end:
                raise RuntimeError(f"timed out after {START_TIMEOUT_S:.0f} s waiting for {what}")
            time.sleep(0.01)   # polling interval of a start-up condition

    def replace(self, what: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        """Starts `what` again in its place in the start order (the old process has exited)."""
        proc = subprocess.Popen(cmd)
        self.procs = [(n, proc if n == what else p) for n, p in self.procs]
        return proc

    def stop_one(self, what: str) -> None:
        for name, proc in self.procs:
            if name == what:
                _terminate(name, proc)

    def dead(self) -> tuple[str, int] | None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self) -> None:
        for name, proc in reversed(self.procs):       # gateway, control, engine
            _terminate(name, proc)


def _terminate(name: str, proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (each process's clean stop), SIGKILL if it outlives STOP_TIMEOUT_S."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"up: {name} did not stop in {STOP_TIMEOUT_S:.0f} s; killing it", file=sys.stderr)
        proc.kill()
        proc.wait()


def _may_restart_engine(cfg: VenueConfig, args: argparse.Namespace, restarts: list[float]) -> bool:
    """Whether a dead engine is restarted (and the restart counted): only with a journal to
    recover from, and not more than ENGINE_RESTARTS_MAX times in ENGINE_RESTART_WINDOW_S."""
    if args.no_engine_restart or not cfg.journal.dir:
        return False
    now = time.monotonic()
    restarts[:] = [t for t in restarts if now - t < ENGINE_RESTART_WINDOW_S]
    if len(restarts) >= ENGINE_RESTARTS_MAX:
        print(f"up: the engine died {ENGINE_RESTARTS_MAX + 1} times within "
              f"{ENGINE_RESTART_WINDOW_S:.0f} s: not restarting it again", file=sys.stderr, flush=True)
        return False
    restarts.append(now)
    return True


def _restart_engine(venue: Venue, cfg: VenueConfig, args: argparse.Namespace, endpoints_file: Path,
                    admin_file: Path) -> None:
    """The control plane is attached to the dead engine: stopped first, started again once the
    recovered engine serves (it rebuilds its view from the journals). The gateway resumes alone."""
    venue.stop_one("control")
    endpoints_file.unlink(missing_ok=True)
    engine = venue.replace("engine", engine_command(cfg, args.no_mlock))
    venue.wait_for(lambda: _engine_ready(cfg, engine.pid), "the restarted engine", ignore="control")
    venue.replace("control", control_command(args.config, endpoints_file, admin_file, cfg))
    venue.wait_for(endpoints_file.exists, "the restarted control plane's endpoints")


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"up: {exc}", file=sys.stderr)
        return 2
    # The run directory holds the session keys: private (0700: mkdtemp's mode, and ours for
    # --run-dir), and removed on exit when we made it (else the keys file in it is).
    own_run_dir = not args.run_dir
    run_dir = Path(args.run_dir) if args.run_dir else Path(tempfile.mkdtemp(prefix=f"venue-{cfg.venue.name}-"))
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if run_dir.stat().st_uid == os.getuid():
        run_dir.chmod(0o700)
    creds = run_dir / "gateway-credentials.json"
    write_gateway_credentials(cfg, creds)
    port_file, admin_file, endpoints_file = run_dir / "gateway.port", run_dir / "gateway.admin", run_dir / "control.json"
    for f in (port_file, admin_file, endpoints_file):
        f.unlink(missing_ok=True)

    stopping = [False]

    def on_signal(signum: int, frame: Any) -> None:
        stopping[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    venue = Venue()
    rc = 0
    restarts: list[float] = []
    try:
        engine = venue.start("engine", engine_command(cfg, args.no_mlock))
        venue.wait_for(lambda: _engine_ready(cfg, engine.pid), "the engine's control segment")
        venue.start("control", control_command(args.config, endpoints_file, admin_file, cfg))
        venue.wait_for(endpoints_file.exists, "the control plane's endpoints")
        venue.start("gateway", gateway_command(cfg, creds, port_file, admin_file))
        venue.wait_for(port_file.exists, "the gateway's port")
        endpoints = json.loads(endpoints_file.read_text())
        host = cfg.gateway.listen.rpartition(":")[0]
        ready = {"venue": cfg.venue.name, "gateway": f"{host}:{port_file.read_text().strip()}",
                 "command": endpoints["command"], "publish": endpoints["publish"],
                 "audit_log": endpoints["audit_log"],
                 "gateway_admin": admin_file.read_text().strip() if admin_file.exists() else None,
                 "run_dir": str(run_dir), "pids": {n: p.pid for n, p in venue.procs}}
        print(f"up: venue {cfg.venue.name!r} is up\n"
              f"  order entry (SBE/FIXP over TCP): {ready['gateway']}\n"
              f"  control commands (ZeroMQ ROUTER): {ready['command']}\n"
              f"  control publish  (ZeroMQ PUB):    {ready['publish']}\n"
              f"  gateway session admin:            {ready['gateway_admin'] or cfg.gateway.admin_endpoint or 'none'}\n"
              f"  audit log: {ready['audit_log']}\n"
              f"  shell: python -m gateway shell --endpoint {ready['command']} --user NAME "
              f"(token: --token-file FILE or $VENUE_CONTROL_TOKEN)\n"
              f"  stop: Ctrl-C (or SIGTERM to pid {os.getpid()})", flush=True)
        if args.ready_file:
            tmp = f"{args.ready_file}.tmp"
            Path(tmp).write_text(json.dumps(ready))
            os.replace(tmp, args.ready_file)
        while not stopping[0]:
            dead = venue.dead()
            if dead is not None and dead[0] == "engine" and _may_restart_engine(cfg, args, restarts):
                print(f"up: engine exited with status {dead[1]}; restarting it from its journal "
                      f"{cfg.journal.dir!r} (restart {len(restarts)} of at most "
                      f"{ENGINE_RESTARTS_MAX} in {ENGINE_RESTART_WINDOW_S:.0f} s); the gateway keeps "
                      f"its sessions", file=sys.stderr, flush=True)
                _restart_engine(venue, cfg, args, endpoints_file, admin_file)
                print(f"up: venue {cfg.venue.name!r} is up again; control commands on "
                      f"{json.loads(endpoints_file.read_text())['command']}", flush=True)
                continue
            if dead is not None:
                print(f"up: {dead[0]} exited with status {dead[1]}; stopping the venue", file=sys.stderr, flush=True)
                rc = 1
                break
            time.sleep(0.1)   # supervision poll; signals interrupt it
    except RuntimeError as exc:
        if not stopping[0]:
            print(f"up: {exc}", file=sys.stderr, flush=True)
            rc = 1
    finally:
        venue.stop()
        _remove_leftovers(cfg)
        if own_run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            creds.unlink(missing_ok=True)
    print(f"up: venue {cfg.venue.name!r} stopped", flush=True)
    return rc
