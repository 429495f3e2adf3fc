"""``python -m gateway keys hash-token``: the config line for a control-plane token;
``python -m gateway keys hash-session-key --session ID``: the config line for an order-entry
session key (gateway/security/session_keys.py; the key from --key-file, $VENUE_SESSION_KEY or stdin);
``python -m gateway keys curve --dir DIR --name NAME``: a CurveZMQ key pair (gateway/security/curve.py);
``python -m gateway keys tls ca|server|client --dir DIR --name NAME ...``: the TLS listener's CA,
server certificate and client certificates (gateway/security/tls_keys.py).

The token is read from --token-file, else $VENUE_CONTROL_TOKEN, else one line of standard input,
never from the command line (it would show in /proc/PID/cmdline and shell history). Prints
``token_hash = "scrypt$..."`` for the user's [[users]] entry; the token itself stays with the user.
Exit 2 with one line for a missing, unreadable or too short token.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from gateway.security import curve
from gateway.security.tls_keys import TlsKeyError, Validity, make_ca, make_leaf
from gateway.security.credentials import CredentialError, hash_token
from gateway.security.session_keys import SESSION_KEY_ENV, hash_session_key, read_session_key
from gateway.small_files import SECRET_LIMIT, NotASmallFile, read_small_text

TOKEN_ENV = "VENUE_CONTROL_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway keys", description="credentials and keys")
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hash-token", help="print the token_hash config line for a token")
    h.add_argument("--token-file", metavar="FILE", help=f"read the token here (default: ${TOKEN_ENV}, else stdin)")
    k = sub.add_parser("hash-session-key", help="print the key_hash config line of a [[sessions]] key")
    k.add_argument("--session", type=int, required=True, help="the session id (the hash is salted with it)")
    k.add_argument("--key-file", metavar="FILE", help=f"read the key here (default: ${SESSION_KEY_ENV}, else stdin)")
    c = sub.add_parser("curve", help="make a CurveZMQ key pair: DIR/NAME.key (public), DIR/NAME.key_secret (0600)")
    c.add_argument("--dir", required=True, help="directory for the two files (created 0700 if absent)")
    c.add_argument("--name", required=True, help="file name stem: letters, digits, '-', '_' and '.'")
    t = sub.add_parser("tls", help="make TLS certificates for the gateway's TLS listener: "
                                   "DIR/NAME.crt and DIR/NAME.key (0600)")
    t.add_argument("kind", choices=("ca", "server", "client"),
                   help="ca: a self-signed CA; server: the gateway's certificate; client: a "
                        "client's (both signed by --ca)")
    t.add_argument("--dir", required=True, help="directory for the files (created 0700 if absent)")
    t.add_argument("--name", required=True, help="file name stem and the certificate's CN")
    t.add_argument("--ca", default="ca", help="server/client: the CA's name stem in --dir (default ca)")
    t.add_argument("--host", action="append", default=[],
                   help="server: a host name or IP address clients dial (repeat for several)")
    t.add_argument("--days", type=int, default=None, help="validity in days (default: CA 3650, others 365)")
    t.add_argument("--start-days-ago", type=int, default=0,
                   help="the validity starts this many days ago (with a short --days: an expired "
                        "certificate, for drills)")
    return p


def _tls(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", args.name):
        raise CredentialError(f"--name {args.name!r}: use 1..64 of letters, digits, '-', '_' and '.'")
    d = Path(args.dir)
    days = args.days if args.days is not None else (3650 if args.kind == "ca" else 365)
    validity = Validity(days, args.start_days_ago)
    try:
        if args.kind == "ca":
            crt, key = make_ca(d, args.name, validity)
        else:
            crt, key = make_leaf(d, args.ca, args.name, args.host, args.kind == "client", validity)
    except (TlsKeyError, OSError) as exc:
        raise CredentialError(str(exc)) from None
    print(f"certificate: {crt}\nkey: {key} (0600: keep it where only its owner reads it)")
    return 0


def _curve(directory: str, name: str) -> int:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise CredentialError(f"--name {name!r}: use 1..64 of letters, digits, '-', '_' and '.'")
    d = Path(directory)
    if (d / f"{name}.key").exists() or (d / f"{name}.key_secret").exists():
        raise CredentialError(f"{d / name}.key(_secret) exists: not overwriting a key")
    try:
        if not d.exists():
            d.mkdir(mode=0o700, parents=True)
        public, secret = curve.generate(d, name)
    except OSError as exc:
        raise CredentialError(f"--dir {directory}: {exc.strerror or exc}") from None
    print(f"public key: {public}\nsecret key: {secret} (0600: keep it where only its owner reads it)")
    return 0


def _hash_session_key(session_id: int, key_file: str | None) -> int:
    if not 0 < session_id < 2**64:
        raise CredentialError(f"--session {session_id}: must be 1..{2**64 - 1}")
    if key_file or os.environ.get(SESSION_KEY_ENV):
        key = read_session_key(key_file)
    else:
        key = sys.stdin.readline().strip()
    if not key:
        raise CredentialError(f"no key: give --key-file, ${SESSION_KEY_ENV} or a line on stdin")
    print(f'key_hash = "{hash_session_key(key, session_id)}"')
    return 0


def _read_token(token_file: str | None) -> str:
    if token_file:
        try:
            return read_small_text(token_file, SECRET_LIMIT).strip()
        except NotASmallFile as exc:
            raise CredentialError(f"--token-file {token_file}: {exc}") from None
        except OSError as exc:
            raise CredentialError(f"--token-file {token_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise CredentialError(f"--token-file {token_file}: not UTF-8 text (a token is one line of text)") from None
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip()
    return sys.stdin.readline().strip()


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.cmd == "curve":
            return _curve(args.dir, args.name)
        if args.cmd == "tls":
            return _tls(args)
        if args.cmd == "hash-session-key":
            return _hash_session_key(args.session, args.key_file)
        token = _read_token(args.token_file)
        if not token:
            raise CredentialError(f"no token: give --token-file, ${TOKEN_ENV} or a line on stdin")
        print(f'token_hash = "{hash_token(token).encode()}"')
    except CredentialError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 2
    return 0
