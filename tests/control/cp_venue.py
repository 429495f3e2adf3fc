"""A real venue for the control-plane tests: ``python -m gateway up`` on a venue config written
here (engine, control plane and gateway as three processes, fresh shm name, free ports), plus the
clients and condition waits the tests share.

Instruments: 1 ACME (tick 1, ref 10000), 2 BETA (tick 5, ref 5000), 3 PNL (tick 1, ref 1000), all
continuous from the start. Firm 1 owns accounts 1 and 2 (session 101), firm 2 accounts 3 and 4
(session 201). Users: "ops" (operator, risk officer, compliance, admin: every duty), "watch" (viewer); the config
holds only their tokens' scrypt hashes (the tokens are OPERATOR[1] and VIEWER[1]). Nothing here sleeps to wait for an
effect: every wait polls a condition.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from gateway.client import Client, ExecutionReport
from gateway.control.audit import read_audit
from gateway.control.client import ControlClient
from gateway import launcher
from gateway.launcher import wait_for  # noqa: F401  (tests import it from here too)

START_DEADLINE_S = 60.0
OPERATOR = ("ops", "operator-token-1")
VIEWER = ("watch", "viewer-token-1")
SESSIONS = {101: (1, "key-101"), 201: (2, "key-201")}

BASE_CONFIG = """
[venue]
name = "{name}"
max_accounts = 64

[journal]
dir = "{journal}"

[gateway]
listen = "127.0.0.1:0"
admin_endpoint = "tcp://127.0.0.1:*"

[control]
command_endpoint = "tcp://127.0.0.1:*"
publish_endpoint = "tcp://127.0.0.1:*"
audit_log = "{audit}"
status_interval_ms = 200

[schedule]
clock = "start"
{schedule}

[analytics]
enabled = {analytics}
bucket_volume = 10
interval_s = 0.2

[breakers]
price_band_pct = {band}
halt_s = {halt_s}
reopen_call_s = 0

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

[[instruments]]
id = 3
symbol = "PNL"
tick = 1
lot = 1
reference_price = 1000

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

[[sessions]]
session_id = 201
firm_id = 2
key = "key-201"

[[accounts]]
id = 1
max_position = 1000
{extra_accounts}

[[users]]
name = "ops"
role = "operator"
roles = ["risk_officer", "compliance", "admin"]
token_hash = "scrypt$16384$8$1$zKEevEElieZ+Xhi+oeaZZA==$XXQ1F0m1ZrUpGWGGWsNmqB5+SvAm8DgGAw64u+kypX4="

[[users]]
name = "watch"
role = "viewer"
token_hash = "scrypt$16384$8$1$wDXIekL5r2bDZTFxW8BD3g==$+nSeD297FcDlZHhpZDsYjz+Fne3Z1zN0U/Ue10Nv2Vs="
{extra_users}"""


@dataclass
class CpVenue:
    ready: dict[str, Any]
    proc: subprocess.Popen[str]
    audit_path: Path
    gateway_host: str
    gateway_port: int
    log_path: Path

    def control(self, user: tuple[str, str] = OPERATOR, timeout_s: float = 10.0) -> ControlClient:
        return ControlClient(self.ready["command"], user[0], user[1], timeout_s=timeout_s,
                             publish_endpoint=self.ready["publish"])

    def connect(self, session_id: int) -> Client:
        firm, key = SESSIONS[session_id]
        return _go_on(session_id, lambda seq: Client.connect(
            self.gateway_host, self.gateway_port, session_id, firm, key, keepalive_ms=20000,
            next_seq_no=seq))

    def audit(self) -> list[dict[str, Any]]:
        return read_audit(self.audit_path)

    def output(self) -> str:
        """What ``up`` (and the processes it runs, which inherit its stdout/stderr) wrote so far."""
        return self.log_path.read_text(errors="replace")

    def phase(self, ctl: ControlClient, symbol: str) -> str:
        return next(i["phase"] for i in ctl.call("status")["instruments"] if i["symbol"] == symbol)


DEFAULT_SCHEDULE = "pre_open = 0\nopen = 0"


def write_config(tmp: Path, name: str, band: float = 0.0, halt_s: float = 60.0,
                 schedule: str = DEFAULT_SCHEDULE, journal: str = "", extra_users: str = "",
                 analytics: bool = False, extra_accounts: str = "") -> Path:
    """analytics: `up` runs the order-flow monitor (off here unless a test is about it: one
    process less per venue on a two-CPU machine)."""
    path = tmp / "venue.toml"
    path.write_text(BASE_CONFIG.format(name=name, audit=tmp / "audit.jsonl", band=band, halt_s=halt_s,
                                       schedule=schedule, journal=journal, extra_users=extra_users,
                                       analytics=str(analytics).lower(), extra_accounts=extra_accounts))
    return path


def start_venue(tmp: Path, band: float = 0.0, halt_s: float = 60.0,
                schedule: str = DEFAULT_SCHEDULE, journal: str = "", extra_users: str = "",
                analytics: bool = False, extra_accounts: str = "") -> Iterator[CpVenue]:
    """Yields the running venue; stops it (SIGTERM to ``up``) when the generator is closed. The
    output of ``up`` goes to up.log in tmp. extra_users: more [[users]] tables (TOML) appended to
    the config; extra_accounts: more [[accounts]] tables (accounts 2..4)."""
    with launcher.Venue(prefix="cp", log_dir=tmp, stop_deadline_s=40) as venue:
        cfg = write_config(tmp, venue.name, band, halt_s, schedule, journal, extra_users, analytics,
                           extra_accounts)
        ready = venue.start_up(cfg, tmp / "run", tmp / "ready.json", deadline_s=START_DEADLINE_S)
        host, _, port = ready["gateway"].rpartition(":")
        yield CpVenue(ready, venue.procs["up"], tmp / "audit.jsonl", host, int(port), tmp / "up.log")


class SplitVenue:
    """The venue's three processes started one by one with the command lines ``up`` uses (engine,
    then control plane, then gateway), without ``up`` supervising them, so a test can SIGKILL one
    and start it again. Output of each process goes to run/<what>.log."""

    def __init__(self, tmp: Path, journal: str) -> None:
        from gateway.control.config import load_config
        self.run = tmp / "run"
        self.run.mkdir(exist_ok=True)
        self.venue = launcher.Venue(prefix="cp", log_dir=self.run, stop_deadline_s=20)
        self.name = self.venue.name
        self.config_path = write_config(tmp, self.name, journal=journal)
        self.cfg = load_config(self.config_path)
        self.creds = self.run / "gateway-credentials.json"
        self.port_file, self.admin_file = self.run / "gateway.port", self.run / "gateway.admin"
        self.endpoints_file = self.run / "control.json"
        self.audit_path = tmp / "audit.jsonl"
    @property
    def procs(self) -> dict[str, subprocess.Popen[str]]:
        return self.venue.running()

    def _start(self, what: str, cmd: list[str], ready: Callable[[], Any]) -> None:
        self.venue.spawn(what, cmd, stdout_to_log=True)
        self.venue.wait_for(ready, f"the {what} to be ready", START_DEADLINE_S)

    def start_engine(self) -> None:
        from gateway.control.up import _engine_ready, engine_command
        self._start("engine", engine_command(self.cfg, no_mlock=True), lambda: _engine_ready(self.cfg, self.procs["engine"].pid))

    def start_control(self) -> None:
        from gateway.control.up import control_command
        self.endpoints_file.unlink(missing_ok=True)
        self._start("control", control_command(str(self.config_path), self.endpoints_file, self.admin_file,
                                               self.cfg), self.endpoints_file.exists)

    def start_gateway(self) -> None:
        from gateway.control.up import gateway_command, write_gateway_credentials
        write_gateway_credentials(self.cfg, self.creds)
        for f in (self.port_file, self.admin_file):
            f.unlink(missing_ok=True)
        self._start("gateway", gateway_command(self.cfg, self.creds, self.port_file, self.admin_file),
                    self.port_file.exists)

    def start(self) -> "SplitVenue":
        self.start_engine()
        self.start_control()
        self.start_gateway()
        return self

    def kill(self, what: str) -> None:
        """SIGKILL, as a crash: nothing of the process's own clean-up runs."""
        self.venue.kill(what)

    def stop(self) -> None:
        self.venue.close()

    def control(self, user: tuple[str, str] = OPERATOR, timeout_s: float = 10.0) -> ControlClient:
        ep = json.loads(self.endpoints_file.read_text())
        return ControlClient(ep["command"], user[0], user[1], timeout_s=timeout_s,
                             publish_endpoint=ep["publish"])

    def connect(self, session_id: int) -> Client:
        firm, key = SESSIONS[session_id]
        host = self.cfg.gateway.listen.rpartition(":")[0]
        return _go_on(session_id, lambda seq: Client.connect(
            host, int(self.port_file.read_text().strip()), session_id, firm, key,
            keepalive_ms=20000, next_seq_no=seq))


_LAST: dict[int, Client] = {}


def _go_on(session_id: int, connect: Callable[[int | None], Client]) -> Client:
    """A new connection of a session whose seqNums go on from its last connection in this
    process (FIXP Idempotent flow: the gateway refuses a seqNum it already had as a duplicate,
    ENG_GW_SEQ_TOO_LOW, also after a reconnect; a new gateway takes a higher start as a gap)."""
    last = _LAST.get(session_id)
    seq = None if last is None else last.core.next_seq_out
    c = connect(seq)
    if last is not None:
        c.core.next_cl_ord_id = last.core.next_cl_ord_id
    _LAST[session_id] = c
    return c


def report(c: Client, pred: Callable[[ExecutionReport], bool], timeout_s: float = 10.0) -> ExecutionReport:
    """The next ExecutionReport matching pred (others are skipped)."""
    msg, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and pred(m), timeout_s)
    assert isinstance(msg, ExecutionReport)
    return msg
