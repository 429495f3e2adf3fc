"""Control-plane credentials: API tokens kept only as salted slow hashes, and per-request proofs
that never put the token on the wire and cannot be replayed.

The scheme is SCRAM's (RFC 5802, section 3) with scrypt (RFC 7914) as the slow salted hash:

    SaltedToken = scrypt(token, salt, N, r, p)          (slow: ~16 MiB and tens of ms)
    ClientKey   = HMAC-SHA256(SaltedToken, "Client Key")
    StoredKey   = SHA-256(ClientKey)                    (the only thing the venue config holds)
    Signature   = HMAC-SHA256(StoredKey, AuthMessage)
    Proof       = ClientKey XOR Signature               (sent with each request)

The server recomputes Signature, recovers ClientKey = Proof XOR Signature and checks
SHA-256(ClientKey) == StoredKey: one HMAC and one hash per request, so checking a request is
cheap while guessing a token from the config costs one scrypt per guess. AuthMessage binds the
proof to the request (user, command, arguments, request id, timestamp and nonce), so a captured
request is good for that request only, and the server's replay window (timestamp within
REPLAY_WINDOW_S, nonce not seen in it) refuses it a second time.

Config form of a hash: ``scrypt$N$r$p$<salt base64>$<StoredKey base64>``, made by
``python -m gateway keys hash-token``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

SCRYPT_N = 1 << 14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
MIN_TOKEN_CHARS = 12
REPLAY_WINDOW_S = 30.0


class CredentialError(ValueError):
    """A token hash that cannot be parsed, or a token too weak to hash."""


@dataclass(frozen=True)
class TokenHash:
    n: int
    r: int
    p: int
    salt: bytes
    stored_key: bytes

    def encode(self) -> str:
        b64 = base64.b64encode
        return f"scrypt${self.n}${self.r}${self.p}${b64(self.salt).decode()}${b64(self.stored_key).decode()}"


def _scrypt(token: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(token.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + (1 << 20), dklen=32)


def client_key(token: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """ClientKey for a token (the slow step; a client computes it once per connection)."""
    return hmac.new(_scrypt(token, salt, n, r, p), b"Client Key", hashlib.sha256).digest()


def hash_token(token: str, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R,
               p: int = SCRYPT_P) -> TokenHash:
    if len(token) < MIN_TOKEN_CHARS:
        raise CredentialError(f"a token needs at least {MIN_TOKEN_CHARS} characters, got {len(token)}")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    return TokenHash(n, r, p, salt, hashlib.sha256(client_key(token, salt, n, r, p)).digest())


def parse_token_hash(text: str) -> TokenHash:
    parts = text.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise CredentialError("expected scrypt$N$r$p$SALT$KEY (python -m gateway keys hash-token)")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise CredentialError("N, r, p must be integers and SALT, KEY base64") from None
    if n < 1 << 10 or n & (n - 1) or n > 1 << 20 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise CredentialError(f"scrypt parameters N={n} r={r} p={p}: N a power of two in 2^10..2^20, "
                              "r 1..32, p 1..16")
    if len(salt) < 8 or len(key) != 32:
        raise CredentialError("SALT must be at least 8 bytes and KEY 32 bytes")
    return TokenHash(n, r, p, salt, key)


def auth_message(request_id: int, user: str, command: str, args: dict[str, Any], ts_ns: int, nonce: str) -> bytes:
    """The bytes a proof signs: everything the request asks for, canonically encoded."""
    return json.dumps([request_id, user, command, args, ts_ns, nonce], sort_keys=True,
                      separators=(",", ":")).encode()


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def make_proof(key: bytes, stored_key: bytes, message: bytes) -> str:
    signature = hmac.new(stored_key, message, hashlib.sha256).digest()
    return base64.b64encode(_xor(key, signature)).decode()


def check_proof(stored_key: bytes, message: bytes, proof: str) -> bool:
    try:
        raw = base64.b64decode(proof, validate=True)
    except ValueError:
        return False
    if len(raw) != 32:
        return False
    signature = hmac.new(stored_key, message, hashlib.sha256).digest()
    key = _xor(raw, signature)
    return hmac.compare_digest(hashlib.sha256(key).digest(), stored_key)


def decoy_salt(secret: bytes, user: str) -> bytes:
    """The salt answered for an unknown user: stable per name, so probing cannot tell who exists."""
    return hmac.new(secret, user.encode(), hashlib.sha256).digest()[:SALT_BYTES]
