"""The gateway's TLS 1.3 listener against real clients, on both I/O backends (epoll, io_uring):
Python's ssl client trades through it, `openssl s_client -tls1_3` completes a handshake; with
client certificates required, a client certificate from the wrong CA, an expired one, a
self-signed one and none at all are refused, and so is a TLS 1.2-only client, each with a line
on the gateway's stderr naming the peer and the reason; a plain-TCP session on the same gateway
trades on with no gap throughout. Certificates come from `python -m gateway keys tls`."""
from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from gateway import launcher
from gateway.client import Client, ConnectionClosed, ExecType, TlsOptions
from tests.gateway.gw_venue import CONFIG, KEYS, wait_for

pytestmark = pytest.mark.slow


def _keys(d: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "gateway", "keys", "tls", *args, "--dir", str(d)],
                   check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _keys(d, "ca", "--name", "ca")
    _keys(d, "server", "--name", "gateway", "--host", "127.0.0.1", "--host", "localhost")
    _keys(d, "client", "--name", "trader")
    _keys(d, "ca", "--name", "rogue-ca")
    _keys(d, "client", "--name", "rogue-trader", "--ca", "rogue-ca")
    _keys(d, "client", "--name", "expired", "--days", "1", "--start-days-ago", "10")
    _keys(d, "ca", "--name", "selfsigned")      # a self-signed certificate used as a client's
    return d


@dataclass
class TlsVenue:
    procs: launcher.Venue
    port: int
    tls_port: int
    pki: Path
    next_seq: dict[int, int] = field(default_factory=dict)  # a session's seqNums go on

    def plain(self, session_id: int) -> Client:
        firm, key = KEYS[session_id]
        return Client.connect("127.0.0.1", self.port, session_id, firm, key, keepalive_ms=1000,
                              next_seq_no=self.next_seq.get(session_id))

    def tls(self, session_id: int, client: str | None = "trader") -> Client:
        firm, key = KEYS[session_id]
        opts = TlsOptions(str(self.pki / "ca.crt"),
                          str(self.pki / f"{client}.crt") if client else "",
                          str(self.pki / f"{client}.key") if client else "")
        return Client.connect("127.0.0.1", self.tls_port, session_id, firm, key,
                              keepalive_ms=1000, tls=opts, timeout_s=5.0,
                              next_seq_no=self.next_seq.get(session_id))

    def close(self, c: Client) -> None:
        self.next_seq[c.core.session_id] = c.core.next_seq_out
        c.close()

    def log(self) -> str:
        return self.procs.log("gateway")


def _start_tls_venue(tmp: Path, pki: Path, require: bool) -> Iterator[TlsVenue]:
    cfg = dict(CONFIG, tls={"listen": "127.0.0.1:0", "cert": "gateway.crt", "key": "gateway.key",
                            "client_ca": "ca.crt", "require_client_cert": require})
    (pki / "gateway.json").write_text(json.dumps(cfg))
    with launcher.Venue(prefix="tls", log_dir=tmp) as procs:
        procs.start_engine("--instruments", "1,2:5:1:10000", "--producers", "4", "--no-mlock",
                           "--sleep-us", "200")
        _, port = procs.start_gateway(tmp / "port", "--listen", "127.0.0.1:0", "--config",
                                      str(pki / "gateway.json"), "--keepalive-min-ms", "20",
                                      "--tls-port-file", str(tmp / "tls_port"))
        wait_for(lambda: (tmp / "tls_port").exists(), "the TLS port file", 10.0)
        yield TlsVenue(procs, port, int((tmp / "tls_port").read_text()), pki)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory, pki: Path, gw_io_backend: str
          ) -> Iterator[TlsVenue]:
    yield from _start_tls_venue(tmp_path_factory.mktemp("tlsvenue"), pki, require=True)


def _order_acked(c: Client, account: int) -> None:
    cl = c.buy(1, 10, "99.00", account_id=account)     # rests below the reference price
    er = c.wait_report(cl, timeout_s=10.0)
    assert er.exec_type == ExecType.NEW, er
    c.cancel_order(cl)
    assert c.wait_report(cl, timeout_s=10.0).exec_type == ExecType.CANCELED


def test_python_ssl_client_trades_over_tls13(venue: TlsVenue) -> None:
    c = venue.tls(101)
    try:
        assert isinstance(c.sock, ssl.SSLSocket) and c.sock.version() == "TLSv1.3"
        _order_acked(c, account=1)
    finally:
        venue.close(c)
    assert "TLS 1.3 on 127.0.0.1:" in venue.log() and "client certificates required" in venue.log()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command on this machine")
def test_openssl_s_client_tls13_handshake(venue: TlsVenue) -> None:
    p = venue.pki
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{venue.tls_port}",
                          "-tls1_3", "-CAfile", str(p / "ca.crt"), "-cert", str(p / "trader.crt"),
                          "-key", str(p / "trader.key"), "-verify_return_error", "-brief"],
                         input="", capture_output=True, text=True, timeout=20)
    text = out.stdout + out.stderr
    assert "Protocol version: TLSv1.3" in text, text
    assert "Verification: OK" in text, text


@pytest.mark.parametrize("client,reason", [
    ("rogue-trader", "unable to get local issuer certificate"),   # another CA signed it
    ("expired", "certificate has expired"),
    ("selfsigned", "self-signed certificate"),
    (None, "peer did not return a certificate"),
])
def test_bad_client_certificates_refused_and_logged(venue: TlsVenue, client: str | None,
                                                    reason: str) -> None:
    plain = venue.plain(102)
    try:
        _order_acked(plain, account=1)
        before = venue.log().count("gateway: TLS refused")
        with pytest.raises(ConnectionClosed):
            c = venue.tls(201, client)      # TLS 1.3: the refusal shows on the first read
            c.close()
        wait_for(lambda: venue.log().count("gateway: TLS refused") > before, "the refusal line", 10.0)
        line = [ln for ln in venue.log().splitlines() if "gateway: TLS refused 127.0.0.1:" in ln][-1]
        assert reason in line, line
        _order_acked(plain, account=1)      # the plain session trades on
    finally:
        venue.close(plain)


def test_tls12_only_client_refused_and_logged(venue: TlsVenue) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(str(venue.pki / "ca.crt"))
    ctx.load_cert_chain(str(venue.pki / "trader.crt"), str(venue.pki / "trader.key"))
    before = venue.log().count("gateway: TLS refused")
    firm, key = KEYS[201]
    with pytest.raises(ConnectionClosed, match="TLS"):
        Client.connect("127.0.0.1", venue.tls_port, 201, firm, key, tls=ctx)
    wait_for(lambda: venue.log().count("gateway: TLS refused") > before, "the refusal line", 10.0)
    assert "unsupported protocol" in venue.log().splitlines()[-1] or \
        "unsupported protocol" in venue.log()


def test_plain_bytes_on_the_tls_port_refused(venue: TlsVenue) -> None:
    firm, key = KEYS[201]
    with pytest.raises((ConnectionClosed, TimeoutError, OSError)):
        Client.connect("127.0.0.1", venue.tls_port, 201, firm, key, timeout_s=3.0)
    wait_for(lambda: "wrong version number" in venue.log() or "http request" in venue.log(), "the refusal line", 10.0)


def test_plain_session_unaffected_by_tls_sessions(venue: TlsVenue) -> None:
    plain = venue.plain(103)
    tls = venue.tls(202)
    try:
        for _ in range(20):
            _order_acked(plain, account=2)
            _order_acked(tls, account=3)
    finally:
        venue.close(tls)
        venue.close(plain)


@pytest.fixture(scope="module")
def optional_venue(tmp_path_factory: pytest.TempPathFactory, pki: Path, gw_io_backend: str
                   ) -> Iterator[TlsVenue]:
    yield from _start_tls_venue(tmp_path_factory.mktemp("tlsopt"), pki, require=False)


def test_optional_client_certificate(optional_venue: TlsVenue) -> None:
    c = optional_venue.tls(101, client=None)      # no certificate: admitted
    try:
        _order_acked(c, account=1)
    finally:
        optional_venue.close(c)
    with pytest.raises(ConnectionClosed):       # one sent must still verify
        optional_venue.tls(102, client="rogue-trader").close()
    wait_for(lambda: "unable to get local issuer certificate" in optional_venue.log(), "the refusal line", 10.0)


def _tls_config(pki: Path, **tls: object) -> dict[str, object]:
    base = {"listen": "127.0.0.1:0", "cert": "gateway.crt", "key": "gateway.key"}
    return dict(CONFIG, tls={**base, **tls})


def test_tls_config_errors_name_the_field(pki: Path, tmp_path: Path) -> None:
    from gateway.orderentry.config import ConfigError, parse_config
    cases = [
        (dict(require_client_cert=True), "tls.require_client_cert: needs tls.client_ca"),
        (dict(cert="missing.crt"), "tls.cert: cannot read"),
        (dict(listen="127.0.0.1"), "tls.listen: use HOST:PORT"),
        (dict(listen="127.0.0.1:99999"), "tls.listen: port must be 0..65535"),
        (dict(ciphers="x"), "Object contains unknown field `ciphers`"),
    ]
    for tls, message in cases:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
            parse_config(_tls_config(pki, **tls), "gw.json", pki)
    loose = tmp_path / "loose.key"
    loose.write_bytes((pki / "gateway.key").read_bytes())
    loose.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        parse_config(_tls_config(pki, key=str(loose)), "gw.json", pki)
    ok = parse_config(_tls_config(pki), "gw.json", pki)
    assert ok.tls is not None and ok.tls.cert == str(pki / "gateway.crt")


def test_server_context_refuses_a_key_that_is_not_the_certificates(pki: Path) -> None:
    from gateway.orderentry.config import TlsListener
    from gateway.orderentry.tls_listener import TlsSetupError, open_tls_listener
    with pytest.raises(TlsSetupError, match="key file does not match the certificate|key values mismatch"):
        open_tls_listener(TlsListener("127.0.0.1:0", str(pki / "gateway.crt"), str(pki / "trader.key")))
    s = open_tls_listener(TlsListener("127.0.0.1:0", str(pki / "gateway.crt"), str(pki / "gateway.key")))
    try:
        assert s.port > 0 and "no client certificates asked for" in s.description
    finally:
        s.close()


def test_keys_tls_never_overwrites_and_keeps_keys_private(pki: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "gateway", "keys", "tls", "client", "--name", "trader",
                          "--dir", str(pki)], capture_output=True, text=True)
    assert out.returncode == 2 and "exists: not overwriting" in out.stderr, out
    assert (pki / "trader.key").stat().st_mode & 0o777 == 0o600
    bad = subprocess.run([sys.executable, "-m", "gateway", "keys", "tls", "server", "--name", "x",
                          "--dir", str(pki)], capture_output=True, text=True)
    assert bad.returncode == 2 and "at least one --host" in bad.stderr, bad
