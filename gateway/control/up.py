"""``python -m gateway up [--config FILE]``: the whole venue from one configuration file.

A file with [[venues]] starts several venues and the consolidator instead (gateway/venues/up.py).

Starts these processes, in this order, each with the command line of its own verb:
1. ``python -m gateway engine`` with the configured instruments (in phase CLOSED), capacities,
   placement and journal;
2. ``python -m gateway control`` (the control-plane service), which sends the configured limits
   as sequenced commands and opens the instruments per the schedule;
3. ``python -m gateway gateway`` with the firms and sessions of the same file;
4. unless ``[analytics] enabled = false``, ``python -m trading monitor``, the live order-flow
   analytics, a reader of the engine's event log that publishes through the control plane's
   publish ingest (an ipc socket in the private run directory; gateway/control/ingest.py) on the
   control plane's channel, topics analytics and alert;
5. ``python -m gateway dashboard`` (gateway/dashboard/), the live web dashboard, when the config's
   ``[dashboard] listen`` (or --dashboard) names an address and --no-dashboard is not given. It is
   a reader only (the event log, the latency regions, the control plane's API and publish feed),
   so the venue does not depend on it: one that does not start is reported and the venue serves
   without it; one that dies is restarted like the others.
The control plane starts before the gateway so that it sees every order's events from the first.
Before anything is created, opened or removed, ``up`` takes the venue name's lock
(shm/venue_lock.py) and checks that the configured ports are free: a second ``up`` of a running
venue, or one whose ports another program holds, is refused with one line and touches nothing.

Then it prints where everything listens and how to connect, and supervises. A process that dies
is restarted, the first time at once, each further time in a row after a back-off doubling from
RESTART_BACKOFF_FIRST_S to --restart-backoff-max (a process that ran RESTART_STABLE_S starts the
count afresh); every restart is reported, and no count of crashes stops the venue. A dead engine
is restarted from its journal (it recovers), then the control plane (attached to the dead engine;
it rebuilds its view from the journals) and the monitor; the gateway outlives an engine crash by itself, keeps its
sessions and serves reconnects and retransmission (native/gateway/gw_resume.c). A dead control
plane is restarted alone (the monitor's PUSH reconnects by itself); a dead gateway is restarted on
the port it had and, with a journal, from its flow store (``gateway.state`` beside the journal,
gateway_store()): its sessions reconnect where they were, their orders and outbound messages
rebuilt; so does the gateway of a venue run again on the same journal. A dead monitor is restarted
alone. The venue stops only on
SIGINT/SIGTERM, or when the engine dies with no journal to recover from (or --no-engine-restart):
then the gateway is stopped first, and it ends every session with Terminate reason 964
(ENG_GW_VENUE_STOPPING), never a plain "finished"; ``up`` exits 0 after a requested stop, 1
otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from gateway.cli_paths import os_error_line, output_dir, output_file
from gateway.parent_death import stop_with_parent
from gateway.small_files import read_small_text
from gateway.control.config import DEFAULT_CONFIG_NAME, ConfigError, VenueConfig, listen_ok, load_config
from gateway.control.config_watch import ConfigFileWatcher
from gateway.control.ingest import ingest_endpoint
from gateway.control.running_config import RUNNING_CONFIG_NAME, apply_edit, write_running_config
from gateway.venues.up_env import DEPLOYMENT_ENV
from gateway.security import admin_curve
from shm import errors as shm_errors
from shm.engine_segments import control_path, remove_leftovers
from shm.segment import KIND_CONTROL, Segment
from shm.venue_lock import VenueLocked, lock_venue

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
SUPERVISED_MAX = 5          # the most processes one venue's `up` runs: engine, control, gateway, monitor, dashboard
RESTART_BACKOFF_FIRST_S = 0.1      # the second restart in a row waits this long, then doubling
RESTART_BACKOFF_MAX_S = 30.0       # ... up to this (--restart-backoff-max)
RESTART_STABLE_S = 60.0            # a process that ran this long starts the back-off afresh


class Backoff:
    """Restart delays of one process kind: the first restart at once, each further one in a row
    twice as long as the last (from RESTART_BACKOFF_FIRST_S, at most max_s); a process that ran
    RESTART_STABLE_S before dying starts again from the beginning. It never gives up: a crash
    loop is slowed down and reported on every restart, not turned into a stopped venue."""

    def __init__(self, max_s: float) -> None:
        self.max_s = max_s
        self.in_a_row = 0
        self.total = 0

    def next_delay(self, ran_s: float) -> float:
        if ran_s >= RESTART_STABLE_S:
            self.in_a_row = 0
        delay = 0.0 if self.in_a_row == 0 else min(
            RESTART_BACKOFF_FIRST_S * 2 ** (self.in_a_row - 1), self.max_s)
        self.in_a_row += 1
        self.total += 1
        return delay


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway up",
                                description="Start engine, control plane and gateway from one venue config.")
    p.add_argument("--config", default=None,
                   help="venue config (TOML); default: the embedded gateway/control/default_venue.toml")
    p.add_argument("--run-dir", type=output_dir, default=None,
                   help="where derived files go (gateway credentials, port files); default: a temp dir")
    p.add_argument("--ready-file", type=output_file, default=None,
                   help="write a JSON object with every endpoint here once the venue is up")
    p.add_argument("--no-mlock", action="store_true", help="pass --no-mlock to the engine")
    p.add_argument("--no-engine-restart", action="store_true",
                   help="when the engine dies, stop the venue instead of restarting the engine "
                        "from its journal")
    p.add_argument("--dashboard", default=None, metavar="HOST:PORT", type=_listen,
                   help="serve the web dashboard here (port 0: any free port); default: the "
                        "config's [dashboard] listen")
    p.add_argument("--no-dashboard", action="store_true", help="do not start the web dashboard")
    p.add_argument("--restart-backoff-max", type=_seconds, default=RESTART_BACKOFF_MAX_S,
                   metavar="S", help="longest wait before restarting a process that keeps dying "
                                     f"(default {RESTART_BACKOFF_MAX_S:.0f} s)")
    return p


def _listen(text: str) -> str:
    if not listen_ok(text):
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (port 0..65535), got {text!r}")
    return text


def dashboard_listen(cfg: VenueConfig, args: argparse.Namespace) -> str:
    """Where the dashboard serves: --dashboard, else the config's; "" for none."""
    if args.no_dashboard:
        return ""
    return str(args.dashboard) if args.dashboard else cfg.dashboard.listen


def dashboard_command(config: str | None, listen: str, endpoints_file: Path, processes_file: Path,
                      port_file: Path) -> list[str]:
    cmd = [sys.executable, "-m", "gateway", "dashboard", "--listen", listen,
           "--control-endpoints-file", str(endpoints_file), "--processes-file", str(processes_file),
           "--port-file", str(port_file),
           # in the private run dir: a restarted dashboard keeps its browsers logged in
           "--session-key-file", str(port_file.with_name("dashboard-session.key"))]
    if config is not None:
        cmd += ["--config", config]
    return cmd


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < v <= 3600:
        raise argparse.ArgumentTypeError(f"must be in (0, 3600] seconds, got {text}")
    return v


# Group commit: a group of at most this many commands that closes on an idle pass is synced on
# the engine thread instead of the sync thread (runner_durable.c): a lone order's ack skips the
# hand-off and the doorbell back. Measured (bench/journal.py lone-order ack, 3 runs, load 5-6):
# the journal's sync path P50 183-209 us synced here against 323-333 us on the sync thread
# (the disk's own O_DIRECT|O_DSYNC 4 KiB write 101-196 us). Under load the rings are never empty,
# so groups still go to the sync thread and grow to the disk's pace.
GROUP_INLINE_MAX = 8


def engine_wait_args(wait: str) -> list[str]:
    """The engine's wait strategy in the default venue (bench/journal_wire.py's "default" lone-order
    variant runs the same). backoff: a short spin, no yields, then the futex doorbell (the
    gateway and the sync thread ring it). On shared CPUs a loop that spins 20,000 polls and yields
    100 times after every command (the engine's own defaults) is charged that CPU time by the
    scheduler and then waits behind other work when the next order comes. Measured
    (bench/journal.py lone-order ack, 2 vCPUs, load 4): enqueue->dequeue P50/P99 16 us / 19 ms
    with the engine's defaults, 29 / 155 us with these."""
    return ["--wait", wait] + (["--spin", "200", "--yields", "0", "--sleep-us", "200"]
                               if wait == "backoff" else [])


def engine_command(cfg: VenueConfig, no_mlock: bool) -> list[str]:
    v = cfg.venue
    cmd = [sys.executable, "-m", "gateway", "engine", "--name", v.name,
           "--instruments", ",".join(f"{i.id}:{i.tick}:{i.lot}:{i.reference_price}" for i in cfg.instruments),
           "--phase", "closed", "--max-orders", str(v.max_orders),
           "--max-accounts", str(v.max_accounts), "--producers", str(v.producers)]
    cmd += engine_wait_args(v.engine_wait)
    if v.dark_nbbo_max_age_ns:
        cmd += ["--dark", str(v.dark_nbbo_max_age_ns)]
    if v.engine_cpu >= 0:
        cmd += ["--cpu", str(v.engine_cpu)]
    if v.shm_dir:
        cmd += ["--dir", v.shm_dir]
    if cfg.journal.dir:
        if cfg.journal.durability == "group":
            cmd += ["--group-inline-max", str(GROUP_INLINE_MAX)]
        cmd += ["--journal", cfg.journal.dir, "--durability", cfg.journal.durability,
                "--snapshot-every", str(cfg.journal.snapshot_every),
                "--segment-mb", str(cfg.journal.segment_mb)]
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


def admin_curve_files(admin_file: Path) -> admin_curve.AdminCurveFiles | None:
    """The admin endpoint's per-run CurveZMQ keys beside its endpoint file (made on first use, kept
    for the run: a restarted gateway serves with the same pair); None where libzmq has no CURVE."""
    if not admin_curve.available():
        return None
    return admin_curve.prepare(Path(admin_file).parent / "admin-curve")


def gateway_command(cfg: VenueConfig, creds: Path, port_file: Path, admin_file: Path,
                    listen: str | None = None, state_file: Path | None = None) -> list[str]:
    """listen: in place of the config's (a restarted gateway takes the port its predecessor
    had, so clients reconnect where they were, also when the config says port 0). state_file:
    the gateway's flow store (--state-file), so that a gateway restarted after its process died
    rebuilds its sessions, orders and outbound flows (native/gateway/gw_restore.c)."""
    cmd = [sys.executable, "-m", "gateway", "gateway", "--engine", cfg.venue.name,
           "--listen", listen or cfg.gateway.listen, "--config", str(creds),
           "--port-file", str(port_file)]
    if state_file is not None:
        cmd += ["--state-file", str(state_file)]
    if cfg.venue.gateway_cpu >= 0:
        cmd += ["--cpu", str(cfg.venue.gateway_cpu)]
    if cfg.venue.shm_dir:
        cmd += ["--dir", cfg.venue.shm_dir]
    if cfg.gateway.admin_endpoint and _gateway_supports_admin():
        cmd += ["--admin", cfg.gateway.admin_endpoint, "--admin-file", str(admin_file),
                "--admin-token-file", admin_token_file(admin_file)]
        keys = admin_curve_files(admin_file)
        if keys is not None:
            cmd += ["--admin-curve-secret", str(keys.server_secret), "--admin-curve-clients", str(keys.clients_dir)]
    return cmd


def write_gateway_credentials(cfg: VenueConfig, path: Path) -> None:
    """The gateway's credentials file (firms, sessions) derived from the venue config, mode 0600
    from its creation (never readable by others, not even for a moment)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(msgspec.json.encode(cfg.gateway_config()))
    os.replace(tmp, path)      # whole or not at all: a running gateway re-reads it on rotation


def control_command(config: str | None, endpoints_file: Path, admin_file: Path, cfg: VenueConfig,
                    ingest: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "gateway", "control", "--endpoints-file", str(endpoints_file)]
    if ingest:
        cmd += ["--ingest-endpoint", ingest]
    if config is not None:
        cmd += ["--config", config]
    if cfg.gateway.admin_endpoint:
        cmd += ["--gateway-admin-file", str(admin_file), "--gateway-admin-token-file", admin_token_file(admin_file)]
        keys = admin_curve_files(admin_file)
        if keys is not None:
            cmd += ["--gateway-admin-curve-server", str(keys.server_public),
                    "--gateway-admin-curve-client", str(keys.client_secret)]
    return cmd


def monitor_command(cfg: VenueConfig, ingest: str) -> list[str]:
    """The live order-flow monitor on the engine's event log, publishing through the ingest."""
    a = cfg.analytics
    cmd = [sys.executable, "-m", "trading", "monitor", "--engine", cfg.venue.name,
           "--publish-via", ingest, "--bucket-volume", repr(a.bucket_volume),
           "--bar-seconds", repr(a.bar_seconds), "--interval", repr(a.interval_s),
           "--price-scale", str(cfg.venue.price_scale)]
    for ins in cfg.instruments:
        cmd += ["--instrument", f"{ins.id}:{ins.symbol}"]
    for b in a.etf:
        ids = {sym: _instrument_id(cfg, sym) for sym in (b.symbol, *b.components)}
        cmd += ["--etf", json.dumps({"etf": ids[b.symbol], "symbol": b.symbol, "cash": b.cash, "divisor": b.divisor,
                                     "cost_bps": b.cost_bps,
                                     "components": {str(ids[s]): n for s, n in b.components.items()}})]
    return cmd


def _instrument_id(cfg: VenueConfig, symbol: str) -> int:
    ins = cfg.instrument(symbol)
    assert ins is not None, symbol            # checked when the config loaded
    return ins.id


def ingest_endpoint_for(run_dir: Path) -> tuple[str, Path | None]:
    """The publish ingest's ipc endpoint in the private run directory, and a directory made for it
    (to remove at exit) when run_dir's path is too long for a socket address (108 bytes): then a
    fresh private (0700) directory under the temporary directory holds it."""
    if len(str(run_dir)) <= 80:
        return ingest_endpoint(str(run_dir)), None
    short = Path(tempfile.mkdtemp(prefix="venue-ingest-"))
    return ingest_endpoint(str(short)), short


def gateway_store(cfg: VenueConfig) -> Path | None:
    """The gateway's flow store (--state-file): beside the engine's journal, which it outlives
    with, so that a gateway restarted by `up` and one of a venue run again both go on from it
    (sessions, orders, outbound flows: native/gateway/gw_restore.c rebuilds the orders from the
    journal). None without a journal (nothing to rebuild from)."""
    return Path(cfg.journal.dir) / "gateway.state" if cfg.journal.dir else None


def _store_sessions(cfg: VenueConfig) -> str:
    """What a flow store must match (the gateway refuses another): the sessions, in order."""
    return json.dumps([[s.session_id, s.firm_id] for s in cfg.sessions])


def prepare_gateway_store(cfg: VenueConfig, store: Path) -> str | None:
    """Before the gateway starts: a store written for other sessions (the configuration changed
    between two runs) is set aside, so the gateway starts its sessions afresh instead of refusing
    to start; returns what to tell the operator then (None when the store is kept or new). The
    sessions it was written for are kept beside it (STORE.sessions)."""
    stamp = store.with_name(store.name + ".sessions")
    want = _store_sessions(cfg)
    store.parent.mkdir(parents=True, exist_ok=True)
    said = None
    if store.exists() and (not stamp.exists() or stamp.read_text() != want):
        aside = store.with_name(f"{store.name}.{time.strftime('%Y%m%dT%H%M%S')}")
        store.rename(aside)
        said = (f"the gateway's flow store {store} was written for other [[sessions]]; set aside as "
                f"{aside.name}: sessions start afresh (orders their earlier runs left on the book "
                f"stay there: an account mass cancel reaches them)")
    stamp.write_text(want)
    return said


def _engine_ready(cfg: VenueConfig, pid: int) -> bool:
    """The engine process `pid` serves (a dead predecessor's segments do not count)."""
    try:
        seg = Segment.attach(control_path(cfg.venue.name, cfg.venue.shm_dir or None), KIND_CONTROL, 0,
                             2_000_000_000)
    except shm_errors.ShmError:
        return False
    try:
        return bool(seg.control().producer_count > 0 and seg.handle.hdr.creator_pid == pid)
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


def ports_in_use(cfg: VenueConfig, dashboard: str | None = None) -> list[str]:
    """The configured fixed TCP ports (gateway, control endpoints, gateway admin) that another
    process listens on now, as "what HOST:PORT (why)"; checked before the engine starts, so a
    start that cannot finish creates, opens and journals nothing. Port 0 and '*' are never taken."""
    wanted: list[tuple[str, str, int]] = []
    host, _, port = cfg.gateway.listen.rpartition(":")
    wanted.append(("gateway.listen", host, int(port)))
    dash = cfg.dashboard.listen if dashboard is None else dashboard
    if dash:
        dhost, _, dport = dash.rpartition(":")
        wanted.append(("dashboard.listen", dhost, int(dport)))
    for what, ep in (("control.command_endpoint", cfg.control.command_endpoint),
                     ("control.publish_endpoint", cfg.control.publish_endpoint),
                     ("gateway.admin_endpoint", cfg.gateway.admin_endpoint)):
        if ep.startswith("tcp://"):
            h, _, port_text = ep[len("tcp://"):].rpartition(":")
            if port_text.isdigit():
                wanted.append((what, h, int(port_text)))
    taken = []
    for what, h, p in wanted:
        if p == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the servers do
            try:
                sock.bind((h, p))
            except OSError as exc:
                taken.append(f"{what} {h}:{p} ({exc.strerror})")
    return taken


def default_config_path() -> Path:
    """The embedded default config's file (where a newcomer finds the session keys)."""
    return Path(__file__).resolve().parent / DEFAULT_CONFIG_NAME


@dataclass
class Child:
    """One supervised process: its current Popen, when it started, its restart back-off."""
    proc: subprocess.Popen[bytes]
    started: float
    backoff: Backoff


class Venue:
    """The three child processes in start order (engine, control, gateway); stop() is
    idempotent."""

    def __init__(self, backoff_max_s: float = RESTART_BACKOFF_MAX_S) -> None:
        self.children: dict[str, Child] = {}
        self.backoff_max_s = backoff_max_s

    @property
    def procs(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        return [(n, c.proc) for n, c in self.children.items()]

    def start(self, what: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        """Starts `what` (again: in its place in the start order, its back-off kept)."""
        proc = subprocess.Popen(cmd, preexec_fn=stop_with_parent())   # a SIGKILLed up leaves nothing behind
        old = self.children.get(what)
        self.children[what] = Child(proc, time.monotonic(),
                                    old.backoff if old else Backoff(self.backoff_max_s))
        return proc

    replace = start

    def wait_for(self, cond: Any, what: str, only: str | None = None,
                 stopping: list[bool] | None = None) -> None:
        """Polls cond() until true. Raises RuntimeError when a watched process (only `only`, or
        all) exits, after START_TIMEOUT_S, or when `stopping` is set."""
        end = time.monotonic() + START_TIMEOUT_S
        while not cond():
            for name, proc in self.procs:
                if (only is None or name == only) and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited (status {proc.returncode}) while waiting for {what}")
            if stopping and stopping[0]:
                raise RuntimeError(f"stop requested while waiting for {what}")
            if time.monotonic() > end:
                raise RuntimeError(f"timed out after {START_TIMEOUT_S:.0f} s waiting for {what}")
            time.sleep(0.01)   # polling interval of a start-up condition

    def stop_one(self, what: str) -> None:
        child = self.children.get(what)
        if child is not None:
            _terminate(what, child.proc)

    def dead(self) -> tuple[str, int] | None:
        """The first exited process in start order, with its status."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self) -> None:
        for name, proc in reversed(self.procs):       # gateway, control, engine
            _terminate(name, proc)


def stop_budget_s(children: int) -> float:
    """The longest a clean stop of an `up` that runs `children` processes may take: they are
    stopped one after the other, each SIGKILLed once it outlives STOP_TIMEOUT_S, then one more
    STOP_TIMEOUT_S for its own clean-up. Whoever stops an `up` (a multi-venue `up`, a test) waits
    this long before killing it: killed sooner, the `up` leaves the rest of its stop undone (its
    children go down by their parent-death signal, out of order, and its lock file stays)."""
    return (children + 1) * STOP_TIMEOUT_S


def _terminate(name: str, proc: subprocess.Popen[bytes], timeout_s: float | None = None) -> None:
    """SIGTERM (each process's clean stop), SIGKILL if it outlives timeout_s (STOP_TIMEOUT_S)."""
    if proc.poll() is not None:
        return
    wait_s = STOP_TIMEOUT_S if timeout_s is None else timeout_s
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        print(f"up: {name} did not stop in {wait_s:.0f} s; killing it", file=sys.stderr)
        proc.kill()
        proc.wait()


def _status_text(status: int) -> str:
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"status {status}"


class CredentialsRotation:
    """Credentials rotate without a restart (running_config.py): when the venue config changes,
    its [[users]] and the keys of the venue's sessions go into the running configuration (which
    the control plane and the dashboard watch) and the gateway's credentials file (the gateway
    installs changed key hashes: gateway/security/key_rotation.py), both written atomically.
    What else the edit changes is read at start only: it is named as not applied. A config that
    no longer loads changes nothing and is reported."""

    def __init__(self, config: str | None, started: VenueConfig, running_file: Path, creds: Path) -> None:
        self.config = config
        self.started = self.running = started
        self.running_file = running_file
        self.creds = creds
        self.watcher = ConfigFileWatcher(config, self._apply, self._refused) if config else None

    def poll(self, now: float) -> None:
        if self.watcher is not None:
            self.watcher.poll(now)

    def _apply(self, cfg: VenueConfig) -> None:
        edit = apply_edit(self.running, self.started, cfg)
        if edit.running != self.running:
            write_running_config(edit.running, self.running_file)
            write_gateway_credentials(edit.running, self.creds)
            self.running = edit.running
        if edit.rotated:
            print(f"up: {self.config} changed: {', '.join(edit.rotated)} rotated (in force at once)",
                  file=sys.stderr, flush=True)
        if edit.not_applied:
            print(f"up: {self.config} changed {', '.join(edit.not_applied)}: read at start only, NOT "
                  "applied to the running venue (restarted processes keep the configuration the venue "
                  "started with; the next `up` takes it, but for limits its journal already holds). "
                  "Limits, halts and phases change now with the shell's `risk set`, `halt`, `resume` "
                  "and `phase`", file=sys.stderr, flush=True)
        if not edit.rotated and not edit.not_applied:
            print(f"up: {self.config} changed, in nothing the venue uses", file=sys.stderr, flush=True)

    def _refused(self, exc: ConfigError) -> None:
        print(f"up: {self.config} changed but does not load; nothing changed: {exc}",
              file=sys.stderr, flush=True)


@dataclass
class Supervisor:
    """Restarts what dies, with back-off, in dependency order; see the module's docstring."""
    venue: Venue
    cfg: VenueConfig
    args: argparse.Namespace
    creds: Path
    port_file: Path
    admin_file: Path
    endpoints_file: Path
    gateway_listen: str
    stopping: list[bool]
    dashboard_listen: str = ""
    dashboard_port_file: Path | None = None
    ingest: str | None = None
    ready: dict[str, Any] = field(default_factory=dict)

    def start_engine(self) -> None:
        engine = self.venue.start("engine", engine_command(self.cfg, self.args.no_mlock))
        self.venue.wait_for(lambda: _engine_ready(self.cfg, engine.pid),
                            "the engine's control segment", only="engine", stopping=self.stopping)

    def start_control(self) -> None:
        self.endpoints_file.unlink(missing_ok=True)
        self.venue.start("control", control_command(str(self.running_config()), self.endpoints_file,
                                                    self.admin_file, self.cfg, self.ingest))
        self.venue.wait_for(self.endpoints_file.exists, "the control plane's endpoints",
                            only="control", stopping=self.stopping)

    def start_gateway(self) -> None:
        self.port_file.unlink(missing_ok=True)
        self.venue.start("gateway", gateway_command(self.cfg, self.creds, self.port_file,
                                                    self.admin_file, self.gateway_listen,
                                                    self.gateway_state()))
        self.venue.wait_for(self.port_file.exists, "the gateway's port", only="gateway",
                            stopping=self.stopping)

    def gateway_state(self) -> Path | None:
        return gateway_store(self.cfg)

    def start_monitor(self) -> None:
        """The analytics monitor (a reader: nothing waits for it; it comes and goes alone)."""
        if self.ingest is not None and self.cfg.analytics.enabled:
            self.venue.start("monitor", monitor_command(self.cfg, self.ingest))

    def start_dashboard(self) -> None:
        """Starts the dashboard and waits for its port; raises RuntimeError when it does not come
        up (the caller reports it; the venue serves without it)."""
        assert self.dashboard_port_file is not None
        self.dashboard_port_file.unlink(missing_ok=True)
        self.venue.start("dashboard", dashboard_command(
            str(self.running_config()), self.dashboard_listen, self.endpoints_file,
            self.run_file("processes.json"), self.dashboard_port_file))
        self.venue.wait_for(self.dashboard_port_file.exists, "the dashboard's port", only="dashboard",
                            stopping=self.stopping)
        host = self.dashboard_listen.rpartition(":")[0]
        # A restarted dashboard takes the port its predecessor had (bookmarks keep working).
        self.dashboard_listen = f"{host}:{self.dashboard_port_file.read_text().strip()}"
        self.ready["dashboard"] = f"http://{self.dashboard_listen}/"

    def write_processes(self) -> None:
        """The pids the dashboard's health panel shows (they change when a process restarts)."""
        self.ready["pids"] = {n: p.pid for n, p in self.venue.procs}
        _write_json(self.run_file("processes.json"), {"pids": self.ready["pids"], "up_pid": os.getpid()})

    def run_file(self, name: str) -> Path:
        return self.endpoints_file.parent / name

    def running_config(self) -> Path:
        """The configuration the processes run with (running_config.py), never the edited file."""
        return self.run_file(RUNNING_CONFIG_NAME)

    def may_restart(self, what: str) -> str | None:
        """None if `what` may be restarted, else why the venue must stop instead."""
        if what == "engine" and not self.cfg.journal.dir:
            return "the engine died and the venue has no journal to recover its state from"
        if what == "engine" and self.args.no_engine_restart:
            return "the engine died and --no-engine-restart was given"
        return None

    def restart(self, what: str, status: int) -> None:
        """Waits out the back-off, then restarts `what` (the engine: the control plane too, as
        it is attached to the dead engine; the gateway resumes alone). Raises RuntimeError when
        the new process does not come up (the next round sees it dead and backs off further)."""
        child = self.venue.children[what]
        ran = time.monotonic() - child.started
        delay = child.backoff.next_delay(ran)
        print(f"up: {what} {_status_text(status)} after {ran:.1f} s; restarting it"
              f"{f' in {delay:.1f} s' if delay else ''} (restart {child.backoff.total}, "
              f"{child.backoff.in_a_row} in a row)", file=sys.stderr, flush=True)
        end = time.monotonic() + delay
        while time.monotonic() < end and not self.stopping[0]:
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))   # the back-off itself
        if self.stopping[0]:
            return
        if what == "engine":
            self.venue.stop_one("control")
            self.venue.stop_one("monitor")      # it reads the dead engine's event log
            self.start_engine()
            self.start_control()
            self.start_monitor()
        elif what == "control":
            self.start_control()
        elif what == "monitor":
            self.start_monitor()
        elif what == "dashboard":
            self.start_dashboard()
        else:
            self.start_gateway()
        where = ""
        if what in ("engine", "control"):
            endpoints = json.loads(self.endpoints_file.read_text())
            self.ready["command"], self.ready["publish"] = endpoints["command"], endpoints["publish"]
            where = f"; control commands on {self.ready['command']}"
        print(f"up: {what} is back (pid {self.venue.children[what].proc.pid}){where}", flush=True)
        self.publish_ready()

    def publish_ready(self) -> None:
        """Writes the ready file (--ready-file) with the current endpoints and pids."""
        self.write_processes()
        if self.args.ready_file:
            _write_json(Path(self.args.ready_file), self.ready)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def banner(cfg: VenueConfig, ready: dict[str, Any], config_source: str, creds: Path) -> str:
    """What `up` prints once the venue serves: where to connect and with which session."""
    host, _, port = ready["gateway"].rpartition(":")
    lines = [f"up: venue {cfg.venue.name!r} is up",
             f"  order entry (SBE/FIXP over TCP): {ready['gateway']}"]
    firms = {f.firm_id: f for f in cfg.firms}
    for sess in cfg.sessions:
        firm = firms.get(sess.firm_id)
        accounts = ", ".join(str(a) for a in firm.accounts) if firm else "?"
        lines.append(f"    session {sess.session_id}: firm {sess.firm_id} "
                     f"({firm.name if firm else '?'}), accounts {accounts}")
    first = cfg.sessions[0]
    lines += [f"    session keys: [[sessions]] key in {config_source} (and {creds}, mode 0600)",
              f"    from Python: Client.connect({host!r}, {port}, session_id={first.session_id}, "
              f"firm_id={first.firm_id}, key=...)  (README: \"Trade against it from Python\")",
              f"  control commands (ZeroMQ ROUTER): {ready['command']}",
              f"  control publish  (ZeroMQ PUB):    {ready['publish']}",
              f"  gateway session admin:            {ready['gateway_admin'] or 'none'}",
              f"  analytics (order-flow monitor):   "
              f"{'topics analytics, alert on the control publish channel' if ready.get('analytics') else 'off ([analytics] enabled = false)'}",
              f"  audit log: {ready['audit_log']}",
              f"  dashboard (web): {ready.get('dashboard') or 'none'}"
              + (" (log in with a [[users]] name and token)" if ready.get("dashboard") else ""),
              f"  shell: python -m gateway shell --endpoint {ready['command']} --user NAME "
              f"(the user's token by --token-file FILE or $VENUE_CONTROL_TOKEN; users: [[users]] "
              f"in {config_source})",
              f"  stop: Ctrl-C (or SIGTERM to pid {os.getpid()})"]
    return "\n".join(lines)


def _is_multi_venue_file(path: str | None) -> bool:
    """A config with [[venues]] starts several venues (gateway/venues/up.py); an unreadable one
    is left to load_config, which says what is wrong with it."""
    if path is None:
        return False
    try:
        return "venues" in tomllib.loads(read_small_text(path))
    except (OSError, ValueError):       # not UTF-8, not TOML, not a small regular file
        return False


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.dashboard is not None and args.no_dashboard:
        parser.error("--dashboard and --no-dashboard contradict each other: give one")
    if args.ready_file is not None:     # checked at parse time; its folder made now, before any process
        try:
            args.ready_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"--ready-file: {os_error_line(exc)}")
    if _is_multi_venue_file(args.config):
        from gateway.venues.up import main_multi
        return main_multi(args)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"up: {exc}", file=sys.stderr)
        return 2
    # The venue's name is locked before anything is created, opened or removed: a second `up`
    # of a running venue stops here and touches nothing of it. Held until this process exits.
    try:
        name_lock = lock_venue(cfg.venue.name, "up", cfg.venue.shm_dir or None)
    except VenueLocked as exc:
        print(f"up: not starting: {exc}; stop it first or give this venue another [venue] name "
              f"and ports", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"up: not starting: cannot take the venue's lock: {exc}", file=sys.stderr)
        return 1
    try:
        return _main_locked(args, cfg)
    finally:
        name_lock.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_run_dirs(name: str, tmp: str | None = None) -> list[Path]:
    """The run directories (mkdtemp's venue-NAME-XXXXXXXX, 0700, ours) that an `up` of this venue
    left when it was SIGKILLed: it could not remove them, and they hold the session keys. Called
    under the venue's lock, so no live `up` of this name owns one; a directory counts as stale only
    when its processes.json names an `up` pid that no longer runs (anything else is left alone)."""
    out = []
    for d in Path(tmp or tempfile.gettempdir()).glob(f"venue-{name}-" + "?" * 8):
        try:
            if not d.is_dir() or d.is_symlink() or d.stat().st_uid != os.getuid():
                continue
            up_pid = json.loads((d / "processes.json").read_text()).get("up_pid")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(up_pid, int) and up_pid > 0 and up_pid != os.getpid() and not _alive(up_pid):
            out.append(d)
    return out


def cpus_not_here(cfg: VenueConfig) -> list[str]:
    """The config's pinned CPUs this host does not let us run on (the file may come from a bigger
    host): said once by `up`, naming the config field, rather than by the engine's --cpu error."""
    allowed = os.sched_getaffinity(0)
    return [f"venue.{name} = {cpu}" for name in ("engine_cpu", "gateway_cpu", "control_cpu")
            if (cpu := getattr(cfg.venue, name)) >= 0 and cpu not in allowed]


def _main_locked(args: argparse.Namespace, cfg: VenueConfig) -> int:
    wrong = cpus_not_here(cfg)
    if wrong:
        print(f"up: not starting: {', '.join(wrong)}: not one of this host's CPUs "
              f"{sorted(os.sched_getaffinity(0))} (-1: not pinned)", file=sys.stderr)
        return 2
    taken = ports_in_use(cfg, dashboard_listen(cfg, args))
    if taken:
        print(f"up: not starting: port in use: {'; '.join(taken)} (another venue or program "
              f"listens there; change it in the config)", file=sys.stderr)
        return 1
    if cfg.journal.dir:
        # Made here, after the port check (a refused `up` creates nothing), and said in one line:
        # before, a traceback from the gateway flow store's mkdir.
        try:
            Path(cfg.journal.dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"up: not starting: journal.dir {cfg.journal.dir!r}: {os_error_line(exc)}", file=sys.stderr)
            return 2
    # The run directory holds the session keys: private (0700: mkdtemp's mode, and ours for
    # --run-dir), and removed on exit when we made it (else the keys file in it is).
    own_run_dir = not args.run_dir
    if own_run_dir:
        for stale in stale_run_dirs(cfg.venue.name):
            shutil.rmtree(stale, ignore_errors=True)
            print(f"up: removed {stale}, the run directory (session keys) of an up of this venue that "
                  "was killed", file=sys.stderr, flush=True)
    run_dir = Path(args.run_dir) if args.run_dir else Path(tempfile.mkdtemp(prefix=f"venue-{cfg.venue.name}-"))
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if run_dir.stat().st_uid == os.getuid():
        run_dir.chmod(0o700)
    creds = run_dir / "gateway-credentials.json"
    write_gateway_credentials(cfg, creds)
    running_file = run_dir / RUNNING_CONFIG_NAME
    write_running_config(cfg, running_file)
    port_file, admin_file, endpoints_file = run_dir / "gateway.port", run_dir / "gateway.admin", run_dir / "control.json"
    for f in (port_file, admin_file, endpoints_file):
        f.unlink(missing_ok=True)
    store = gateway_store(cfg)
    if store is not None:
        said = prepare_gateway_store(cfg, store)
        if said:
            print(f"up: {said}", file=sys.stderr, flush=True)
    config_source = str(Path(args.config).resolve()) if args.config else str(default_config_path())
    if os.environ.get(DEPLOYMENT_ENV):
        # A venue of a multi-venue `up`: its file is derived; keys and users are edited in the
        # deployment's file (gateway/venues/up.py derives this one again from it)
        config_source = os.environ[DEPLOYMENT_ENV]

    stopping = [False]

    def on_signal(signum: int, frame: Any) -> None:
        stopping[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    venue = Venue(args.restart_backoff_max)
    # the ingest carries the analytics monitor's publications and the dashboard's login failures
    # and lockouts (audited by the control plane: gateway/dashboard/security_report.py)
    ingest, ingest_dir = (ingest_endpoint_for(run_dir) if cfg.analytics.enabled or dashboard_listen(cfg, args)
                          else (None, None))
    sup = Supervisor(venue, cfg, args, creds, port_file, admin_file, endpoints_file,
                     cfg.gateway.listen, stopping, dashboard_listen(cfg, args), run_dir / "dashboard.port",
                     ingest)
    rc = 0
    try:
        sup.start_engine()
        sup.start_control()
        sup.start_gateway()
        sup.start_monitor()
        endpoints = json.loads(endpoints_file.read_text())
        host = cfg.gateway.listen.rpartition(":")[0]
        sup.gateway_listen = f"{host}:{port_file.read_text().strip()}"
        sup.ready = {"venue": cfg.venue.name, "gateway": sup.gateway_listen,
                     "command": endpoints["command"], "publish": endpoints["publish"],
                     "audit_log": endpoints["audit_log"],
                     "gateway_admin": admin_file.read_text().strip() if admin_file.exists() else None,
                     "run_dir": str(run_dir), "analytics": cfg.analytics.enabled, "pids": {n: p.pid for n, p in venue.procs},
                     "dashboard": None, "stop_budget_s": stop_budget_s(SUPERVISED_MAX)}
        if sup.dashboard_listen:
            sup.write_processes()           # its health panel reads them from the start
            try:
                sup.start_dashboard()
            except RuntimeError as exc:
                if stopping[0]:
                    raise
                print(f"up: the dashboard did not start ({exc}); the venue serves without it",
                      file=sys.stderr, flush=True)
                venue.stop_one("dashboard")
                venue.children.pop("dashboard", None)
        print(banner(cfg, sup.ready, config_source, creds), flush=True)
        sup.publish_ready()
        rotation = CredentialsRotation(args.config, cfg, running_file, creds)
        while not stopping[0]:
            dead = venue.dead()
            if dead is None:
                rotation.poll(time.monotonic())
                time.sleep(0.1)   # supervision poll; signals interrupt it
                continue
            why = sup.may_restart(dead[0])
            if why is not None:
                print(f"up: {dead[0]} {_status_text(dead[1])}: {why}; stopping the venue "
                      f"(clients get Terminate reason 964, venue stopping)", file=sys.stderr,
                      flush=True)
                rc = 1
                break
            try:
                sup.restart(*dead)
            except RuntimeError as exc:
                if not stopping[0]:
                    print(f"up: restarting {dead[0]} failed: {exc}; trying again",
                          file=sys.stderr, flush=True)
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
            running_file.unlink(missing_ok=True)      # it holds the session keys too
        if ingest_dir is not None:
            shutil.rmtree(ingest_dir, ignore_errors=True)
    print(f"up: venue {cfg.venue.name!r} stopped", flush=True)
    return rc
