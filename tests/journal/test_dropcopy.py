"""Drop copy: streams every trade of the event journal to its file and its ZeroMQ PUB socket,
exactly once, across a SIGKILL of the engine and a restart of the drop copy itself; a rebuild from
the journal alone gives the same file."""
from __future__ import annotations

import json
import random
import signal
import subprocess
from pathlib import Path

import zmq

from gateway import launcher
from gateway.enginehost import journal
from native.messages import TradeEvent
from native import records
from shm.client import EngineClient

from .conftest import order_stream, wait_for


def _trades_in_journal(d: Path) -> list[int]:
    _, _, pay = journal.read_records(str(d), journal.KIND_EVT)
    return [e.trade_id for e in records.decode_events(pay) if isinstance(e, TradeEvent)]


def _trades_in_file(path: Path) -> list[int]:
    if not path.exists():
        return []
    text = path.read_text()
    complete = text[:text.rfind("\n") + 1]     # the drop copy may be inside a write
    return [json.loads(line)["trade_id"] for line in complete.splitlines()
            if json.loads(line)["type"] == "TRADE"]


def _dropcopy(journal_dir: Path, out: Path, endpoint: str | None, *extra: str):
    argv = launcher.gateway_command("dropcopy", "--journal", str(journal_dir), "--out", str(out),
                                    "--poll-ms", "1", *extra)
    if endpoint:
        argv += ["--zmq", endpoint]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)


def test_drop_copy_streams_every_trade_once_across_crashes(engine_proc, tmp_path: Path) -> None:
    rng = random.Random(9)
    eng = engine_proc()
    eng.start()
    out = tmp_path / "dropcopy.jsonl"
    endpoint = f"ipc://{tmp_path}/dc.sock"
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 1 << 20)      # this reader drains in bursts: never drop
    sub.setsockopt(zmq.SUBSCRIBE, b"TRADE")
    sub.connect(endpoint)
    dc = _dropcopy(eng.journal_dir, out, endpoint)
    try:
        oid = 1
        with EngineClient(eng.name) as client:
            client.submit_many(order_stream(rng, 2000, oid))
        oid += 2000
        wait_for(lambda: _trades_in_file(out) == _trades_in_journal(eng.journal_dir),
                 "the drop copy to catch up with the journal")
        eng.kill()
        eng.start()
        dc.send_signal(signal.SIGKILL)
        dc.wait(30)
        # The SUB may still hold what the first drop copy published (up to the file's last
        # trade): only trades after it come from the restarted one.
        before_restart = _trades_in_file(out)[-1]
        dc = _dropcopy(eng.journal_dir, out, endpoint)
        got: list[int] = []

        def receive() -> bool:
            while sub.poll(0):
                topic, body = sub.recv_multipart()
                assert topic == b"TRADE"
                trade_id = json.loads(body)["trade_id"]
                if trade_id > before_restart:
                    got.append(trade_id)
            return bool(got)

        with EngineClient(eng.name) as client:
            client.submit_many(order_stream(rng, 2000, oid))
            oid += 2000

            def trade_more() -> bool:   # PUB is live-only: keep trading until the SUB has joined
                nonlocal oid
                if receive():
                    return True
                client.submit_many(order_stream(rng, 100, oid))
                oid += 100
                return False

            wait_for(trade_more, "a trade on the ZeroMQ subscription")
        expected = _trades_in_journal(eng.journal_dir)
        wait_for(lambda: receive() is not None and _trades_in_file(out) == expected,
                 "the restarted drop copy to write every trade exactly once")
        assert expected == list(range(1, len(expected) + 1)) and len(expected) > 100
        wait_for(lambda: receive() and got[-1] == expected[-1], "the last trade on ZeroMQ")
        assert got == list(range(got[0], expected[-1] + 1)), "ZeroMQ skipped or repeated a trade"
    finally:
        dc.send_signal(signal.SIGTERM)
        assert dc.wait(30) == 0
        sub.close(0)
        ctx.term()
    assert eng.stop() == 0
    rebuilt = tmp_path / "rebuilt.jsonl"
    run = subprocess.run([*launcher.gateway_command("dropcopy"), "--journal",
                          str(eng.journal_dir), "--out", str(rebuilt), "--exit-at-end"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert rebuilt.read_bytes() == out.read_bytes()
