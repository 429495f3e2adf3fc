"""CurveZMQ on the control plane's command and publish endpoints (``python -m gateway up``) and on
the market-data ZeroMQ feed (``python -m gateway md publish``), with keys from ``python -m gateway
keys curve``: a client with an admitted key pair and the right server key is served; a plain
client, a client whose key is not admitted, and a client with a wrong server key get nothing, and
each refusal is in the audit log (control plane) or the publisher's log (market data)."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from gateway.control.client import ControlClient, ControlError
from gateway.control.audit import read_audit
from gateway.marketdata.transport import ZmqReceiver
from shm.engine_segments import remove_leftovers
from tests.control.cp_venue import OPERATOR, write_config
from tests.marketdata.live import LiveEngine
from gateway.launcher import stop, wait_for


def _keys(tmp: Path) -> dict[str, Path]:
    """server pair; alice admitted (in clients/); mallory not."""
    out: dict[str, Path] = {}
    for name, where in (("server", "server"), ("alice", "clients"), ("mallory", "other")):
        p = subprocess.run([sys.executable, "-m", "gateway", "keys", "curve", "--dir", str(tmp / where),
                            "--name", name], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        out[name] = tmp / where / f"{name}.key"
        out[name + "_secret"] = tmp / where / f"{name}.key_secret"
    return out


@pytest.fixture
def curve_venue(tmp_path: Path) -> Iterator[tuple[dict[str, object], dict[str, Path], Path]]:
    keys = _keys(tmp_path)
    name = f"cv{uuid.uuid4().hex[:8]}"
    cfg = write_config(tmp_path, name)
    cfg.write_text(cfg.read_text().replace("[control]\n", f'[control]\ncurve_secret_key = "{keys["server_secret"]}"\n'
                                                           f'curve_clients = "{tmp_path / "clients"}"\n', 1))
    ready_file = tmp_path / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "up", "--config", str(cfg), "--no-mlock",
                             "--run-dir", str(tmp_path / "run"), "--ready-file", str(ready_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(ready_file.exists, "the venue's ready file", 60.0, watch={"up": proc})
        yield json.loads(ready_file.read_text()), keys, tmp_path / "audit.jsonl"
    finally:
        stop(proc, 40)
        remove_leftovers(name)


def _client(ready: dict[str, object], server: Path | None, client: Path | None) -> ControlClient:
    return ControlClient(str(ready["command"]), OPERATOR[0], OPERATOR[1], timeout_s=2.0,
                         publish_endpoint=str(ready["publish"]),
                         server_key=str(server) if server else None, client_key=str(client) if client else None)


def test_control_plane_serves_only_admitted_curve_clients(curve_venue) -> None:  # type: ignore[no-untyped-def]
    ready, keys, audit = curve_venue
    with _client(ready, keys["server"], keys["alice_secret"]) as good:
        assert good.call("whoami")["user"] == OPERATOR[0]
        topic, body = next(good.subscribe([b"status"], timeout_s=10.0))
        assert topic == b"status" and body["venue"] == ready["venue"]
    for server, client in ((None, None), (keys["server"], keys["mallory_secret"]),
                           (keys["mallory"], keys["alice_secret"])):
        with _client(ready, server, client) as bad:
            with pytest.raises(ControlError) as err:
                bad.call("whoami")
            assert err.value.code == "timeout"
            assert next(bad.subscribe([b"status"], timeout_s=1.0), None) is None
    mallory = keys["mallory"].read_text().split('public-key = "')[1].split('"')[0]

    def refusals() -> list[dict[str, object]]:
        return [e for e in read_audit(audit) if e["command"] == "curve.handshake"]
    wait_for(lambda: any(e["args"].get("client_key") == mallory for e in refusals()),   # type: ignore[union-attr]
             "mallory's refusal in the audit log")
    wait_for(lambda: any("handshake failed" in str(e["message"]) for e in refusals()),
             "the failed handshakes in the audit log")
    with _client(ready, keys["server"], keys["alice_secret"]) as good:      # still served
        assert good.call("whoami")["user"] == OPERATOR[0]


def test_market_data_over_zeromq_serves_only_admitted_curve_subscribers(tmp_path: Path) -> None:
    keys = _keys(tmp_path)
    eng = LiveEngine()
    proc = None
    try:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "md", "publish", "--engine", eng.name,
                                 "--recovery-port", "0", "--instruments", "4:BOOT:1:1:10000", "--duration-s", "600",
                                 "--no-udp", "--zmq", "tcp://127.0.0.1:0", "--heartbeat-ms", "5",
                                 "--zmq-curve-secret", str(keys["server_secret"]),
                                 "--zmq-curve-clients", str(tmp_path / "clients")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "zmq " in line, (line, proc.stderr.read() if proc.stderr else "")
        endpoint = line.split("zmq ", 1)[1].split(";", 1)[0]
        good = ZmqReceiver(endpoint, server_key=str(keys["server"]), client_key=str(keys["alice_secret"]))
        wait_for(lambda: good.recv(0.05) is not None, "a heartbeat over CurveZMQ", 20.0)
        good.close()
        for server, client in ((None, None), (keys["server"], keys["mallory_secret"]),
                               (keys["mallory"], keys["alice_secret"])):
            bad = ZmqReceiver(endpoint, server_key=str(server) if server else None,
                              client_key=str(client) if client else None)
            assert bad.recv(1.5) is None
            bad.close()
    finally:
        if proc is not None:
            proc.kill()
            _, err = proc.communicate(timeout=30)
        eng.close()
    assert "CurveZMQ client refused" in err and "unknown client key" in err, err[-2000:]
