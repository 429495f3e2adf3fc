"""The ops shell's `strategy list / params / start / stop` (gateway/control/shell_commands.py ->
the control plane -> trading/strategy/manager.py): parsing, and end to end on a real venue
(`python -m gateway up`): a strategy starts in its own process under a configured account, shows
in the list, and stops with its orders cancelled; bad input is refused with a reason. The same
through ``python -m gateway shell`` for a strategy run ``--via tcp`` as an external participant
(its quotes seen on the venue, a parameter changed live with ``strategy set``, its orders
cancelled at the stop) and one following ``--other-instrument``s."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import Side
from gateway.control.client import ControlError
from gateway.control.shell_commands import UsageError, parse
from tests.control.cp_venue import CpVenue, start_venue, wait_for


@pytest.mark.parametrize("line, wire, args", [
    ("strategy", "strategy.list", {}),
    ("strategy list", "strategy.list", {}),
    ("strategy params quote", "strategy.params", {"strategy": "quote"}),
    ("strategy start quote 1 ACME size=10,interval_ms=20", "strategy.start",
     {"strategy": "quote", "account": 1, "instrument": "ACME", "params": "size=10,interval_ms=20"}),
    ("strategy start my.mod.Cls 2 ACME", "strategy.start", {"strategy": "my.mod.Cls", "account": 2, "instrument": "ACME"}),
    ("strategy stop 3", "strategy.stop", {"id": 3}),
    ("strategy pause 3", "strategy.pause", {"id": 3}),
    ("strategy resume 3", "strategy.resume", {"id": 3}),
])
def test_strategy_commands_parse(line, wire, args):
    cmd = parse(line)
    assert cmd is not None and (cmd.wire, cmd.args) == (wire, args)
    assert cmd.write == (wire in ("strategy.start", "strategy.stop", "strategy.pause", "strategy.resume"))


@pytest.mark.parametrize("line, message", [
    ("strategy start quote 1 ACME size", "params are k=v"),
    ("strategy stop x", "strategy id"),
    ("strategy start 'a b' 1 ACME", "not a strategy name"),
])
def test_strategy_commands_refuse_bad_input(line, message):
    with pytest.raises(UsageError, match=message):
        parse(line)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    yield from start_venue(Path(tmp_path_factory.mktemp("stratvenue")))


def test_strategy_start_list_stop_on_a_running_venue(venue):
    ctl = venue.control()
    assert ctl.call("strategy.params", strategy="quote")["defaults"]["size"] == 100
    started = ctl.call("strategy.start", strategy="quote", account=1, instrument="ACME", params="size=10,interval_ms=20")
    assert started["state"] == "running" and started["account"] == 1
    with pytest.raises(ControlError, match="already runs strategy"):
        ctl.call("strategy.start", strategy="noop", account=1, instrument="ACME")
    with pytest.raises(ControlError, match="unknown account"):
        ctl.call("strategy.start", strategy="quote", account=99, instrument="ACME")
    with pytest.raises(ControlError, match="has no parameter"):
        ctl.call("strategy.start", strategy="quote", account=2, instrument="ACME", params="colour=red")
    wait_for(lambda: ctl.call("strategy.list")[0]["uptime_s"] > 0.5, "the strategy running a while")
    stopped = ctl.call("strategy.stop", id=started["id"])
    assert stopped["state"] == "exited 0", stopped
    assert "TouchQuoter on instrument 1 account 1" in stopped["last_output"]
    assert ctl.call("orders", account=1) == []
    with pytest.raises(ControlError, match="no strategy 42"):
        ctl.call("strategy.stop", id=42)


# ---- --via tcp, --other-instrument, strategy set: through the real shell ------------------------

@pytest.mark.parametrize("line, message", [
    ("strategy start quote 1 ACME --via udp", "--via must be slot or tcp, got 'udp'"),
    ("strategy start quote 1 ACME --other-instrument BETA:x", "--other-instrument expects INSTR or INSTR:TICK"),
    ("strategy start quote 1 ACME --other-instrument :5", "--other-instrument expects INSTR or INSTR:TICK"),
    ("strategy start quote 1 ACME --session 101", "--session is for --via tcp"),
    ("strategy start quote 1 ACME --via tcp --session 101", "--via tcp needs --md, --md-recovery"),
    ("strategy start quote 1 ACME --via tcp --session 101 --md h:1 --md-recovery h:2", "--md expects a ZeroMQ endpoint"),
    ("strategy start quote 1 ACME --via tcp --session 101 --md tcp://h:1 --md-recovery nohost",
     "--md-recovery expects HOST:PORT"),
    ("strategy start quote 1 ACME --via", "--via needs a value"),
    ("strategy start quote 1 ACME --colour red", "unknown option '--colour'"),
    ("strategy set 1", "missing K=V"),
])
def test_strategy_start_options_refuse_bad_input(line, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(line)


def test_strategy_start_options_parse():
    cmd = parse("strategy start quote 2 ACME size=10 --via tcp --session 101 --gateway 127.0.0.1:9000 "
                "--md tcp://127.0.0.1:5 --md-recovery 127.0.0.1:6 --key-file /k")
    assert cmd is not None and cmd.args == {
        "strategy": "quote", "account": 2, "instrument": "ACME", "params": "size=10", "via": "tcp", "session": 101,
        "gateway": "127.0.0.1:9000", "md": "tcp://127.0.0.1:5", "md_recovery": "127.0.0.1:6", "key_file": "/k"}
    cmd = parse("strategy start quote 1 ACME --other-instrument BETA --other-instrument=PNL:2")
    assert cmd is not None and cmd.args["other_instruments"] == "BETA,PNL:2"
    assert parse("strategy set 4 size=20") == parse("strategy set 4 size=20")
    assert parse("strategy set 4 size=20").args == {"id": 4, "params": "size=20"}  # type: ignore[union-attr]


def _shell(venue: CpVenue, line: str) -> tuple[int, dict]:
    """One statement through ``python -m gateway shell --json``: (exit code, its JSON answer)."""
    from tests.control.test_shell_e2e import run_shell
    r = run_shell(venue, "--json", "-c", line)
    answer = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {"message": r.stderr}
    return r.returncode, answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _orders(ctl, account: int) -> list[tuple[str, int, int]]:
    return sorted((o["side"], o["price"], o["qty"]) for o in ctl.call("orders", account=account))


def test_shell_runs_a_strategy_over_tcp_changes_a_parameter_and_stops_it(venue):
    zmq_port, recovery_port = _free_port(), _free_port()
    md = subprocess.Popen([sys.executable, "-m", "gateway", "md", "publish", "--engine", venue.ready["venue"],
                           "--no-udp", "--zmq", f"tcp://127.0.0.1:{zmq_port}", "--recovery-port", str(recovery_port),
                           "--duration-s", "300", "--heartbeat-ms", "100"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    market = venue.connect(201)           # another firm makes the touch: 9,990 / 10,010
    try:
        ctl = venue.control()
        market.new_order(1, Side.BUY, 100, 3, price=9_990)
        market.new_order(1, Side.SELL, 100, 3, price=10_010)
        market.recv_n(2, timeout_s=20)
        tcp = (f"--via tcp --session 101 --gateway {venue.gateway_host}:{venue.gateway_port} "
               f"--md tcp://127.0.0.1:{zmq_port} --md-recovery 127.0.0.1:{recovery_port}")
        wait_for(lambda: _listening(recovery_port), "the feed's recovery server", 30)
        rc, answer = _shell(venue, f"strategy start quote 2 ACME size=10,interval_ms=20 {tcp} --other-instrument BETA")
        assert rc == 0 and answer["ok"], answer
        sid = answer["data"]["id"]
        row = next(r for r in ctl.call("strategy.list") if r["id"] == sid)
        assert (row["via"], row["session"], row["account"], row["state"], row["other_instruments"]) == \
            ("tcp", 101, 2, "running", ["2:5"]), row
        wait_for(lambda: _orders(ctl, 2) == [("buy", 9_990, 10), ("sell", 10_010, 10)], "its quotes at the touch", 30)

        rc, answer = _shell(venue, f"strategy set {sid} size=20")
        assert rc == 0 and answer["ok"], answer
        wait_for(lambda: _orders(ctl, 2) == [("buy", 9_990, 20), ("sell", 10_010, 20)], "its quotes at size 20", 30)
        assert ctl.call("strategy.params", strategy=str(sid))["params"]["size"] == "20"
        wait_for(lambda: "params applied: size=20" in next(
            r for r in ctl.call("strategy.list") if r["id"] == sid)["last_output"], "the change in its log", 10)
        # a parameter it reads only at start, an unknown one, a bad value: refused, nothing sent
        for line, why in ((f"strategy set {sid} interval_ms=5", "interval_ms cannot change while it runs"),
                          (f"strategy set {sid} colour=red", "has no parameter 'colour'"),
                          (f"strategy set {sid} size=big", "'big' is not a whole number"),
                          ("strategy set 99 size=5", "no strategy 99")):
            rc, answer = _shell(venue, line)
            assert rc != 0 and not answer["ok"] and why in answer["message"], (line, answer)

        # paused: its quotes go and it does not quote, even when the touch moves; resumed: it quotes
        # the touch of now
        rc, answer = _shell(venue, f"strategy pause {sid}")
        assert rc == 0 and answer["data"]["state"] == "paused", answer
        wait_for(lambda: _orders(ctl, 2) == [], "its quotes cancelled", 30)
        wait_for(lambda: "strategy: paused" in next(
            r for r in ctl.call("strategy.list") if r["id"] == sid)["last_output"], "the pause in its log", 10)
        market.new_order(1, Side.BUY, 100, 3, price=9_995)
        market.recv_n(1, timeout_s=20)
        quiet_until = time.monotonic() + 1.0          # (a bound that can only pass wrongly, never fail wrongly)
        while time.monotonic() < quiet_until:
            assert _orders(ctl, 2) == [], "a paused strategy quoted"
            time.sleep(0.05)
        rc, answer = _shell(venue, f"strategy resume {sid}")
        assert rc == 0 and answer["data"]["state"] == "running", answer
        wait_for(lambda: _orders(ctl, 2) == [("buy", 9_995, 20), ("sell", 10_010, 20)], "its quotes back", 30)

        rc, answer = _shell(venue, f"strategy stop {sid}")
        assert rc == 0 and answer["data"]["state"] == "exited 0", answer
        # its summary's last line: the instrument it followed besides ACME (BETA, id 2)
        assert answer["data"]["last_output"].startswith("  instrument 2: position 0"), answer["data"]
        assert _orders(ctl, 2) == []
        for line in (f"strategy set {sid} size=30", f"strategy pause {sid}", f"strategy resume {sid}"):
            rc, answer = _shell(venue, line)
            assert rc != 0 and "is not running" in answer["message"], (line, answer)
    finally:
        market.terminate()
        md.terminate()
        md.wait(30)


def test_shell_starts_a_strategy_following_other_instruments(venue):
    ctl = venue.control()
    rc, answer = _shell(venue, "strategy start quote 1 ACME interval_ms=20 --other-instrument BETA "
                               "--other-instrument PNL:2")
    assert rc == 0 and answer["ok"], answer
    sid = answer["data"]["id"]
    row = next(r for r in ctl.call("strategy.list") if r["id"] == sid)
    assert (row["via"], row["other_instruments"]) == ("slot", ["2:5", "3:2"]), row    # BETA's tick from the config
    # a live parameter changes the same way for a strategy on its producer slot
    rc, answer = _shell(venue, f"strategy set {sid} max_position=300")
    assert rc == 0 and answer["ok"], answer
    wait_for(lambda: "params applied: max_position=300" in next(
        r for r in ctl.call("strategy.list") if r["id"] == sid)["last_output"], "the change in its log", 20)
    for verb, state in (("pause", "paused"), ("resume", "resumed")):
        rc, answer = _shell(venue, f"strategy {verb} {sid}")
        assert rc == 0 and answer["ok"], answer
        wait_for(lambda state=state: f"strategy: {state}" in next(
            r for r in ctl.call("strategy.list") if r["id"] == sid)["last_output"], f"{state} in its log", 20)
    stopped = ctl.call("strategy.stop", id=sid)
    assert stopped["state"] == "exited 0", stopped
    # the summary's last line is the last followed instrument's (live.py followed both)
    assert stopped["last_output"].startswith("  instrument 3: position 0") and "total P&L" in stopped["last_output"]


def test_shell_retunes_a_running_market_maker(venue):
    """Issue #20's live operation: the market maker's quoting parameters change from the shell
    while it runs (its quotes move to the new size), and a value it could not apply is refused
    before it reaches the process."""
    market = venue.connect(201)           # another firm makes the touch the maker quotes around
    ctl = venue.control()
    try:
        rc, answer = _shell(venue, "strategy start mm 1 ACME gamma=0.1,sigma=0.05,A=1,k=100,lot=1,quote_size=10,"
                                   "max_inventory=100,stale_after_s=3600,timer_ms=50")
        assert rc == 0 and answer["ok"], answer
        sid = answer["data"]["id"]
        market.new_order(1, Side.BUY, 100, 3, price=9_900)
        market.new_order(1, Side.SELL, 100, 3, price=10_100)
        market.recv_n(2, timeout_s=20)

        def quoting(size: int) -> bool:
            """Its two quotes of `size`; else one more lot joins each side of the touch, book
            changes it sees once attached (without a journal, a strategy started mid-session knows
            the book from the events after it attached)."""
            if sorted(q for _, _, q in _orders(ctl, 1)) == [size, size]:
                return True
            if time.monotonic() - poked[0] > 0.5:
                poked[0] = time.monotonic()
                market.new_order(1, Side.BUY, 1, 3, price=9_900)
                market.new_order(1, Side.SELL, 1, 3, price=10_100)
                market.recv_n(2, timeout_s=20)
            return False
        poked = [0.0]
        wait_for(lambda: quoting(10), "its two quotes of 10", 30)
        rc, answer = _shell(venue, f"strategy set {sid} quote_size=20,gamma=0.2")
        assert rc == 0 and answer["ok"], answer
        wait_for(lambda: quoting(20), "its two quotes of 20", 30)
        for line, why in ((f"strategy set {sid} gamma=-1", "gamma=-1.0: must be > 0"),
                          (f"strategy set {sid} lot=5", "lot cannot change while it runs")):
            rc, answer = _shell(venue, line)
            assert rc != 0 and not answer["ok"] and why in answer["message"], (line, answer)
        stopped = ctl.call("strategy.stop", id=sid)
        assert stopped["state"] == "exited 0", stopped
        assert _orders(ctl, 1) == []
    finally:
        market.terminate()


@pytest.mark.parametrize("args, message", [
    ({"via": "udp"}, "via must be slot or tcp"),
    ({"other_instruments": "ZZZ"}, "unknown instrument 'ZZZ'"),
    ({"other_instruments": "ACME"}, "already followed"),
    ({"other_instruments": "BETA,2"}, "already followed"),
    ({"other_instruments": "BETA:0"}, "expected INSTR or INSTR:TICK"),
    ({"other_instruments": "BETA,"}, "expected INSTR or INSTR:TICK"),
    ({"other_instruments": 5}, "must be INSTR[:TICK]"),
    ({"session": 101}, "session are for via tcp"),
    ({"via": "tcp", "session": 7}, "via tcp needs session, one of the venue's sessions (101, 201)"),
    ({"via": "tcp", "session": 201}, "account 2 is not firm 2's"),
    ({"via": "tcp", "session": 101, "key_file": "/no/such/key"}, "no such file"),
    ({"via": "tcp", "session": 101, "gateway": "127.0.0.1:1"}, "via tcp needs md"),
    ({"via": "tcp", "session": 101, "gateway": "nohost", "md": "tcp://127.0.0.1:1", "md_recovery": "127.0.0.1:2"},
     "gateway must be HOST:PORT"),
    ({"via": "tcp", "session": 101, "md": "tcp://127.0.0.1:1", "md_recovery": "127.0.0.1:2"},
     "give gateway HOST:PORT"),
])
def test_strategy_start_refuses_bad_options_at_the_control_plane(venue, args, message):
    """What a client other than the shell may send: refused by the control plane, nothing started,
    the venue unharmed."""
    ctl = venue.control()
    before = len(ctl.call("strategy.list"))
    with pytest.raises(ControlError, match=re.escape(message)):
        ctl.call("strategy.start", strategy="quote", account=2, instrument="ACME", **args)
    assert len(ctl.call("strategy.list")) == before
    assert ctl.call("status")["engine"]["alive"]


def test_via_tcp_needs_a_key_file_for_a_session_kept_as_a_hash(tmp_path: Path) -> None:
    """A session whose config holds only its key's hash: the control plane cannot hand the key
    over, so strategy.start names key_file; with one, the key stays out of the command line."""
    import msgspec

    from gateway.control.config import load_config
    from gateway.control.service import CommandError
    from gateway.control.strategy_commands import StrategyCommands
    from gateway.security.session_keys import hash_session_key
    from tests.control.cp_venue import write_config

    cfg = load_config(write_config(tmp_path, "keys"))
    hashed = [msgspec.structs.replace(s, key="", key_hash=hash_session_key("session-key-101", 101)) if s.session_id == 101
              else s for s in cfg.sessions]
    commands = StrategyCommands()
    commands.cfg = msgspec.structs.replace(cfg, sessions=hashed,
                                           gateway=msgspec.structs.replace(cfg.gateway, listen="127.0.0.1:9000"))
    feed = {"md": "tcp://127.0.0.1:1", "md_recovery": "127.0.0.1:2"}
    with pytest.raises(CommandError, match="keeps only its key's hash in the config: give key_file"):
        commands._tcp_access(1, session=101, **feed)
    key_file = tmp_path / "key"
    key_file.write_text("session-key-101\n")
    access = commands._tcp_access(1, session=101, key_file=str(key_file), **feed)
    assert (access.gateway, access.session, access.firm, access.key, access.key_file) == \
        ("127.0.0.1:9000", 101, 1, None, str(key_file))       # the gateway: [gateway] listen, a fixed port
    assert "session-key-101" not in " ".join(access.argv()) and "--key-file" in access.argv()
    plain = commands._tcp_access(3, session=201, **feed)       # a plain key in the config: handed over
    assert (plain.firm, plain.key, plain.key_file) == (2, "key-201", None) and "key-201" not in " ".join(plain.argv())
