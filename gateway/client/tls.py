"""TLS for the order-entry clients: how ``Client.connect`` / ``AsyncClient.connect`` reach the
gateway's TLS 1.3 listener (the credentials file's [tls]; plain TCP stays on its --listen port).

``TlsOptions`` names the files: the CA the gateway's certificate is checked against, and the
client's own certificate and key when the listener asks for one (python -m gateway keys tls
makes all of them). TLS 1.3 only, as the gateway; the server name is checked against the
gateway's certificate (its subjectAltName) unless ``check_hostname`` is off."""
from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class TlsOptions:
    ca_file: str                          # PEM: the CA that signed the gateway's certificate
    cert_file: str = ""                   # PEM: this client's certificate ("" : none sent)
    key_file: str = ""                    # PEM: its private key
    server_hostname: str = ""             # "" : the host connected to
    check_hostname: bool = True


def client_context(opts: TlsOptions) -> ssl.SSLContext:
    """A TLS 1.3-only client context from opts. Raises OSError / ssl.SSLError naming the file."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = opts.check_hostname
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=opts.ca_file)
    if opts.cert_file:
        ctx.load_cert_chain(opts.cert_file, opts.key_file or None)
    return ctx


def context_of(tls: TlsOptions | ssl.SSLContext) -> ssl.SSLContext:
    return tls if isinstance(tls, ssl.SSLContext) else client_context(tls)


def server_name(tls: TlsOptions | ssl.SSLContext, host: str) -> str:
    return tls.server_hostname or host if isinstance(tls, TlsOptions) else host
