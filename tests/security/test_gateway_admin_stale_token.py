"""qa7: after a gateway restart the gateway logged "admin request refused: no or wrong admin
token" once, which reads like an attack: the control plane had read the token file just before the
new run wrote its own. A request carrying the previous run's token is still refused, but said to be
stale; a wrong token is refused and logged as before; the right one is served."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from gateway.orderentry.admin import GatewayAdmin, GatewayAdminError
from gateway.orderentry.admin_server import AdminServer, new_admin_token, previous_admin_token


def test_the_previous_runs_token_is_refused_as_stale_not_as_wrong(tmp_path: Path) -> None:
    token_file = tmp_path / "admin.token"
    old = new_admin_token(str(token_file))             # the previous run's
    previous = previous_admin_token(str(token_file))
    new = new_admin_token(str(token_file))
    assert previous == old and new != old
    log = io.StringIO()
    server = AdminServer("tcp://127.0.0.1:*", 1, log=log, token=new, previous_token=previous)
    server.start()
    try:
        with GatewayAdmin(server.endpoint, timeout_s=10.0, token=old) as adm:
            with pytest.raises(GatewayAdminError) as err:
                adm.security_events(0)
        assert err.value.code == "unauthenticated" and "previous run" in str(err.value)
        assert "previous run" in log.getvalue() and "wrong admin token" not in log.getvalue()
        with GatewayAdmin(server.endpoint, timeout_s=10.0, token="x" * 64) as adm:
            with pytest.raises(GatewayAdminError) as err:
                adm.security_events(0)
        assert err.value.code == "unauthenticated" and "previous run" not in str(err.value)
        assert "wrong admin token (1 refused)" in log.getvalue()
        assert (server.stale, server.refused) == (1, 1)
    finally:
        server.close()


def test_no_previous_token_file_means_no_stale_token(tmp_path: Path) -> None:
    assert previous_admin_token(str(tmp_path / "none")) == ""
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    assert previous_admin_token(str(tmp_path / "bin")) == ""
