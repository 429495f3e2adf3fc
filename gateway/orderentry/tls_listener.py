"""The order-entry gateway's TLS 1.3 listener (the credentials file's [tls]): a second listening
socket whose connections the C loop runs through TLS (native/gateway/gw_tls.c, OpenSSL over
memory BIOs, on either I/O backend), with the server context made from the configured
certificate, key and client CA. Plain TCP stays on the gateway's --listen socket.

A build without OpenSSL's headers has no TLS: a configured listener is then refused at start-up
with that reason, never served in the clear. kTLS (the kernel encrypting after the handshake)
is not used: it needs a kernel with CONFIG_TLS (see ktls_state), which the machine this was
measured on lacks, and memory BIOs run on both backends unchanged.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.orderentry.config import TlsListener, parse_listen
from native._venue import ffi, lib


class TlsSetupError(RuntimeError):
    """The TLS listener cannot be served; the message says why (files, OpenSSL, the build)."""


@dataclass
class TlsSetup:
    sock: socket.socket
    ctx: Any                        # the C server context (gw_tls_server_ctx_new)
    host: str
    port: int
    description: str

    def close(self) -> None:
        """After gw_close: the connections that used the context are gone."""
        lib.gw_tls_ctx_free(self.ctx)
        self.ctx = ffi.NULL
        self.sock.close()


def ktls_state() -> str:
    """Whether this kernel could take TLS records over (kTLS), for the start-up line."""
    if Path("/sys/module/tls").exists():
        return "kTLS available in this kernel but not used (memory BIOs work on both backends)"
    return "no kTLS in this kernel (the tls module is absent)"


def open_tls_listener(tls: TlsListener) -> TlsSetup:
    """The server context from the files, then the bound, listening, non-blocking socket."""
    why = ffi.new("char[512]")
    if lib.gw_tls_available(why, len(why)) != 0:
        raise TlsSetupError(f"a TLS listener is configured ([tls] listen {tls.listen}) but "
                            f"{ffi.string(why).decode()}; not starting")
    ctx = lib.gw_tls_server_ctx_new(tls.cert.encode(), tls.key.encode(), tls.client_ca.encode(),
                                    int(tls.require_client_cert), why, len(why))
    if ctx == ffi.NULL:
        raise TlsSetupError(f"TLS listener: {ffi.string(why).decode()}")
    host, port = parse_listen(tls.listen, "[tls] listen")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        lib.gw_tls_ctx_free(ctx)
        raise TlsSetupError(f"cannot listen for TLS on {host}:{port}: {exc.strerror}") from None
    clients = ("client certificates required (CA " + tls.client_ca + ")" if tls.require_client_cert
               else "client certificates verified when sent (CA " + tls.client_ca + ")"
               if tls.client_ca else "no client certificates asked for")
    bound = sock.getsockname()[1]
    return TlsSetup(sock, ctx, host, bound,
                    f"TLS 1.3 on {host}:{bound}, {clients}, memory BIOs; {ktls_state()}")
