"""The delay line: seeded draws matched to the profile, and the real proxy process on real sockets
(bytes through in order both ways, every chunk held at least the fixed delay, bad arguments refused)."""
from __future__ import annotations

import json
import socket
import subprocess
import threading

import numpy as np
import pytest

from gateway import launcher
from gateway.venues.delay_line import DelayModel


def test_draws_are_seeded_and_match_the_profile():
    a = DelayModel(150.0, 600.0, seed=7)
    b = DelayModel(150.0, 600.0, seed=7)
    draws = np.array([a.draw_s() for _ in range(200_000)]) * 1e6
    assert [b.draw_s() * 1e6 for _ in range(5)] == list(draws[:5])            # same seed, same delays
    assert draws.mean() == pytest.approx(150.0, rel=0.03)                      # simulated data, known answer
    assert np.percentile(draws, 99) == pytest.approx(600.0, rel=0.05)
    assert DelayModel(80.0, 80.0, seed=1).draw_s() == pytest.approx(80e-6)   # avg == P99: fixed


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return server, t


def test_the_proxy_forwards_in_order_and_holds_each_chunk(tmp_path):
    server, _ = _echo_server()
    port_file = tmp_path / "port"
    with launcher.Venue(prefix="dl", owns_segments=False) as v:
        proc = v.spawn("delay", launcher.gateway_command(
            "delay-line", "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{server.getsockname()[1]}",
            "--avg-us", "3000", "--p99-us", "3000", "--seed", "3", "--port-file", str(port_file)),
            stdout=subprocess.PIPE)
        v.wait_for(port_file.exists, "the delay line's port file")
        sent, got = b"", b""
        socket.create_connection(("127.0.0.1", int(port_file.read_text()))).close()   # a probe: not counted
        with socket.create_connection(("127.0.0.1", int(port_file.read_text()))) as c:
            for i in range(20):
                msg = f"order {i};".encode()
                c.sendall(msg)
                sent += msg
                while len(got) < len(sent):
                    got += c.recv(65536)
        assert got == sent
        v.stop("delay")
        summary = json.loads(proc.stdout.read().strip().splitlines()[-1])["delay_line"]
    server.close()
    assert summary["connections"] == 1 and summary["applied"]["chunks"] == 20
    # a fixed 3 ms delay: no chunk may reach the venue sooner (time.sleep never returns early)
    assert summary["applied"]["mean_us"] >= 3000.0


@pytest.mark.parametrize("args, message", [
    (["--avg-us", "100", "--p99-us", "50"], "need 0 <= --avg-us <= --p99-us"),
    (["--avg-us", "10", "--p99-us", "500"], "--p99-us at most 14.9 x --avg-us"),
    (["--avg-us", "10", "--p99-us", "20", "--target", "nowhere"], "'nowhere': expected HOST:PORT"),
])
def test_bad_arguments_get_one_line(args, message):
    argv = ["--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", *args]
    r = subprocess.run(launcher.gateway_command("delay-line", *argv), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
