"""Every bad command-line argument of the venue's own verbs exits 2 with one line on stderr
naming the problem: no usage block, no traceback (issue #17; `shell --endpoint foo:bar` used to
print a ZeroMQ traceback and exit 1). Each case runs the real entry point, ``python -m gateway``."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CASES = [
    (["shell", "--endpoint", "foo:bar", "-c", "status"], "--endpoint 'foo:bar': use tcp://HOST:PORT"),
    (["shell", "--endpoint", "tcp://127.0.0.1:notaport", "-c", "status"], "use tcp://HOST:PORT"),
    (["shell", "--wait", "-1", "-c", "status"], "--wait must be 0..3600 seconds"),
    (["shell", "--timeout", "0", "-c", "status"], "--timeout and --refresh must be > 0"),
    (["shell", "--bogus"], "unrecognized arguments: --bogus"),
    (["up", "--restart-backoff-max", "0"], "must be in (0, 3600] seconds, got 0"),
    (["up", "--restart-backoff-max", "soon"], "not a number of seconds: 'soon'"),
    (["up", "--config", "/nonexistent/venue.toml"], "cannot read (No such file or directory)"),
    (["up", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["journal", "verify"], "the following arguments are required: --dir"),
    (["journal", "verify", "--dir", "/nonexistent/journal"], "is not a directory"),
    (["journal", "rewind"], "invalid choice: 'rewind'"),
    (["engine", "--name", "bad name"], "bad segment name 'bad name'"),
    (["engine", "--name", "x", "--producers", "99"], "--producers must be 1..16, got 99"),
    (["sip"], "the following arguments are required: --config"),
    (["sip", "--config", "/nonexistent/multi.toml"], "cannot read (No such file or directory)"),
    (["delay-line", "--listen", "127.0.0.1:0", "--target", "x", "--avg-us", "1", "--p99-us", "2"],
     "'x': expected HOST:PORT"),
    (["no-such-verb"], "unknown verb 'no-such-verb'"),
]


@pytest.mark.parametrize("argv,message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_bad_argument_exits_2_with_one_line(argv: list[str], message: str) -> None:
    env = dict(os.environ, VENUE_CONTROL_TOKEN="some-token")
    run = subprocess.run([sys.executable, "-m", "gateway", *argv], capture_output=True, text=True,
                         timeout=60, env=env)
    assert run.returncode == 2, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
