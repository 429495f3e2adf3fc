"""Certificates and keys for the gateway's TLS 1.3 listener (``python -m gateway keys tls``):
a CA, the gateway's server certificate signed by it (subjectAltName: the hosts clients dial),
and client certificates signed by it (the listener's client_ca verifies them).

ECDSA P-256 keys and SHA-256 signatures: a P-256 handshake signs and verifies faster than
RSA-2048 at comparable strength (NIST SP 800-57 Part 1, table 2: both about 112-128 bits).
Every key file is written 0600 and never overwritten; certificates 0644. A validity window may
start in the past (start_days_ago), which is how a test makes an expired certificate.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class TlsKeyError(ValueError):
    """A file exists already, a CA cannot be read, or an argument is out of range."""


# A certificate's dates are X.509 Time values, which end at 9999-12-31; a century either way is
# far inside that and beyond any sensible drill or deployment (a larger value overflowed datetime).
MAX_DAYS = 36_500


@dataclass(frozen=True)
class Validity:
    days: int = 365                 # how long from its start
    start_days_ago: int = 0         # the start, this many days before now

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        if not (1 <= self.days <= MAX_DAYS and 0 <= self.start_days_ago <= MAX_DAYS):
            raise TlsKeyError(f"validity: days must be 1..{MAX_DAYS} and start_days_ago 0..{MAX_DAYS}, got "
                              f"{self.days}, {self.start_days_ago}")
        start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.start_days_ago, minutes=5)
        return start, start + dt.timedelta(days=self.days)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise TlsKeyError(f"{path} exists: not overwriting it") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _save(directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
          ) -> tuple[Path, Path]:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    crt, kf = directory / f"{name}.crt", directory / f"{name}.key"
    for p in (crt, kf):
        if p.exists():
            raise TlsKeyError(f"{p} exists: not overwriting it")
    _write_new(kf, key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()), 0o600)
    _write_new(crt, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return crt, kf


def _builder(name: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, validity: Validity
             ) -> x509.CertificateBuilder:
    start, end = validity.window()
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end))


def make_ca(directory: Path, name: str, validity: Validity = Validity(3650)) -> tuple[Path, Path]:
    """A self-signed CA: DIR/NAME.crt and DIR/NAME.key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (_builder(name, subject, key, validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return _save(directory, name, cert, key)


def _load_ca(directory: Path, ca: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / f"{ca}.crt").read_bytes())
        key = serialization.load_pem_private_key((directory / f"{ca}.key").read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise TlsKeyError(f"CA {directory / ca}.crt/.key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsKeyError(f"CA {directory / ca}.key: not an EC key (made by keys tls ca?)")
    return cert, key


def make_leaf(directory: Path, ca: str, name: str, hosts: list[str], client: bool,
              validity: Validity = Validity()) -> tuple[Path, Path]:
    """A certificate signed by DIR/CA: the gateway's (client False; hosts go into its
    subjectAltName) or a client's (client True: extendedKeyUsage clientAuth)."""
    ca_cert, ca_key = _load_ca(directory, ca)
    if not client and not hosts:
        raise TlsKeyError("a server certificate needs at least one --host")
    key = ec.generate_private_key(ec.SECP256R1())
    b = (_builder(name, ca_cert.subject, key, validity)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client
                                               else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if hosts:
        names: list[x509.GeneralName] = []
        for h in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                names.append(x509.DNSName(h))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return _save(directory, name, b.sign(ca_key, hashes.SHA256()), key)
