"""Every bad command-line argument of the venue's own verbs exits 2 with one line on stderr
naming the problem: no usage block, no traceback (issue #17; `shell --endpoint foo:bar` used to
print a ZeroMQ traceback and exit 1). Each case runs the real entry point, ``python -m gateway``."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]       # relative paths below (shipped configs) are from here

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
    # qa4: each of these was a traceback, or accepted
    (["demo", "--orders", "0"], "--orders must be 1..1,000,000, got 0"),          # IndexError at the end
    (["demo", "--orders", "99999999"], "--orders must be 1..1,000,000, got 99999999"),
    (["keys", "tls", "--dir", "/nonexistent/k", "--name", "c", "--days", "99999999", "ca"],
     "days must be 1..36500"),                                                      # OverflowError
    (["keys", "tls", "--dir", "/nonexistent/k", "--name", "c", "--start-days-ago", "99999999", "ca"],
     "start_days_ago 0..36500"),
    (["engine", "--name", "x", "--max-orders", "99999999999999"], "must be at most 4294967295"),  # OverflowError
    (["engine", "--name", "x", "--heartbeat-us", "99999999999999999999"], "must be 1..10000000"),   # OverflowError
    (["gateway", "--engine", "bad name", "--listen", "127.0.0.1:0", "--config", "/nonexistent.json"],
     "--engine: bad segment name 'bad name'"),                                   # ValueError traceback
    (["engine", "--name", "x", "--sleep-us", "99999999999999999999"], "must be 1..1000000"),   # slept for ages
    (["engine", "--name", "x", "--instruments", "1:1:99999999999999999999"], "must be below 2^63"),
    (["md", "publish", "--demo", "--no-udp", "--duration-s", "nan"], "--duration-s must be a finite number > 0"),
    (["md", "publish", "--demo", "--no-udp", "--depth-levels", "0"], "depth_levels 0: must be 1..25"),
    (["md", "publish", "--demo", "--no-udp", "--drop-fraction", "2"], "drop_fraction 2.0: must be in [0, 1)"),
    (["md", "publish", "--demo", "--no-udp", "--recovery-port", "99999"], "--recovery-port must be 0..65535"),
    (["md", "publish", "--demo", "--no-udp", "--stats-file", "/tmp/x"], "--stats-file is for --engine/--log"),
    (["md", "publish", "--demo", "--no-udp", "--zmq-curve-secret", "/x"], "give --zmq too"),
    (["md", "publish", "--log", "/nonexistent", "--heartbeat-ms", "0"], "--heartbeat-ms must be a finite number > 0"),
    (["md", "ladder", "--udp", "127.0.0.1:31999", "--refresh-s", "0"], "--refresh-s must be a finite number (0, 60]"),
    (["md", "ladder", "--udp", "127.0.0.1:31999", "--recovery", "garbage"], "expected HOST:PORT"),
    (["md", "ladder", "--udp", "127.0.0.1:31999", "--levels", "0"], "--levels must be 1..1000, got 0"),
    (["sip", "--config", "gateway/venues/multi_venue.toml", "--duration-s", "nan"], "--duration-s must be > 0"),
    (["sip", "--config", "gateway/venues/multi_venue.toml", "--duration-s", "-1"], "--duration-s must be > 0"),
    (["up", "--dashboard", "127.0.0.1:0", "--no-dashboard"], "contradict each other"),   # started the venue
    (["shell", "--timeout", "nan", "-c", "status"], "--timeout and --refresh must be > 0"),   # ValueError
    (["shell", "--timeout", "inf", "-c", "status"], "--timeout and --refresh must be > 0"),   # OverflowError
    # /dev/zero as a config, token or script: each was read until memory ran out (MemoryError at best)
    (["up", "--config", "/dev/zero"], "/dev/zero: not a regular file"),
    (["sip", "--config", "/dev/zero"], "/dev/zero: not a regular file"),
    (["keys", "hash-token", "--token-file", "/dev/zero"], "/dev/zero: not a regular file"),
    (["shell", "--token-file", "/dev/zero", "-c", "status"], "/dev/zero: not a regular file"),
    (["shell", "-f", "/dev/zero", "--wait", "0"], "script /dev/zero: not a regular file"),
    (["audit", "verify", "/dev/zero"], "/dev/zero: not a regular file"),
    (["dashboard", "--deployment", "/dev/zero"], "/dev/zero: not a regular file"),
    (["dashboard", "--session-key-file", "/dev/zero"], "/dev/zero: not a regular file"),
    # a negative seed: numpy's ValueError 'expected non-negative integer' once the run had started
    (["demo", "--seed", "-1", "--orders", "5"], "argument --seed: must be >= 0, got -1"),
    (["md", "publish", "--demo", "--no-udp", "--seed", "-1"], "argument --seed: must be >= 0, got -1"),
    (["delay-line", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--avg-us", "1", "--p99-us", "2",
      "--seed", "-1"], "argument --seed: must be >= 0, got -1"),
    (["dropcopy", "--journal", "/tmp", "--out", "/nonexistent/x", "--poll-ms", "-1"],
     "--poll-ms must be 0..60000, got -1.0"),                                       # sleep(-1) mid-run
    (["dropcopy", "--journal", "/tmp", "--out", "/nonexistent/x", "--poll-ms", "nan"],
     "--poll-ms must be 0..60000, got nan"),
]

# Cases that need a file: BIN (binary bytes), FILE (a text file that is not what is expected).
FILE_CASES = [
    (["keys", "hash-token", "--token-file", "BIN"], "not UTF-8 text", 2),           # UnicodeDecodeError
    (["keys", "hash-session-key", "--session", "1", "--key-file", "BIN"], "not UTF-8 text", 2),
    (["demo", "--report-dir", "FILE"], "exists and is not a directory", 2),         # after the whole run
    (["demo", "--report-dir", "FILE/sub"], "is not a directory", 2),
    (["engine", "--name", "qa4-no-dir", "--dir", "FILE"], "engine: --dir: ", 1),     # said 'journal:'
    (["md", "publish", "--log", "BIN", "--no-udp"], "its header needs 4096", 1),     # SegmentTruncated
    # up: refused at parse time, before any process starts (they were tracebacks: --run-dir at once,
    # --ready-file once the whole venue was up)
    (["up", "--run-dir", "FILE"], "exists and is not a directory", 2),
    (["up", "--ready-file", "DIR"], "is a directory, not a file", 2),
    (["dashboard", "--port-file", "DIR", "--listen", "127.0.0.1:0"], "is a directory, not a file", 2),
    (["dashboard", "--reports-dir", "FILE"], "exists and is not a directory", 2),      # served, said nothing
    (["shell", "--token-file", "BIN", "-c", "status"], "not UTF-8 text", 2),            # UnicodeDecodeError
    (["delay-line", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--avg-us", "1", "--p99-us", "2",
      "--port-file", "DIR"], "is a directory, not a file", 2),                      # IsADirectoryError
    (["sip", "--config", "gateway/venues/multi_venue.toml", "--ready-file", "DIR"], "is a directory, not a file", 2),
    (["md", "ladder", "--udp", "127.0.0.1:31999", "--recovery", "127.0.0.1:1", "--duration-s", "1"],
     "md ladder: recovery server 127.0.0.1:1: [Errno 111]", 1),    # a RecoveryError traceback; then (qa6) said twice, as a tuple
    (["dropcopy", "--journal", "DIR", "--out", "BIN", "--exit-at-end"], "not a drop-copy file", 1),
    (["dropcopy", "--journal", "DIR", "--out", "FILE", "--exit-at-end"], "not a drop-copy file", 1),
]


@pytest.mark.parametrize("argv,message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_bad_argument_exits_2_with_one_line(argv: list[str], message: str) -> None:
    env = dict(os.environ, VENUE_CONTROL_TOKEN="some-token")
    run = subprocess.run([sys.executable, "-m", "gateway", *argv], capture_output=True, text=True, cwd=REPO,
                         timeout=60, env=env)
    assert run.returncode == 2, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


@pytest.mark.parametrize("argv,message,rc", FILE_CASES, ids=[" ".join(a) for a, _, _ in FILE_CASES])
def test_a_wrong_file_exits_with_one_line(argv: list[str], message: str, rc: int, tmp_path: Path) -> None:
    """A binary token or key file, a report folder that is a file, a drop-copy output that is
    someone else's file (the drop copy used to cut its last unterminated line before failing)."""
    (tmp_path / "BIN").write_bytes(bytes(range(128, 256)))
    (tmp_path / "FILE").write_text("my notes\nlast line without a newline")
    (tmp_path / "DIR").mkdir()
    args = [str(tmp_path / a) if a.split("/")[0] in ("BIN", "FILE", "DIR") else a for a in argv]
    env = {k: v for k, v in os.environ.items() if k not in ("VENUE_CONTROL_TOKEN", "VENUE_SESSION_KEY")}
    run = subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, cwd=REPO,
                         timeout=60, env=env)
    assert run.returncode == rc, run
    assert "Traceback" not in run.stderr and message in run.stderr, run.stderr
    assert (tmp_path / "FILE").read_text() == "my notes\nlast line without a newline"


def test_up_names_a_pinned_cpu_this_host_does_not_have(tmp_path: Path) -> None:
    """venue.engine_cpu beyond this host's CPUs: `up` says so naming the config field, before any
    process starts (it used to start the engine, whose '--cpu 999' usage error stopped the venue)."""
    from importlib import resources
    text = resources.files("gateway.control").joinpath("default_venue.toml").read_text()
    name = f"qa4cpu{os.getpid()}"
    text = text.replace('name = "main"', f'name = "{name}"', 1).replace("engine_cpu = -1", "engine_cpu = 4096", 1)
    (tmp_path / "venue.toml").write_text(text)
    run = subprocess.run([sys.executable, "-m", "gateway", "up", "--config", str(tmp_path / "venue.toml"),
                          "--no-dashboard", "--run-dir", str(tmp_path / "run")], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert run.returncode == 2, run
    assert "venue.engine_cpu = 4096: not one of this host's CPUs" in run.stderr and "Traceback" not in run.stderr


def test_a_fifo_as_a_config_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A FIFO given as the venue config (or any config, token or key file) blocked forever in
    open(); it is refused at once."""
    fifo = tmp_path / "venue.toml"
    os.mkfifo(fifo)
    for argv in (["up", "--config", str(fifo)], ["control", "--config", str(fifo)],
                 ["keys", "hash-session-key", "--session", "1", "--key-file", str(fifo)]):
        run = subprocess.run([sys.executable, "-m", "gateway", *argv], capture_output=True, text=True,
                             timeout=60, cwd=REPO)
        assert run.returncode == 2 and "not a regular file" in run.stderr, (argv, run.stderr)


def test_a_bad_key_file_is_said_even_when_the_dashboards_port_is_taken() -> None:
    """qa6: the dashboard bound its port before it read --session-key-file, so with the port taken
    (the embedded config's 8700, while any venue runs on the host) a bad key file was reported as
    'cannot listen' (exit 1) and the case above failed."""
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "gateway", "dashboard", "--listen", f"127.0.0.1:{port}",
                              "--session-key-file", "/dev/zero"], capture_output=True, text=True, cwd=REPO, timeout=60)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith("dashboard: --session-key-file: /dev/zero: not a regular file"), run.stderr
