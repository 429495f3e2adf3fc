"""The ops shell (``python -m gateway shell``) against a real venue (``python -m gateway up``:
engine, control plane and gateway as three processes; tests/control/cp_venue.py), driven the way a
person drives it: typing into a pseudo-terminal (pexpect) and reading the screen, Tab and arrow keys
included. Effects are checked through the control-plane API (ControlClient) and the audit log, not
through the shell's own output. Non-interactive runs (-c, -f, stdin, --json) are checked for their
exit codes and for what they send.

One venue serves the module; tests that change it use their own instrument and put it back.
Nothing sleeps to wait for an effect: every wait is on output or on a condition.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import pexpect
import pytest

from gateway.client import Side
from gateway.launcher import wait_for
from tests.control.cp_venue import OPERATOR, VIEWER, CpVenue, start_venue

REPO = Path(__file__).resolve().parents[2]

# --- driving a terminal ------------------------------------------------------------------------

# CSI sequences (ESC [ ... final byte), OSC (ESC ] ... BEL or ST), two-byte escapes (ESC x).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# The space after '>' is drawn as a cursor move, so it is not part of the pattern.
PROMPT = re.compile(r"venue \S+>")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "")


class ShellPty:
    """One interactive shell in a pseudo-terminal. prompt_toolkit draws with escape sequences
    (cursor moves, erasing, styles), so each wait matches a regular expression against the output
    with those removed, from where the previous wait stopped."""

    def __init__(self, args: Sequence[str], token: str, history: Path, timeout_s: float = 30.0) -> None:
        env = {**os.environ, "VENUE_CONTROL_TOKEN": token, "TERM": "xterm", "NO_COLOR": "1",
               # no cursor-position request: this terminal would never answer it
               "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.timeout_s = timeout_s
        self.child = pexpect.spawn(sys.executable, ["-m", "gateway", "shell", "--history", str(history),
                                                    *args],
                                   env=env, cwd=str(REPO), encoding="utf-8", codec_errors="replace",
                                   dimensions=(50, 160), timeout=timeout_s)
        self.raw = ""
        self.pos = 0

    @property
    def screen(self) -> str:
        return strip_ansi(self.raw)

    def _read(self) -> None:
        try:
            self.raw += self.child.read_nonblocking(65536, timeout=0.2)
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass

    def expect(self, pattern: str | re.Pattern[str]) -> re.Match[str]:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + self.timeout_s
        while True:
            m = rx.search(self.screen, self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.monotonic() > deadline or not self.child.isalive():
                self._read()
                m = rx.search(self.screen, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise AssertionError(f"no {rx.pattern!r} in the shell's output since the last "
                                     f"match:\n{self.screen[self.pos:]}")
            self._read()

    def prompt(self) -> None:
        self.expect(PROMPT)

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def run(self, line: str, until: str) -> re.Match[str]:
        """Types a line and Enter, waits for `until` in the output, then for the next prompt.
        (A prompt alone is no sign that the command ran: prompt_toolkit redraws the accepted
        line, prompt included, before the command runs.)"""
        self.child.send(line + "\r")
        m = self.expect(until)
        self.prompt()
        return m

    def since(self, start: int) -> str:
        return self.screen[start:self.pos]

    def wait_exit(self) -> int:
        deadline = time.monotonic() + self.timeout_s
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the shell did not exit:\n{self.screen[self.pos:]}")
            self._read()
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    yield from start_venue(Path(tmp_path_factory.mktemp("shvenue")))


@pytest.fixture
def shell(venue: CpVenue, tmp_path: Path) -> Iterator[Any]:
    """Opens interactive shells (operator unless told otherwise) and closes them after the test."""
    opened: list[ShellPty] = []

    def open_shell(user: tuple[str, str] = OPERATOR, history: Path | None = None) -> ShellPty:
        sh = ShellPty(["--endpoint", venue.ready["command"], "--user", user[0]], user[1],
                      history or tmp_path / "history")
        opened.append(sh)
        sh.expect(r"venue control shell")
        sh.prompt()
        return sh

    yield open_shell
    for sh in opened:
        sh.close()


def run_shell(venue: CpVenue, *args: str, user: tuple[str, str] = OPERATOR, token: str | None = None,
              stdin: str | None = None, endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    """A non-interactive run (no terminal: what automation sees)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUE_CONTROL_")}
    if token is not None or user is not None:
        env["VENUE_CONTROL_TOKEN"] = token if token is not None else user[1]
    cmd = [sys.executable, "-m", "gateway", "shell", "--endpoint", endpoint or venue.ready["command"],
           "--user", user[0], *args]
    return subprocess.run(cmd, env=env, cwd=str(REPO), input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=60)


def phase(venue: CpVenue, symbol: str) -> str:
    with venue.control() as ctl:
        return venue.phase(ctl, symbol)


def untouched(venue: CpVenue) -> tuple[int, int, dict[str, str]]:
    """What a command that the shell refused to send must leave as it was: the engine's last
    sequence number, the audit log, and every instrument's phase."""
    with venue.control() as ctl:
        st = ctl.call("status")
    return (int(st["engine"]["seq"]), len(venue.audit()),
            {i["symbol"]: i["phase"] for i in st["instruments"]})


def wait_continuous(venue: CpVenue, *symbols: str) -> None:
    for s in symbols:
        wait_for(lambda: phase(venue, s) == "continuous", f"{s} continuous")


# --- interactive ------------------------------------------------------------------------------

def test_status_and_whoami(venue: CpVenue, shell: Any) -> None:
    wait_continuous(venue, "ACME", "BETA", "PNL")
    sh = shell()
    sh.run("whoami", r"ops \(operator\)")
    start = sh.pos
    sh.run("status", r"PNL\s+continuous")
    out = sh.since(start)
    assert re.search(r"engine\s+yes", out)
    for sym in ("ACME", "BETA", "PNL"):
        assert re.search(rf"\b{sym}\s+continuous", out), out
    sh.run("help halt", r"halt INSTR\|all\s+halt an instrument, or all")
    sh.run("help", r"risk set account ACCOUNT LIMIT VALUE \[INSTR\]")
    sh.type("\x04")                              # Ctrl-D leaves, as in bash
    assert sh.wait_exit() == 0


def test_halt_and_resume_through_the_shell_are_seen_by_the_api(venue: CpVenue, shell: Any) -> None:
    wait_continuous(venue, "BETA")
    audit_before = len(venue.audit())
    sh = shell()
    sh.run("halt BETA", r"halt: ok")
    assert phase(venue, "BETA") == "halted"
    sh.run("status", r"BETA\s+halted")
    sh.run("resume BETA 0", r"resume: ok")
    assert phase(venue, "BETA") == "continuous"
    # each operator action is in the audit log, with who did it
    assert [(e["user"], e["command"], e["args"]["instrument"], e["outcome"])
            for e in venue.audit()[audit_before:]] == \
        [("ops", "halt", "BETA", "accepted"), ("ops", "resume", "BETA", "accepted")]


def test_bad_commands_and_arguments_get_one_clear_line_and_send_nothing(venue: CpVenue, shell: Any) -> None:
    wait_continuous(venue, "ACME", "BETA", "PNL")
    sh = shell()
    before = untouched(venue)
    sh.run("hlt ACME", r"unknown command 'hlt' \(did you mean halt\?\); 'help' lists commands")
    sh.run("halt XYZ", r"halt: unknown instrument 'XYZ' \(known: ACME, BETA, PNL, all\)")
    sh.run("halt", r"halt: missing INSTR\|all \(usage: halt INSTR\|all\)")
    sh.run("halt ACME BETA", r"halt: too many arguments")
    sh.run("phase ACME open", r"phase: unknown phase 'open' \(phases: closed, pre_open, continuous, halted\)")
    sh.run("kill 1 maybe", r"kill: expected on or off, got 'maybe'")
    sh.run("kill 99 on", r"kill: unknown account 99 \(known: 1, 2, 3, 4\)")
    sh.run("book ACME lots", r"book: levels must be a whole number, got 'lots'")
    sh.run("risk set account 1 max_position 1.5", r"max_position must be a whole number, got '1.5'")
    sh.run("sessions disconnect 7", r"sessions disconnect: unknown session 7 \(known: 101, 201\)")
    # a bad statement stops the rest of its line: the halt after it is not sent either
    sh.run("halt XYZ; halt ACME", r"halt: unknown instrument 'XYZ'")
    assert untouched(venue) == before
    sh.type("quit\r")
    assert sh.wait_exit() == 0


def test_tab_completes_commands_symbols_accounts_and_phases(venue: CpVenue, shell: Any, tmp_path: Path) -> None:
    wait_continuous(venue, "PNL")
    with venue.connect(101) as c:
        c.new_order(instrument_id=3, side=Side.BUY, order_qty=7, account_id=1, price=990)
        wait_for(lambda: _book_has(venue, "PNL", 990), "the order in PNL's book")
        sh = shell()
        # a unique prefix completes in place: "bo<Tab> P<Tab>" becomes "book PNL"
        sh.type("bo\t")
        sh.expect(r"book")
        sh.type(" P\t")
        sh.expect(r"PNL")
        sh.type("\r")
        sh.expect(r"book PNL \(continuous\)")
        m = sh.expect(r"\n\s*1\s+7\s+0\.099")     # 1 order, 7 lots at 990 units = 0.0990
        sh.prompt()
        assert m
        # several candidates: Tab lists them
        sh.type("phase PNL c\t")
        sh.expect(r"closed\s+continuous")
        sh.type("\x03")                           # Ctrl-C drops the line, as in bash
        sh.prompt()
        sh.type("kill \t")
        sh.expect(r"1\s+2\s+3\s+4")
        sh.type("\x03")
        sh.prompt()
        sh.type("sessions disconnect \t")
        sh.expect(r"101\s+201")
        sh.type("\x03")
        sh.prompt()
        # nothing was sent by the abandoned lines
        assert phase(venue, "PNL") == "continuous"
        # history: the arrow key brings back the last command
        sh.type("\x1b[A")
        sh.expect(r"book PNL")
        sh.type("\r")
        sh.expect(r"book PNL \(continuous\)")
        sh.prompt()
        sh.type("quit\r")
        assert sh.wait_exit() == 0
        assert "book PNL" in (tmp_path / "history").read_text()
        c.mass_cancel(instrument_id=3)


def _book_has(venue: CpVenue, symbol: str, price: int) -> bool:
    with venue.control() as ctl:
        book = ctl.call("book", instrument=symbol, levels=5)
    return any(lv[0] == price for lv in book["bids"] + book["asks"])


def test_live_depth_view_refreshes_until_a_key(venue: CpVenue, shell: Any) -> None:
    wait_continuous(venue, "PNL")
    sh = shell()
    sh.type("depth PNL 3\r")
    sh.expect(r"book PNL")
    with venue.connect(201) as c:
        # an order placed while the view is open shows up in it: the view refreshes
        c.new_order(instrument_id=3, side=Side.SELL, order_qty=11, account_id=3, price=1013)
        sh.expect(r"0\.1013\s+11\s+1")
        sh.expect(r"any key or Ctrl-C stops")
        sh.type("q")                               # any key: back to the prompt
        sh.prompt()
        sh.run("whoami", r"ops \(operator\)")     # and the key did not leak into the line
        sh.type("depth PNL\r")
        sh.expect(r"any key or Ctrl-C stops")
        sh.type("\x03")                            # Ctrl-C stops it too, and not the shell
        sh.prompt()
        sh.run("whoami", r"ops \(operator\)")
        c.mass_cancel(instrument_id=3)


def test_a_viewer_reads_but_is_refused_every_write(venue: CpVenue, shell: Any) -> None:
    wait_continuous(venue, "ACME")
    audit_before = len(venue.audit())
    sh = shell(VIEWER)
    sh.run("whoami", r"watch \(viewer\)")
    sh.run("status", r"ACME\s+continuous")
    sh.run("halt ACME", r"halt: refused \(forbidden\)")
    sh.run("kill 1 on", r"kill: refused \(forbidden\)")
    assert phase(venue, "ACME") == "continuous"
    with venue.control() as ctl:
        assert ctl.call("status")["kill_switches"] == []
    refused = [e for e in venue.audit()[audit_before:] if e["user"] == "watch"]
    assert [e["command"] for e in refused] == ["halt", "killswitch"]


# --- non-interactive ---------------------------------------------------------------------------

def test_dash_c_runs_statements_and_exits_0(venue: CpVenue) -> None:
    r = run_shell(venue, "-c", "status; whoami", "-c", "book ACME 2")
    assert r.returncode == 0, r.stderr
    assert re.search(r"ACME\s+continuous", r.stdout)
    assert "ops (operator)" in r.stdout and "book ACME" in r.stdout
    assert r.stderr == ""


def test_dash_c_halt_and_resume_exit_0_and_change_the_venue(venue: CpVenue) -> None:
    wait_continuous(venue, "BETA")
    assert run_shell(venue, "-c", "halt BETA").returncode == 0
    assert phase(venue, "BETA") == "halted"
    assert run_shell(venue, "-c", "resume BETA 0").returncode == 0
    assert phase(venue, "BETA") == "continuous"


def test_a_usage_error_anywhere_exits_2_and_sends_nothing(venue: CpVenue, tmp_path: Path) -> None:
    wait_continuous(venue, "ACME")
    before = untouched(venue)
    r = run_shell(venue, "-c", "halt ACME; halt XYZ")
    assert r.returncode == 2
    assert r.stderr.strip() == "-c:1: halt: unknown instrument 'XYZ' (known: ACME, BETA, PNL, all)"
    assert r.stdout == ""
    r = run_shell(venue, "-c", "status", "-c", "hlt ACME")
    assert r.returncode == 2 and r.stdout == ""
    assert "-c #2:1: unknown command 'hlt'" in r.stderr
    script = tmp_path / "ops.vsh"
    script.write_text("# morning checks\nstatus\nhalt ACME   # stop it\nphase ACME opening\n")
    r = run_shell(venue, "-f", str(script))
    assert r.returncode == 2 and r.stdout == ""
    assert f"{script}:4: phase: unknown phase 'opening'" in r.stderr
    assert run_shell(venue, "-f", str(tmp_path / "missing.vsh")).returncode == 2
    assert run_shell(venue, "--bogus-option").returncode == 2
    assert untouched(venue) == before


def test_a_script_runs_in_order_with_comments(venue: CpVenue, tmp_path: Path) -> None:
    wait_continuous(venue, "BETA")
    script = tmp_path / "halt-and-back.vsh"
    script.write_text("# halt BETA and bring it back with an auction\n"
                      "halt BETA\n\nstatus   # BETA shows halted here\nresume BETA 0; whoami\n")
    r = run_shell(venue, "--script", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stdout.index("halt: ok") < r.stdout.index("resume: ok")
    assert re.search(r"BETA\s+halted", r.stdout)
    assert phase(venue, "BETA") == "continuous"
    # the same script from a pipe
    r = run_shell(venue, stdin="whoami\n# comment\nstatus\n")
    assert r.returncode == 0 and "ops (operator)" in r.stdout


def test_a_refused_command_exits_1_and_stops_unless_keep_going(venue: CpVenue) -> None:
    wait_continuous(venue, "ACME")
    # resume of a continuous instrument: well-formed, refused by the venue
    r = run_shell(venue, "-c", "resume ACME; whoami")
    assert r.returncode == 1
    assert re.match(r"resume: failed \(bad_request\): ACME is continuous", r.stderr)
    assert "ops (operator)" not in r.stdout
    r = run_shell(venue, "--keep-going", "-c", "resume ACME; whoami")
    assert r.returncode == 1 and "ops (operator)" in r.stdout
    r = run_shell(venue, "-c", "halt ACME", user=VIEWER)
    assert r.returncode == 1 and "halt: refused (forbidden)" in r.stderr
    assert phase(venue, "ACME") == "continuous"


def test_json_output_is_one_object_per_statement(venue: CpVenue) -> None:
    r = run_shell(venue, "--json", "-c", "whoami; book ACME 1; resume ACME")
    assert r.returncode == 1
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["command"], x["ok"], x["code"]) for x in lines] == \
        [("whoami", True, "ok"), ("book", True, "ok"), ("resume", False, "bad_request")]
    assert lines[0]["data"] == {"user": "ops", "role": "operator"}
    assert set(lines[1]["data"]) >= {"bids", "asks"}
    r = run_shell(venue, "--json", "-c", "hlt")
    assert r.returncode == 2 and json.loads(r.stdout)["code"] == "usage"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_or_bad_credentials_exit_3_and_missing_token_exits_2(venue: CpVenue, tmp_path: Path) -> None:
    r = run_shell(venue, "--timeout", "0.5", "-c", "status",
                  endpoint=f"tcp://127.0.0.1:{_free_port()}")
    assert r.returncode == 3 and "cannot reach the control plane" in r.stderr
    r = run_shell(venue, "-c", "status", token="not-the-token")
    assert r.returncode == 3 and "refused user 'ops'" in r.stderr
    r = run_shell(venue, "-c", "status", user=("nobody", "operator-token-1"))
    assert r.returncode == 3
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUE_CONTROL_")}
    r = subprocess.run([sys.executable, "-m", "gateway", "shell", "--endpoint", venue.ready["command"],
                        "-c", "status"], env=env, cwd=str(REPO), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "no token" in r.stderr
    token_file = tmp_path / "token"
    token_file.write_text(OPERATOR[1] + "\n")
    token_file.chmod(0o600)
    r = subprocess.run([sys.executable, "-m", "gateway", "shell", "--endpoint", venue.ready["command"],
                        "--token-file", str(token_file), "-c", "whoami"], env=env, cwd=str(REPO),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ops (operator)" in r.stdout and r.stderr == ""


def test_the_live_view_needs_a_terminal(venue: CpVenue) -> None:
    r = run_shell(venue, "-c", "depth ACME")
    assert r.returncode == 2 and "depth: the live view needs a terminal" in r.stderr
