"""Live monitoring: `python -m trading monitor` beside a real engine process publishes the streaming
estimators' values and alerts on its own ZeroMQ PUB channel; bad arguments and a missing engine
give one line and exit 2 / 1."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from typing import Any

import msgspec
import pytest
import zmq

from gateway.launcher import Venue, stop, wait_for
from native.messages import NewOrder
from shm.client import EngineClient


@pytest.fixture
def engine() -> Any:
    cpu = max(os.sched_getaffinity(0))
    with Venue(prefix="ta") as venue:
        venue.start_engine("--cpu", str(cpu), "--instruments", "1:1:1:10000", "--producers", "2", "--no-mlock")
        yield venue.name


def _round(rng: random.Random, base: int, oid: int) -> list[NewOrder]:
    """Makers on both sides around base, then a taker that crosses a few levels."""
    cmds: list[NewOrder] = []
    for j in range(4):
        for side, price in ((1, base - 1 - j), (2, base + 1 + j)):
            oid += 1
            cmds.append(NewOrder(instrument_id=1, order_id=oid, client_order_id=oid, price=price, qty=10,
                                 side=side, ord_type=1, tif=1))
    side = rng.choice((1, 2))
    oid += 1
    cmds.append(NewOrder(instrument_id=1, order_id=oid, client_order_id=oid,
                         price=base + 3 if side == 1 else base - 3, qty=rng.randint(5, 25), side=side,
                         ord_type=1, tif=1))
    return cmds


def test_monitor_publishes_values_and_alerts(engine: str) -> None:
    mon = subprocess.Popen([sys.executable, "-m", "trading", "monitor", "--engine", engine, "--bucket-volume", "20",
                            "--publish", "tcp://127.0.0.1:0", "--interval", "0.05", "--bar-seconds", "0.001",
                            "--warmup-bars", "3", "--vpin-window", "2", "--vpin-min-history", "2",
                            "--vpin-alert-level", "0.5", "--instrument", "1:ACME"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert mon.stdout is not None
        line = mon.stdout.readline()
        assert line.startswith("analytics publish (ZeroMQ PUB): tcp://127.0.0.1:"), line + (mon.stderr.read() if mon.poll() is not None else "")
        endpoint = line.split(": ", 1)[1].strip()
        sub = zmq.Context.instance().socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(endpoint)
        rng = random.Random(1)
        got: dict[bytes, list[dict[str, Any]]] = {b"analytics": [], b"alert": []}
        state = {"oid": 0, "base": 10000}

        def more() -> None:
            with EngineClient(engine) as client:
                cmds = _round(rng, state["base"], state["oid"])
                client.submit_many(cmds)
            state["oid"] += len(cmds)
            state["base"] += rng.choice((-1, 0, 1))
            while sub.poll(20):
                topic, body = sub.recv_multipart()
                got[topic].append(msgspec.msgpack.decode(body))

        def done() -> bool:
            values = [v for v in got[b"analytics"] if (v.get("trades") or 0) >= 10]
            return bool(values) and any(a["alert"] == "vpin" for a in got[b"alert"])

        wait_for(done, "analytics values and a VPIN alert", step=more, watch={"monitor": mon})
        last = [v for v in got[b"analytics"] if (v.get("trades") or 0) >= 10][-1]
        assert last["source"] == "analytics" and last["symbol"] == "ACME" and last["instrument"] == 1
        assert last["effective_spread_bps"] > 0 and last["vpin_buckets"] >= 2
        alert = next(a for a in got[b"alert"] if a["alert"] == "vpin")
        assert alert["cdf"] >= 0.5 and alert["symbol"] == "ACME"
        sub.close()
    finally:
        stop(mon)
    assert mon.returncode == 0, mon.stderr.read() if mon.stderr else ""


def test_monitor_bad_arguments_and_missing_engine() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "trading", "monitor", *args], capture_output=True, text=True,
                              timeout=60)

    r = run("--engine", "x")
    assert r.returncode == 2 and "bucket-volume" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("--engine", "x", "--bucket-volume", "0")
    assert r.returncode == 2 and "bucket_volume" in r.stderr
    r = run("--engine", "x", "--bucket-volume", "10", "--instrument", "abc")
    assert r.returncode == 2 and "instrument" in r.stderr
    r = run("--engine", f"missing{uuid.uuid4().hex[:6]}", "--bucket-volume", "10", "--publish", "tcp://127.0.0.1:0")
    assert r.returncode == 1 and "not reachable" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # qa4: a name that cannot be an engine's was a ValueError traceback; VPIN's parameters were
    # checked only once attached to an engine (so a typo waited for one)
    r = run("--engine", "a/b", "--bucket-volume", "10", "--publish", "tcp://127.0.0.1:0")
    assert r.returncode == 2 and "--engine: bad segment name" in r.stderr and "Traceback" not in r.stderr
    for flag, value, words in (("--vpin-window", "0", "window: must be >= 1"),
                               ("--vpin-alert-level", "nan", "alert_level: must be in (0, 1]"),
                               ("--vpin-min-history", "0", "min_history: must be >= 1")):
        r = run("--engine", "x", "--bucket-volume", "10", flag, value)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
