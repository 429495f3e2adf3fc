"""CurveZMQ on the gateway's admin endpoint (the real gateway process): a client holding an
admitted key pair and the server's public key is served; a client with the token but an unknown
key pair, one with a wrong server key, and one without CURVE get no answer (the handshake fails),
the gateway logs the refusal, and the session it could have disconnected keeps trading. `up`'s
per-run key files are private and let its control plane (and only it) in."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import zmq

from gateway.client import ExecType, ExecutionReport, Side
from gateway.control.up import admin_curve_files, control_command, gateway_command
from gateway.control.config import load_config
from gateway.orderentry.admin import GatewayAdmin, GatewayAdminError
from gateway.security import admin_curve, curve

from tests.gateway.gw_venue import start_venue

pytestmark = pytest.mark.skipif(not admin_curve.available(), reason="libzmq without CURVE")


def _refused(endpoint: str, **keys: str) -> None:
    with GatewayAdmin(endpoint, timeout_s=1.0, **keys) as adm:   # type: ignore[arg-type]
        with pytest.raises(GatewayAdminError) as err:
            adm.disconnect(101, "mallory")
        assert err.value.code == "timeout"


def test_only_admitted_curve_clients_reach_the_admin_endpoint(tmp_path: Path) -> None:
    keys = admin_curve.prepare(tmp_path / "keys")
    stranger_public, stranger_secret = curve.generate(tmp_path / "stranger", "mallory")
    admin_file, token_file = tmp_path / "admin", tmp_path / "admin.token"
    for venue in start_venue(tmp_path, ["--admin", "tcp://127.0.0.1:*", "--admin-file", str(admin_file),
                                        "--admin-token-file", str(token_file),
                                        "--admin-curve-secret", str(keys.server_secret),
                                        "--admin-curve-clients", str(keys.clients_dir)]):
        endpoint = admin_file.read_text()
        c = venue.connect(101, keepalive_ms=30_000)   # idle while the refusals time out
        c.new_order(1, Side.SELL, 2, 1, price=10700)
        assert isinstance(c.recv(), ExecutionReport)
        _refused(endpoint, token_file=str(token_file))                              # no CURVE
        _refused(endpoint, token_file=str(token_file), curve_server_key=str(keys.server_public),
                 curve_client_secret=str(stranger_secret))                           # unknown client
        _refused(endpoint, token_file=str(token_file), curve_server_key=str(stranger_public),
                 curve_client_secret=str(keys.client_secret))                        # wrong server key
        with GatewayAdmin(endpoint, timeout_s=10.0, token_file=str(token_file),
                          curve_server_key=str(keys.server_public),
                          curve_client_secret=str(keys.client_secret)) as adm:
            [row] = [r for r in adm.sessions() if r["session_id"] == 101]
            assert row["connected"] and row["orders_live"] == 1      # nobody disconnected it
        c.new_order(1, Side.SELL, 2, 1, price=10701)
        r = c.recv()
        assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW
        c.terminate()
        venue.procs.stop("gateway")
        assert venue.gateway.stderr is not None
        log = venue.gateway.stderr.read()
        assert "CurveZMQ client refused" in log and "unknown client key" in log, log


def test_gateway_refuses_half_a_curve_configuration(tmp_path: Path) -> None:
    keys = admin_curve.prepare(tmp_path / "keys")
    from gateway.orderentry.process import main
    with pytest.raises(SystemExit) as exit_:
        main(["--engine", "none", "--listen", "127.0.0.1:0", "--config", "x.json", "--admin", "tcp://127.0.0.1:*",
              "--admin-curve-secret", str(keys.server_secret)])
    assert exit_.value.code == 2
    with pytest.raises(GatewayAdminError) as err:
        GatewayAdmin("tcp://127.0.0.1:1", curve_server_key=str(tmp_path / "missing.key"),
                     curve_client_secret=str(keys.client_secret)).sessions()
    assert err.value.code == "unavailable" and "missing.key" in err.value.message


def test_up_gives_gateway_and_control_plane_private_per_run_keys(tmp_path: Path) -> None:
    cfg = load_config(None)
    admin_file = tmp_path / "run" / "gateway.admin"
    admin_file.parent.mkdir(mode=0o700)
    gw = gateway_command(cfg, tmp_path / "creds.json", tmp_path / "port", admin_file)
    ctl = control_command(None, tmp_path / "control.json", admin_file, cfg)
    files = admin_curve_files(admin_file)
    assert files is not None
    assert gw[gw.index("--admin-curve-secret") + 1] == str(files.server_secret)
    assert ctl[ctl.index("--gateway-admin-curve-client") + 1] == str(files.client_secret)
    assert oct(files.server_secret.parent.stat().st_mode & 0o777) == "0o700"
    for secret in (files.server_secret, files.client_secret):
        assert oct(secret.stat().st_mode & 0o777) == "0o600"
    # the one admitted client is the control plane's key; the server's key pair is kept for the run
    assert curve.admitted_keys(files.clients_dir) == {curve.load(files.client_secret, need_secret=True)[0]}
    before = files.server_secret.read_bytes()
    assert admin_curve_files(admin_file) == files and files.server_secret.read_bytes() == before
    assert not any(b"key_secret" in os.fsencode(a) and "admin-curve" not in a for a in gw + ctl)
