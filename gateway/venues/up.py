"""``python -m gateway up --config MULTI.toml``: every venue of a multi-venue file, and the
consolidator (gateway/control/up.py hands a file with [[venues]] to this module).

Per venue, in this order: the single-venue ``up`` of its derived config (engine, control plane,
gateway: gateway/control/up.py supervises and restarts those; a dark venue's engine runs in the
midpoint mode, ``engine --dark``), its market-data publisher (``md publish --engine``, ZeroMQ on
port_base + 2, recovery on + 3; a dark venue's carries post-trade prints only) and its delay line
(``delay-line``, order entry on port_base + 1 -> gateway on port_base). Then the consolidator
(``sip``), which feeds the lit venues their protected away quotes and the dark venues the NBBO, and,
unless the template's ``[dashboard] listen`` is "", the deployment's dashboard index (``dashboard
--deployment``, gateway/dashboard/deployment.py: every venue's own dashboard, which each venue's
``up`` serves on a free port, and the NBBO). Each publisher writes its subscriber and recovery-session
counts into its venue's run directory (``--stats-file``), where that venue's dashboard reads them.
A process that dies is restarted with the single-venue back-off; a restarted
publisher starts a new feed session, so the consolidator is restarted after it to join afresh.
SIGINT/SIGTERM stops everything, the last started first.

Placement: each process is pinned to the CPU its [[venues]] entry names (engine_cpu, gateway_cpu,
control_cpu, md_cpu, delay_cpu; [sip] cpu), or left to the scheduler (-1). The start-up banner
says how many processes share how many CPUs.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import msgspec

from gateway.control.config import ConfigError, VenueConfig
from gateway.control.config_watch import ConfigFileWatcher
from gateway.dashboard.market_data import STATS_FILE
from gateway.parent_death import stop_with_parent
from gateway.control import up as single_up
from gateway.control.up import Backoff, RESTART_BACKOFF_MAX_S, _status_text, _terminate, ports_in_use
from gateway.venues.config import MultiVenueConfig, VenueSpec, derive_venue_config, load_multi_config, ports
from gateway.venues.toml_text import toml_text
from gateway.venues.up_env import DEPLOYMENT_ENV

START_TIMEOUT_S = 90.0        # several venues start on shared CPUs
POLL_S = 0.05


@dataclass
class Proc:
    name: str
    cmd: list[str]
    cpu: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: Backoff | None = None
    env: dict[str, str] | None = None      # None: this process's environment

    def start(self) -> None:
        cpu = self.cpu
        pin: Callable[[], None] | None = (lambda: os.sched_setaffinity(0, {cpu})) if cpu >= 0 else None
        self.proc = subprocess.Popen(self.cmd, preexec_fn=stop_with_parent(pin), env=self.env)
        self.started = time.monotonic()

    def dead(self) -> int | None:
        return None if self.proc is None else self.proc.poll()


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return True
        except OSError:
            return False


def ports_taken(cfg: MultiVenueConfig) -> list[str]:
    """Every fixed port of the deployment that another program holds now."""
    taken: list[str] = []
    for spec in cfg.venues:
        taken += [f"{spec.id}: {t}" for t in ports_in_use(derive_venue_config(cfg, spec.id))]
        p = ports(spec)
        for what, port in (("order entry", p.order_entry), ("md zmq", p.md_zmq), ("md recovery", p.md_recovery)):
            if not _free(cfg.host, port):
                taken.append(f"{spec.id}: {what} {cfg.host}:{port}")
    index = cfg.template.dashboard.listen
    if index and not index.endswith(":0") and not _free(index.rpartition(":")[0], int(index.rpartition(":")[2])):
        taken.append(f"dashboard.listen {index}")
    sip_host, _, sip_port = cfg.sip.publish[len("tcp://"):].rpartition(":")
    if not _free(sip_host, int(sip_port)):
        taken.append(f"sip.publish {cfg.sip.publish}")
    return taken


def md_command(cfg: MultiVenueConfig, spec: VenueSpec, stats_file: Path | None = None) -> list[str]:
    derived = derive_venue_config(cfg, spec.id)
    p = ports(spec)
    cmd = [sys.executable, "-m", "gateway", "md", "publish", "--engine", derived.venue.name, "--no-udp",
           "--zmq", f"tcp://{cfg.host}:{p.md_zmq}", "--recovery-port", str(p.md_recovery),
           "--instruments", ",".join(f"{i.id}:{i.symbol[:8]}:{i.tick}:{i.lot}:{i.reference_price}"
                                     for i in derived.instruments),
           "--duration-s", "1e12", "--spin-polls", "100", "--idle-sleep-us", "200"]
    if stats_file is not None:            # its audience, for the venue's dashboard (gateway/dashboard/market_data.py)
        cmd += ["--stats-file", str(stats_file)]
    if derived.venue.shm_dir:
        cmd += ["--dir", derived.venue.shm_dir]
    return cmd


def delay_command(cfg: MultiVenueConfig, spec: VenueSpec, seed: int) -> list[str]:
    p = ports(spec)
    return [sys.executable, "-m", "gateway", "delay-line", "--listen", f"{cfg.host}:{p.order_entry}",
            "--target", f"{cfg.host}:{p.gateway}", "--avg-us", str(spec.latency.avg_us),
            "--p99-us", str(spec.latency.p99_us), "--seed", str(seed)]


def placement_note(cfg: MultiVenueConfig, n_procs: int) -> str:
    cpus = os.cpu_count() or 1
    pinned = [f"{s.id} engine on CPU {s.engine_cpu}" for s in cfg.venues if s.engine_cpu >= 0]
    return (f"up: {len(cfg.venues)} venues, {n_procs} processes ({len(cfg.venues)} engines) on "
            f"{cpus} CPUs: several engines share the CPUs, so their latency is not an isolated "
            f"core's; placement: {', '.join(pinned) if pinned else 'none pinned (engine_cpu = -1)'}; "
            f"[[venues]] engine_cpu / gateway_cpu / control_cpu / md_cpu / delay_cpu and [sip] cpu place them")


class MultiVenue:
    """The deployment's processes in start order, each restarted when it dies."""

    def __init__(self, cfg: MultiVenueConfig, config_path: str, run_dir: Path, stopping: list[bool],
                 backoff_max_s: float) -> None:
        self.cfg, self.config_path, self.run_dir, self.stopping = cfg, config_path, run_dir, stopping
        self.backoff_max_s = backoff_max_s
        self.procs: list[Proc] = []
        self.ready: dict[str, Any] = {"venues": {}, "run_dir": str(run_dir)}

    def _wait(self, cond: Callable[[], bool], what: str, proc: Proc) -> None:
        end = time.monotonic() + START_TIMEOUT_S
        while not cond():
            if proc.dead() is not None:
                raise RuntimeError(f"{proc.name} exited ({_status_text(proc.dead() or 0)}) while waiting for {what}")
            if self.stopping[0]:
                raise RuntimeError(f"stop requested while waiting for {what}")
            if time.monotonic() > end:
                raise RuntimeError(f"timed out after {START_TIMEOUT_S:.0f} s waiting for {what}")
            time.sleep(POLL_S)     # polling interval of a start-up condition

    def _launch(self, proc: Proc, cond: Callable[[], bool], what: str) -> None:
        if proc.backoff is None:
            proc.backoff = Backoff(self.backoff_max_s)
        if proc not in self.procs:
            self.procs.append(proc)
        proc.start()
        self._wait(cond, what, proc)

    def start_venue(self, spec: VenueSpec) -> None:
        derived = derive_venue_config(self.cfg, spec.id)
        path = self.run_dir / f"{spec.id}.toml"
        write_venue_file(derived, path)
        ready = self.run_dir / f"{spec.id}.ready.json"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "gateway", "up", "--config", str(path), "--run-dir",
               str(self.run_dir / spec.id), "--ready-file", str(ready), "--no-mlock",
               "--restart-backoff-max", str(self.backoff_max_s)]
        env = {**os.environ, DEPLOYMENT_ENV: str(Path(self.config_path).resolve())}
        self._launch(Proc(f"{spec.id}/up", cmd, -1, env=env), ready.exists, f"venue {spec.id}")
        p = ports(spec)
        self._launch(Proc(f"{spec.id}/md", md_command(self.cfg, spec, self.run_dir / spec.id / STATS_FILE), spec.md_cpu),
                     lambda: _port_open(self.cfg.host, p.md_recovery), f"venue {spec.id}'s market data")
        self._launch(Proc(f"{spec.id}/delay", delay_command(self.cfg, spec, len(self.procs)), spec.delay_cpu),
                     lambda: _port_open(self.cfg.host, p.order_entry), f"venue {spec.id}'s delay line")
        self.ready["venues"][spec.id] = {
            "engine": derived.venue.name, "type": spec.type, "order_entry": f"{self.cfg.host}:{p.order_entry}",
            "gateway": f"{self.cfg.host}:{p.gateway}", "md_zmq": f"tcp://{self.cfg.host}:{p.md_zmq}",
            "md_recovery": f"{self.cfg.host}:{p.md_recovery}", **json.loads(ready.read_text())}

    def start_sip(self) -> None:
        ready = self.run_dir / "sip.ready.json"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "gateway", "sip", "--config", self.config_path, "--ready-file", str(ready)]
        existing = next((p for p in self.procs if p.name == "sip"), None)
        self._launch(existing or Proc("sip", cmd, self.cfg.sip.cpu), ready.exists, "the consolidator")
        self.ready["sip"] = json.loads(ready.read_text())["publish"]

    def start_index(self) -> None:
        """The deployment's dashboard index (gateway/dashboard/deployment.py), when the template's
        [dashboard] listen names an address; a restarted one keeps the port it had."""
        listen = self.cfg.template.dashboard.listen
        if not listen:
            return
        dep = self.run_dir / "deployment.json"
        _write_json(dep, deployment(self.cfg, self.ready, self.run_dir))
        port_file = self.run_dir / "dashboard.port"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "gateway", "dashboard", "--deployment", str(dep), "--listen", listen,
               "--port-file", str(port_file)]
        proc = Proc("dashboard", cmd, -1)
        self._launch(proc, port_file.exists, "the deployment's dashboard index")
        host = listen.rpartition(":")[0]
        proc.cmd[proc.cmd.index("--listen") + 1] = f"{host}:{port_file.read_text().strip()}"
        self.ready["dashboard"] = f"http://{host}:{port_file.read_text().strip()}/"

    def discovery_venues(self) -> list[str]:
        """The venues whose quotes the discovery process compares: the lit ones (a dark pool
        displays nothing)."""
        return [v.id for v in self.cfg.venues if v.type == "lit"]

    def start_discovery(self) -> None:
        """Live information shares across the lit venues, from the consolidator's feed."""
        d = self.cfg.discovery
        venues = self.discovery_venues()
        if not d.enabled or len(venues) < 2:
            self.ready["discovery"] = None
            return
        ready = self.run_dir / "discovery.ready.json"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "trading", "discovery", "--sip", self.ready["sip"],
               "--bar-seconds", repr(d.bar_seconds), "--lags", str(d.lags), "--interval", repr(d.interval_s),
               "--max-fill-bars", str(d.max_fill_bars), "--price-scale", str(self.cfg.template.venue.price_scale),
               "--ready-file", str(ready)]
        for v in venues:
            cmd += ["--venue", v]
        for ins in self.cfg.template.instruments:
            cmd += ["--instrument", f"{ins.id}:{ins.symbol}"]
        proc = Proc("discovery", cmd, d.cpu)
        self._launch(proc, ready.exists, "the price-discovery monitor")
        endpoint = json.loads(ready.read_text())["publish"]
        proc.cmd = cmd + ["--publish", endpoint]     # a restart binds the same address again
        self.ready["discovery"] = endpoint

    def restart(self, proc: Proc, status: int) -> None:
        assert proc.backoff is not None
        ran = time.monotonic() - proc.started
        delay = proc.backoff.next_delay(ran)
        print(f"up: {proc.name} {_status_text(status)} after {ran:.1f} s; restarting it"
              f"{f' in {delay:.1f} s' if delay else ''}", file=sys.stderr, flush=True)
        end = time.monotonic() + delay
        while time.monotonic() < end and not self.stopping[0]:
            time.sleep(POLL_S)      # the back-off itself
        if self.stopping[0]:
            return
        proc.start()
        if proc.name.endswith("/md"):          # a new feed session: the consolidator joins afresh
            sip = next(p for p in self.procs if p.name == "sip")
            if sip.proc is not None:
                _terminate("sip", sip.proc)
        print(f"up: {proc.name} is back (pid {proc.proc.pid if proc.proc else '?'})", flush=True)

    def supervise(self) -> None:
        edits = DeploymentEdits(self.cfg, self.config_path, self.run_dir)
        while not self.stopping[0]:
            edits.poll(time.monotonic())
            for proc in list(self.procs):
                status = proc.dead()
                if status is not None and not self.stopping[0]:
                    self.restart(proc, status)
            time.sleep(0.1)    # supervision poll; signals interrupt it

    def stop(self) -> None:
        stop_procs(self.procs)

    def stop_budget_s(self) -> float:
        """The longest stop() may take (and this process's own clean-up after it): what whoever
        stops this `up` must wait before killing it (written in the ready file)."""
        return sum(_stop_timeout_s(p) for p in self.procs) + single_up.STOP_TIMEOUT_S


def _stop_timeout_s(proc: Proc) -> float:
    """How long a child may take to stop: a venue's own `up` stops its processes one by one (its
    stop_budget_s); the others are single processes (STOP_TIMEOUT_S)."""
    return single_up.stop_budget_s(single_up.SUPERVISED_MAX) if proc.name.endswith("/up") \
        else single_up.STOP_TIMEOUT_S


def stop_procs(procs: list[Proc]) -> None:
    """Stops the children, the last started first, each given its own stop time: a venue's `up`
    killed after a single process's 20 s (at load 15 its five processes took longer) left that
    venue's control plane unstopped and the deployment's stop over the budget callers allow."""
    for proc in reversed(procs):
        if proc.proc is not None:
            _terminate(proc.name, proc.proc, _stop_timeout_s(proc))


def write_venue_file(derived: VenueConfig, path: Path) -> None:
    """A venue's derived config file, 0600 from its creation (it holds session keys), replaced
    atomically: the venue's `up` watches it and must never read half of it."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(toml_text(derived))
    os.replace(tmp, path)


class DeploymentEdits:
    """Edits of the multi-venue file while the deployment runs. The single-venue part (the
    template: users, sessions, instruments...) reaches each running venue through its derived file,
    written again, so that venue's `up` rotates what rotates live (users, session keys) and names
    the rest as not applied (gateway/control/running_config.py). What the deployment alone reads
    ([[venues]] entries, [sip], [regnms], [discovery]) is read at start: named here as not applied.
    Before, an edit of the file (a rotated token) changed nothing and said nothing."""

    def __init__(self, started: MultiVenueConfig, path: str, run_dir: Path) -> None:
        self.started, self.path, self.run_dir = started, path, run_dir
        self.watcher = ConfigFileWatcher(path, self._apply, self._refused, load=load_multi_config)

    def poll(self, now: float) -> None:
        self.watcher.poll(now)

    def _apply(self, edited: MultiVenueConfig) -> None:
        not_applied = [f"[{name}]" for name in ("sip", "regnms", "discovery")
                       if getattr(edited, name) != getattr(self.started, name)]
        if edited.venues != self.started.venues:
            not_applied.insert(0, "[[venues]]")
        # the venues as started, with the edited template: only the single-venue part moves on
        running = msgspec.structs.replace(self.started, template=edited.template)
        for spec in self.started.venues:
            write_venue_file(derive_venue_config(running, spec.id), self.run_dir / f"{spec.id}.toml")
        print(f"up: {self.path} changed: each venue's config is derived again (its `up` says what "
              f"rotates now and what it does not apply)"
              + (f"; {', '.join(not_applied)}: read at start only, NOT applied to the running "
                 "deployment (the next `up` takes it)" if not_applied else ""), file=sys.stderr, flush=True)

    def _refused(self, exc: ConfigError) -> None:
        print(f"up: {self.path} changed but does not load; nothing changed: {exc}", file=sys.stderr, flush=True)


def deployment(cfg: MultiVenueConfig, ready: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """What the dashboard index shows (gateway/dashboard/deployment.py reads it)."""
    t = cfg.template
    return {"name": t.venue.name, "price_scale": t.venue.price_scale, "sip": ready["sip"],
            "instruments": [{"id": i.id, "symbol": i.symbol, "tick": i.tick} for i in t.instruments],
            "venues": [{"id": s.id, "type": s.type, "instruments": s.instruments, "run_dir": str(run_dir / s.id),
                        **{k: ready["venues"][s.id].get(k) for k in ("engine", "dashboard", "order_entry",
                                                                       "md_zmq", "md_recovery")}}
                       for s in cfg.venues]}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def banner(cfg: MultiVenueConfig, ready: dict[str, Any]) -> str:
    lines = [f"up: {len(cfg.venues)} venues are up ({cfg.rules().name} in force; Rule 611 policy "
             f"{cfg.regnms.order_protection})"]
    for spec in cfg.venues:
        r = ready["venues"][spec.id]
        lines.append(f"  {spec.id} ({spec.type}, engine {r['engine']}): order entry {r['order_entry']} "
                     f"(delay line avg {spec.latency.avg_us:g} us, P99 {spec.latency.p99_us:g} us -> "
                     f"gateway {r['gateway']}), market data {r['md_zmq']} (recovery {r['md_recovery']}), "
                     f"control {r['command']}; fees {spec.fees.maker_rebate:g}/{spec.fees.taker_fee:g} "
                     f"{spec.fees.unit} (maker rebate/taker fee)")
    disc = ready.get("discovery")
    lines += [f"  consolidated quote (NBBO, protected quotes): {ready['sip']}",
              f"  dashboard index (each venue's dashboard, the NBBO): {ready.get('dashboard') or 'none'}",
              f"  price discovery (information shares across lit venues, topic analytics): "
              f"{disc if disc else 'off (discovery.enabled = false, or fewer than two lit venues)'}",
              f"  sessions and keys: as in the single-venue file ([[sessions]]); stop: Ctrl-C (pid {os.getpid()})"]
    return "\n".join(lines)


def main_multi(args: argparse.Namespace) -> int:
    try:
        cfg = load_multi_config(args.config)
    except ConfigError as exc:
        print(f"up: {exc}", file=sys.stderr)
        return 2
    taken = ports_taken(cfg)
    if taken:
        print(f"up: not starting: port in use: {'; '.join(taken)}", file=sys.stderr)
        return 1
    own_run_dir = not args.run_dir
    run_dir = Path(args.run_dir) if args.run_dir else Path(tempfile.mkdtemp(prefix=f"venues-{cfg.template.venue.name}-"))
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *_: stopping.__setitem__(0, True))
    print(placement_note(cfg, 6 * len(cfg.venues) + 2 + (1 if cfg.template.dashboard.listen else 0)), flush=True)
    mv = MultiVenue(cfg, str(Path(args.config).resolve()), run_dir, stopping, args.restart_backoff_max)
    rc = 0
    try:
        for spec in cfg.venues:
            mv.start_venue(spec)
        mv.start_sip()
        mv.start_discovery()
        mv.start_index()
        mv.ready["pids"] = {p.name: p.proc.pid for p in mv.procs if p.proc is not None}
        mv.ready["stop_budget_s"] = mv.stop_budget_s()
        print(banner(cfg, mv.ready), flush=True)
        if args.ready_file:
            Path(f"{args.ready_file}.tmp").write_text(json.dumps(mv.ready))
            os.replace(f"{args.ready_file}.tmp", args.ready_file)
        mv.supervise()
    except RuntimeError as exc:
        if not stopping[0]:
            print(f"up: {exc}", file=sys.stderr, flush=True)
            rc = 1
    finally:
        mv.stop()
        if own_run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            for spec in cfg.venues:
                (run_dir / f"{spec.id}.toml").unlink(missing_ok=True)
    print(f"up: {len(cfg.venues)} venues stopped", flush=True)
    return rc
