"""The per-run CurveZMQ keys of the gateway's admin endpoint under ``up``.

The admin endpoint's only client under ``up`` is the control plane, so ``up`` makes, in its private
run directory (0700, removed on exit), a key pair for the gateway (the server) and one for the
control plane (the one admitted client), and hands each process the files it needs: the gateway
its secret and the directory holding the control plane's public key, the control plane the
gateway's public key and its own secret. A process of another user cannot read them, and any
other client, even one that has learnt the admin token, fails the CURVE handshake.

The keys are made once per run directory: a gateway restarted by the supervisor serves with the
same key pair, so the control plane's client goes on working.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import zmq

from gateway.security import curve

SERVER_NAME = "gateway-admin"
CLIENT_NAME = "control"


@dataclass(frozen=True)
class AdminCurveFiles:
    server_secret: Path         # the gateway's --admin-curve-secret
    server_public: Path         # the control plane's --gateway-admin-curve-server
    clients_dir: Path           # the gateway's --admin-curve-clients (the control plane's public key)
    client_secret: Path         # the control plane's --gateway-admin-curve-client


def available() -> bool:
    """This libzmq was built with CURVE (libsodium or tweetnacl)."""
    return bool(zmq.has("curve"))


def files_for(directory: Path) -> AdminCurveFiles:
    d = Path(directory)
    return AdminCurveFiles(d / f"{SERVER_NAME}.key_secret", d / f"{SERVER_NAME}.key",
                           d / "clients", d / f"{CLIENT_NAME}.key_secret")


def prepare(directory: Path) -> AdminCurveFiles:
    """The key files in directory (made 0700 if new), made now where missing. Raises
    curve.CurveError when existing files are not key files."""
    files = files_for(directory)
    files.clients_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(directory).chmod(0o700)
    if not files.server_secret.exists():
        curve.generate(directory, SERVER_NAME)
    if not files.client_secret.exists():
        public, _ = curve.generate(directory, CLIENT_NAME)
        (files.clients_dir / public.name).write_bytes(public.read_bytes())
    curve.load(files.server_secret, need_secret=True)
    curve.load(files.client_secret, need_secret=True)
    return files
