"""``python -m gateway up`` as issue #17 asks, through the real processes:

- a second ``up`` of a running venue is refused with one line and touches nothing of it (its
  segments, its journal), and the running venue goes on trading; a venue whose port another
  program holds is refused before its engine creates or journals anything;
- supervision: the engine SIGKILLed 10 times in a row, then the control plane and the gateway
  3 times each: every time the process comes back (with back-off), the venue keeps serving, and
  clients are told the truth (Terminate 959 ENGINE_GONE when the engine dies, the connection
  dropped when the gateway dies, trading again after); a requested stop ends each session with
  Terminate 964 VENUE_STOPPING, not a plain "finished".
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from gateway.client import Client, ClientError, ConnectionClosed, ExecType, ExecutionReport, Terminate
from gateway.control.client import ControlClient
from gateway.control.up import Backoff
from gateway.control.running_config import RUNNING_CONFIG_NAME
from gateway.reasons import Reason
from shm.engine_segments import control_path
from shm.segment import KIND_CONTROL, Segment
from tests.control.cp_venue import OPERATOR, SESSIONS, write_config
from gateway.launcher import Venue, pid_of, up_command, wait_for

START_S = 60.0


class UpVenue:
    """`up` on a cp_venue config through the one launcher (its output in a log file: a pipe
    nobody reads could fill up)."""

    def __init__(self, tmp: Path, extra: list[str] | None = None, name: str | None = None,
                 journal: bool = True) -> None:
        self.tmp = tmp
        self.name = name or f"su{uuid.uuid4().hex[:8]}"
        self.config = write_config(tmp, self.name, journal=str(tmp / "journal") if journal else "")
        self.ready_file = tmp / "ready.json"
        self.extra = list(extra or [])
        self.cmd = up_command(self.config, tmp / "run", self.ready_file, *self.extra)
        log_dir = tmp / f"up-{uuid.uuid4().hex[:6]}"
        log_dir.mkdir()
        self.venue = Venue(self.name, log_dir=log_dir, stop_deadline_s=60.0)
        self.ready: dict[str, Any] = {}

    @property
    def proc(self) -> subprocess.Popen[str]:
        return self.venue.procs["up"]

    def start(self) -> "UpVenue":
        self.ready = self.venue.start_up(self.config, self.tmp / "run", self.ready_file, *self.extra,
                                         deadline_s=START_S)
        return self

    @property
    def port(self) -> int:
        return int(self.ready["gateway"].rpartition(":")[2])

    def log(self) -> str:
        return self.venue.log("up")

    def connect(self, session_id: int = 101, next_seq_no: int | None = None) -> Client:
        firm, key = SESSIONS[session_id]
        return Client.connect("127.0.0.1", self.port, session_id, firm, key, keepalive_ms=20000,
                              next_seq_no=next_seq_no)

    def control(self) -> ControlClient:
        ep = json.loads((self.tmp / "run" / "control.json").read_text())
        return ControlClient(ep["command"], *OPERATOR, timeout_s=10.0)

    def close(self) -> None:
        self.venue.close()


@pytest.fixture
def up_venue(tmp_path: Path) -> Iterator[Any]:
    made: list[UpVenue] = []

    def make(**kw: Any) -> UpVenue:
        v = UpVenue(tmp_path, **kw)
        made.append(v)
        return v

    yield make
    for v in made:
        v.close()


def _serving_engine(name: str, not_pid: int) -> int | None:
    """The pid of a new engine of `name` that takes producers, else None."""
    try:
        seg = Segment.attach(control_path(name), KIND_CONTROL, 0, 2_000_000_000)
    except Exception:
        return None
    try:
        pid = int(seg.handle.hdr.creator_pid)
        return pid if pid != not_pid and seg.control().producer_count > 0 else None
    finally:
        seg.detach()


_CL_ORD_IDS = iter(range(1000, 1 << 30))     # unique across reconnects of one session


def _trade_ok(c: Client, price: str = "1.00") -> None:
    """One order acknowledged: the venue serves this client."""
    cid = c.buy(1, 1, price, account_id=1, cl_ord_id=next(_CL_ORD_IDS))
    r = c.wait_report(cid, timeout_s=20.0)
    assert r.exec_type == ExecType.NEW, c.describe(r)


def _control_alive(v: UpVenue) -> bool:
    """The (current) control plane answers and sees the engine alive."""
    try:
        return bool(v.control().call("status")["engine"]["alive"])
    except Exception:               # not written yet, a dead endpoint, a timeout: not yet
        return False


def _reconnect(v: UpVenue, old: Client) -> Client:
    """The same session again, its sequence numbers going on from the old connection's (the
    gateway never executes a seqNum twice)."""
    def attempt() -> Client | None:
        try:
            return v.connect(next_seq_no=old.core.next_seq_out)
        except (ClientError, OSError):
            return None
    c: Client = wait_for(attempt, "a reconnect to succeed", START_S, watch={"up": v.proc})
    return c


def test_a_second_up_is_refused_and_touches_nothing(up_venue: Any) -> None:
    first = up_venue().start()
    shm = Path(control_path(first.name)).parent
    segments = sorted(p.name for p in shm.glob(f"venue-{first.name}-*"))
    journal = sorted((p.name, p.stat().st_size) for p in (first.tmp / "journal").iterdir())
    assert segments and journal
    second = subprocess.run(first.cmd[:-4] + ["--run-dir", str(first.tmp / "run2")],
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 1, second
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"up: not starting: venue '{first.name}' (up) is in use by pid {first.proc.pid}"), lines
    assert sorted(p.name for p in shm.glob(f"venue-{first.name}-*")) == segments
    assert sorted((p.name, p.stat().st_size) for p in (first.tmp / "journal").iterdir()) \
        == journal
    assert first.proc.poll() is None
    c = first.connect()
    _trade_ok(c)
    c.terminate()


def test_a_taken_port_is_refused_before_the_engine_starts(up_venue: Any, tmp_path: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        v = up_venue()
        v.config.write_text(v.config.read_text().replace('listen = "127.0.0.1:0"',
                                                         f'listen = "127.0.0.1:{port}"'))
        out = subprocess.run(v.cmd, capture_output=True, text=True, timeout=120)
        assert out.returncode == 1, out
        assert f"up: not starting: port in use: gateway.listen 127.0.0.1:{port}" in out.stderr
        assert "engine" not in out.stdout + out.stderr
        assert not list(Path(control_path(v.name)).parent.glob(f"venue-{v.name}-*"))
        assert not (tmp_path / "journal").exists()
    finally:
        holder.close()


def test_backoff_doubles_is_capped_and_never_gives_up() -> None:
    b = Backoff(max_s=1.0)
    assert [b.next_delay(0.5) for _ in range(8)] == [0.0, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    assert b.next_delay(3600.0) == 0.0 and b.total == 9     # a long run starts afresh


@pytest.mark.slow
def test_every_process_kind_is_restarted_and_clients_are_told(up_venue: Any) -> None:
    v = up_venue(extra=["--restart-backoff-max", "0.5"]).start()
    c = v.connect()
    _trade_ok(c)
    engine = v.ready["pids"]["engine"]
    for kill in range(10):
        os.kill(engine, signal.SIGKILL)
        msg, _ = c.recv_until(lambda m: isinstance(m, Terminate), 30.0)
        assert msg.reason_code == Reason.ENG_GW_ENGINE_GONE, (kill, msg)  # type: ignore[attr-defined]
        c.close()
        engine = wait_for(lambda: _serving_engine(v.name, engine), f"engine restart {kill + 1}",
                          START_S, watch={"up": v.proc})
        c = _reconnect(v, c)
        _trade_ok(c)
    wait_for(lambda: _control_alive(v), "the control plane", START_S, watch={"up": v.proc})

    for kill in range(3):
        pid = pid_of("gateway control", str(v.tmp / "run" / RUNNING_CONFIG_NAME))
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pid_of("gateway control", str(v.tmp / "run" / RUNNING_CONFIG_NAME)) not in (None, pid)
                 and (v.tmp / "run" / "control.json").exists(), "the control plane's restart",
                 START_S, watch={"up": v.proc})
        wait_for(lambda: _control_alive(v), "its status", START_S, watch={"up": v.proc})
        _trade_ok(c)

    for kill in range(3):
        # an order resting when the gateway dies: the session's cancel-on-disconnect cancels it,
        # and the restarted gateway, which rebuilt the session's orders from its flow store and
        # the journal, tells the client so when it reconnects (none is left live unreported)
        rest_cid = next(_CL_ORD_IDS)
        rest = c.wait_report(c.sell(1, 1, "9.00", account_id=1, cl_ord_id=rest_cid), timeout_s=20.0)
        assert rest.exec_type == ExecType.NEW, c.describe(rest)
        pid = pid_of("gateway gateway --engine", v.name)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ConnectionClosed):
            while True:
                c.recv(30.0)                  # the connection is gone with its process
        seen = c.core.last_seq_in
        c.close()
        c = _reconnect(v, c)                     # the same port: the restarted gateway's
        # what was sent while we were away (EstablishmentAck's nextSeqNo says how much), then live
        missed = c.core.server_next_seq - (seen + 1)
        back = c.retransmit(seen + 1, missed, timeout_s=20.0) if missed > 0 else []
        gone = next((m for m in back if isinstance(m, ExecutionReport) and m.cl_ord_id == rest_cid
                     and m.exec_type == ExecType.CANCELED), None) \
            or c.wait_report(rest_cid, ExecType.CANCELED, timeout_s=20.0)
        assert gone.order_id == rest.order_id and gone.leaves_qty == 0, c.describe(gone)
        _trade_ok(c)

    assert v.proc.poll() is None
    log = v.log()
    assert log.count("up: engine killed by SIGKILL") == 10, log[-4000:]
    assert "(restart 10, " in log
    assert log.count("up: control killed by SIGKILL") == 3
    assert log.count("up: gateway killed by SIGKILL") == 3
    assert log.count("gateway: restored from ") == 3, log[-4000:]
    assert "stopping the venue" not in log

    # A requested stop: the client is told the venue is stopping, not "finished".
    v.proc.send_signal(signal.SIGTERM)
    msg, _ = c.recv_until(lambda m: isinstance(m, Terminate), 30.0)
    assert msg.reason_code == Reason.ENG_GW_VENUE_STOPPING, msg  # type: ignore[attr-defined]
    c.close()
    assert v.proc.wait(60) == 0


def test_a_venue_run_again_keeps_its_sessions_orders(up_venue: Any) -> None:
    """Issue #16 point 6: orders a session left resting stay its own across a stop and a new
    `up` on the same journal (the gateway's flow store beside it); a store written for other
    sessions is set aside with a message, never refused."""
    v = up_venue()
    v.config.write_text(v.config.read_text().replace(
        'key = "key-201"', 'key = "key-201"\ncancel_on_disconnect = false'))
    v.start()
    c = v.connect(201)
    cid = next(_CL_ORD_IDS)
    rest = c.wait_report(c.sell(1, 1, "9.00", account_id=3, cl_ord_id=cid), timeout_s=20.0)
    assert rest.exec_type == ExecType.NEW, c.describe(rest)
    next_seq = c.core.next_seq_out
    c.close()
    v.proc.send_signal(signal.SIGTERM)
    assert v.proc.wait(60) == 0
    v.start()                                   # the same config and journal: run again
    c = v.connect(201, next_seq_no=next_seq)
    done = c.wait_report(c.cancel(rest.order_id, 1, cl_ord_id=next(_CL_ORD_IDS)), timeout_s=20.0)
    assert done.exec_type == ExecType.CANCELED and done.order_id == rest.order_id, c.describe(done)
    c.close()
    assert "gateway: restored from " in v.log()
    v.proc.send_signal(signal.SIGTERM)
    assert v.proc.wait(60) == 0

    # The sessions change between two runs: the old store is set aside, the venue starts.
    v.config.write_text(v.config.read_text().replace("session_id = 201", "session_id = 202"))
    v.start()
    assert "was written for other [[sessions]]; set aside as gateway.state." in v.log()
    assert list((v.tmp / "journal").glob("gateway.state.2*"))


def _gone(pid: int) -> bool:
    """Exited (a zombie left for whoever adopted it counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


def test_a_sigkilled_up_takes_its_processes_with_it_and_the_venue_runs_again(up_venue: Any) -> None:
    """A SIGKILL of `up` runs none of its clean-up: its children get SIGTERM from the kernel
    (gateway/parent_death.py), stop cleanly and free the venue's ports, shared memory and lock, so
    `up` on the same config runs again and its acknowledged order is still there."""
    v = up_venue()
    v.config.write_text(v.config.read_text().replace(
        'key = "key-201"', 'key = "key-201"\ncancel_on_disconnect = false'))
    v.start()
    children = {name: int(pid) for name, pid in v.ready["pids"].items()}
    assert {"engine", "control", "gateway"} <= set(children), children
    c = v.connect(201)
    rest = c.wait_report(c.sell(1, 1, "9.00", account_id=3, cl_ord_id=next(_CL_ORD_IDS)), timeout_s=20.0)
    assert rest.exec_type == ExecType.NEW, c.describe(rest)
    next_seq = c.core.next_seq_out
    c.close()
    os.kill(v.proc.pid, signal.SIGKILL)
    v.proc.wait(30)
    wait_for(lambda: all(_gone(pid) for pid in children.values()), "every child of the killed up to exit", 60)
    v.start()                                   # the same config, ports and journal
    c = v.connect(201, next_seq_no=next_seq)
    done = c.wait_report(c.cancel(rest.order_id, 1, cl_ord_id=next(_CL_ORD_IDS)), timeout_s=20.0)
    assert done.exec_type == ExecType.CANCELED and done.order_id == rest.order_id, c.describe(done)
    c.close()


def test_an_engine_death_without_a_journal_stops_the_venue_and_says_so(up_venue: Any) -> None:
    v = up_venue(journal=False).start()
    c = v.connect()
    _trade_ok(c)
    os.kill(v.ready["pids"]["engine"], signal.SIGKILL)
    msg, _ = c.recv_until(lambda m: isinstance(m, Terminate), 30.0)
    # Whichever notices first says it: the gateway (engine gone) or `up` stopping the venue.
    assert msg.reason_code in (Reason.ENG_GW_ENGINE_GONE,  # type: ignore[attr-defined]
                               Reason.ENG_GW_VENUE_STOPPING), msg
    c.close()
    assert v.proc.wait(60) == 1
    assert ("up: engine killed by SIGKILL: the engine died and the venue has no journal to "
            "recover its state from; stopping the venue") in v.log()
    assert not list(Path(control_path(v.name)).parent.glob(f"venue-{v.name}-*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_shell_waits_for_a_venue_still_starting(up_venue: Any) -> None:
    """`python -m gateway up & python -m gateway shell -c status`: the shell, started first,
    says it waits and then answers once the venue is up; with nothing starting it gives up
    after --wait and says why (exit 3)."""
    port = _free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUE_CONTROL_")}
    env["VENUE_CONTROL_TOKEN"] = OPERATOR[1]
    shell_cmd = [sys.executable, "-m", "gateway", "shell", "--endpoint", endpoint, "--user",
                 OPERATOR[0], "--timeout", "1", "-c", "status"]
    alone = subprocess.run([*shell_cmd, "--wait", "2"], env=env, capture_output=True, text=True,
                           timeout=60)
    assert alone.returncode == 3, alone
    assert "waiting up to 2 s for the control plane" in alone.stderr
    assert "is the venue running? start it with `python -m gateway up`" in alone.stderr

    v = up_venue()
    v.config.write_text(v.config.read_text().replace('command_endpoint = "tcp://127.0.0.1:*"',
                                                     f'command_endpoint = "{endpoint}"'))
    shell = subprocess.Popen([*shell_cmd, "--wait", "60"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        v.start()
        out, err = shell.communicate(timeout=90)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert shell.returncode == 0, (out, err)
    assert "ACME" in out


def test_processes_restarted_after_an_edit_run_as_the_venue_started(up_venue: Any) -> None:
    """An instrument and a session added to the venue file of a running venue: `up` says they are
    not applied, and the control plane and the gateway SIGKILLed after the edit come back and serve
    (before, the restarted control plane sent the new instrument's limits to an engine without it
    and exited, and the restarted gateway refused its flow store for the new session: both were
    restarted for ever)."""
    v = up_venue(extra=["--restart-backoff-max", "0.5"]).start()
    c = v.connect()
    _trade_ok(c)
    v.config.write_text(v.config.read_text()
                        + '\n[[instruments]]\nid = 9\nsymbol = "NEWCO"\ntick = 1\nlot = 1\nreference_price = 500\n'
                        + '\n[[sessions]]\nsession_id = 102\nfirm_id = 1\nkey = "key-102"\n')
    wait_for(lambda: "NOT applied to the running venue" in v.log(), "up to report the edit", START_S,
             watch={"up": v.proc})
    assert "[[sessions]] 102 added, [[instruments]]" in v.log()
    running = str(v.tmp / "run" / RUNNING_CONFIG_NAME)
    control = pid_of("gateway control", running)
    assert control is not None
    os.kill(control, signal.SIGKILL)
    wait_for(lambda: pid_of("gateway control", running) not in (None, control) and _control_alive(v),
             "the restarted control plane to serve", START_S, watch={"up": v.proc})
    symbols = [i["symbol"] for i in v.control().call("status")["instruments"]]
    assert symbols == ["ACME", "BETA", "PNL"]
    gateway = pid_of("gateway gateway --engine", v.name)
    assert gateway is not None
    os.kill(gateway, signal.SIGKILL)
    c.close()
    c = _reconnect(v, c)
    _trade_ok(c)
    c.close()
    log = v.log()
    assert log.count("up: control killed by SIGKILL") == 1 and log.count("up: gateway killed by SIGKILL") == 1
    assert "control status 1" not in log and "gateway status 1" not in log, log[-4000:]


def test_a_limit_edited_between_runs_is_said_to_stay_the_journals(up_venue: Any) -> None:
    """The journal's limits win over the config's at a new `up` on the same journal (run-time
    `risk set` changes survive restarts): a max_position edited in the file between two runs is
    named as not in force, with both values, instead of being dropped silently."""
    v = up_venue().start()
    v.proc.send_signal(signal.SIGTERM)
    assert v.proc.wait(60) == 0
    assert "max_position = 1000" in v.config.read_text()
    v.config.write_text(v.config.read_text().replace("max_position = 1000", "max_position = 7"))
    v.start()
    assert "control: the journal's limits stay in force where the config now says otherwise" in v.log()
    assert "account 1 max_position ACME 1000 (config 7)" in v.log()
    shown = v.control().call("risk.show", account=1)
    assert shown["accounts"][0]["max_position"]["ACME"] == 1000
    v.proc.send_signal(signal.SIGTERM)
    assert v.proc.wait(60) == 0
