"""A real venue for the gateway tests: an engine process and a gateway process on a free
localhost port, with a credentials file of three firms; plus the waits the tests share.

Both processes are started with subprocess and stopped with SIGTERM; the fixture fails with the
processes' stderr when either dies early. No test here sleeps to wait: each waits on a condition."""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import Client
from gateway import launcher
from gateway.launcher import wait_for  # noqa: F401  (tests import it from here too)

START_DEADLINE_S = 30.0

# firm 1 owns accounts 1 and 2, firm 2 account 3, firm 3 account 4.
CONFIG = {
    "firms": [{"firm_id": 1, "accounts": [1, 2], "name": "alpha"},
              {"firm_id": 2, "accounts": [3], "name": "beta"},
              {"firm_id": 3, "accounts": [4], "name": "gamma"}],
    "sessions": [
        {"session_id": 101, "firm_id": 1, "key": "k101"},
        {"session_id": 102, "firm_id": 1, "key": "k102", "cancel_on_disconnect": False},
        {"session_id": 103, "firm_id": 1, "key": "k103"},
        {"session_id": 201, "firm_id": 2, "key": "k201"},
        {"session_id": 202, "firm_id": 2, "key": "k202", "cancel_on_disconnect": False},
        {"session_id": 301, "firm_id": 3, "key": "k301", "throttle_msgs_per_s": 5},
        {"session_id": 302, "firm_id": 3, "key": "k302", "throttle_msgs_per_s": 5,
         "throttle_action": "disconnect"},
    ],
}
KEYS = {s["session_id"]: (s["firm_id"], s["key"]) for s in CONFIG["sessions"]}


def retransmit_once_sequenced(c: Client, first: int, count: int) -> list[object]:
    """Retransmission of first..first+count-1, asked again while the gateway answers that they
    are not sent yet (reports the engine has still to answer, e.g. cancel-on-disconnect's)."""
    from gateway.client import RetransmitReject
    from gateway.reasons import Reason
    end = time.monotonic() + START_DEADLINE_S
    while True:
        got = c.retransmit(first, count)
        if not isinstance(got[0], RetransmitReject):
            return list(got)
        assert got[0].reason_code == Reason.ENG_GW_RETRANSMIT_RANGE, got
        if time.monotonic() > end:
            raise AssertionError(f"messages {first}..{first + count - 1} were never sequenced")


@dataclass
class Venue:
    name: str
    port: int
    engine: subprocess.Popen[str]
    gateway: subprocess.Popen[str]
    procs: launcher.Venue

    def connect(self, session_id: int, keepalive_ms: int = 1000, **kw: object) -> Client:
        firm, key = KEYS[session_id]
        return Client.connect("127.0.0.1", self.port, session_id, firm, key,
                              keepalive_ms=keepalive_ms, **kw)  # type: ignore[arg-type]

    def alive(self) -> bool:
        return self.gateway.poll() is None and self.engine.poll() is None


def start_venue(tmp: Path, gateway_args: list[str] | None = None,
                config: dict | None = None,
                gateway_env: dict[str, str] | None = None,
                gateway_cwd: Path | None = None) -> Iterator[Venue]:
    """gateway_env, gateway_cwd: the gateway process's whole environment and its working
    directory, which `python -m` puts first on sys.path (default: this process's)."""
    cfg_path = tmp / "gateway.json"
    cfg_path.write_text(json.dumps(config or CONFIG))
    with launcher.Venue(prefix="tg") as procs:
        engine = procs.start_engine("--instruments", "1,2:5:1:10000", "--producers", "4", "--no-mlock",
                                    "--sleep-us", "200")
        gw, port = procs.start_gateway(tmp / "port", "--listen", "127.0.0.1:0", "--config", str(cfg_path),
                                       "--keepalive-min-ms", "20", *(gateway_args or []),
                                       env=gateway_env, cwd=gateway_cwd)
        yield Venue(procs.name, port, engine, gw, procs)


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Venue]:
    yield from start_venue(tmp_path)
