"""``python -m gateway keys hash-token``: the config line for a control-plane token.

The token is read from --token-file, else $VENUE_CONTROL_TOKEN, else one line of standard input,
never from the command line (it would show in /proc/PID/cmdline and shell history). Prints
``token_hash = "scrypt$..."`` for the user's [[users]] entry; the token itself stays with the user.
Exit 2 with one line for a missing, unreadable or too short token.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gateway.security.credentials import CredentialError, hash_token

TOKEN_ENV = "VENUE_CONTROL_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway keys", description="credentials and keys")
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hash-token", help="print the token_hash config line for a token")
    h.add_argument("--token-file", metavar="FILE", help=f"read the token here (default: ${TOKEN_ENV}, else stdin)")
    return p


def _read_token(token_file: str | None) -> str:
    if token_file:
        try:
            return Path(token_file).read_text().strip()
        except OSError as exc:
            raise CredentialError(f"--token-file {token_file}: {exc.strerror or exc}") from None
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip()
    return sys.stdin.readline().strip()


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        token = _read_token(args.token_file)
        if not token:
            raise CredentialError(f"no token: give --token-file, ${TOKEN_ENV} or a line on stdin")
        print(f'token_hash = "{hash_token(token).encode()}"')
    except CredentialError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 2
    return 0
