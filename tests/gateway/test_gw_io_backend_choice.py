"""The gateway's I/O backend and busy-poll choice at start-up (gateway/orderentry/io_backend.py):
the backend asked for is the one that runs (its start-up line and stop counters say so), a bad
choice is a one-line usage error.
These tests pick the backend themselves (they do not go through tests/gw_io_backends.py)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gateway import launcher
from gateway.client import Client
from gateway.orderentry.io_backend import io_uring_unavailable

from .gw_venue import CONFIG, KEYS

BASE_ARGS = ["--engine", "nosuchengine", "--listen", "127.0.0.1:0", "--config", "unused.json"]


def _gateway(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(launcher.gateway_command("gateway", *argv), capture_output=True,
                          text=True, timeout=60, env=env)


@pytest.mark.parametrize("argv,needle", [
    (["--io-backend", "kqueue"], "--io-backend 'kqueue'"),
    (["--io-uring-sqpoll-ms", "-1"], "--io-uring-sqpoll-ms must be 0..60000"),
    (["--so-busy-poll-us", "5000000"], "--so-busy-poll-us must be 0..1000000"),
])
def test_a_bad_choice_is_a_usage_error(argv: list[str], needle: str) -> None:
    done = _gateway(BASE_ARGS + argv)
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr


def test_a_bad_backend_in_the_environment_is_a_usage_error() -> None:
    import os
    done = _gateway(BASE_ARGS, env=dict(os.environ, VENUE_GW_IO_BACKEND="dpdk"))
    assert done.returncode == 2, done.stderr
    assert "'dpdk'" in done.stderr and "VENUE_GW_IO_BACKEND" in done.stderr


@pytest.mark.parametrize("backend", ["epoll", "io_uring", "io_uring-sqpoll"])
def test_the_backend_asked_for_is_the_one_that_runs(tmp_path: Path, backend: str) -> None:
    if backend.startswith("io_uring") and (why := io_uring_unavailable()):
        pytest.skip(f"io_uring backend cannot run here: {why}")
    cfg = tmp_path / "gw.json"
    cfg.write_text(json.dumps(CONFIG))
    with launcher.Venue(prefix="tb") as procs:
        procs.start_engine("--instruments", "1", "--producers", "2", "--no-mlock")
        sqpoll = ["--io-uring-sqpoll-ms", "5"] if backend.endswith("sqpoll") else []
        procs.start_gateway(tmp_path / "port", "--listen", "127.0.0.1:0", "--config", str(cfg),
                            "--io-backend", backend.split("-")[0], *sqpoll)
        port = int((tmp_path / "port").read_text())
        firm, key = KEYS[101]
        c = Client.connect("127.0.0.1", port, 101, firm, key)
        ids = [c.buy(1, 10, "99.00", account_id=1) for _ in range(20)]
        for i in ids:
            c.wait_report(i)
        c.terminate()
        err = procs.close()
    start = next(line for line in err.splitlines() if "listening on" in line)
    stop = next(line for line in err.splitlines() if "gateway: stopped" in line)
    assert f"I/O {backend.split('-')[0]}" in start, start
    assert ("SQPOLL" in start) == backend.endswith("sqpoll"), start
    copied = int(stop.split(" bytes copied")[0].rsplit(" ", 1)[1])
    syscalls = int(stop.split(" I/O system calls")[0].rsplit(" ", 1)[1])
    assert syscalls > 0, stop
    # epoll reads and writes the connection's own buffers; io_uring copies out of its provided
    # receive buffers and into its registered send buffers (counted, so it is not hidden)
    assert (copied > 0) == backend.startswith("io_uring"), stop
