"""Order-entry session keys kept only as salted scrypt hashes, and the per-logon proof a client
sends in their place (the gateway's half is native/gateway/gw_security.c).

The hash is the control API tokens' (gateway/security/credentials.py, SCRAM's RFC 5802 section 3
with scrypt, RFC 7914):

    ClientKey = HMAC-SHA256(scrypt(key, salt, N=2^14, r=8, p=1), "Client Key")
    StoredKey = SHA-256(ClientKey)               the only thing the venue config holds

with one difference: the salt is the session's own, derived from its id,

    salt = SHA-256("venue-in-a-box FIXP session key salt" | sessionId (u64 LE))[:16],

because a FIXP client has no message in which to ask for it. Salting still does its job: no two
sessions' hashes of one key are alike and nothing can be precomputed for all sessions at once;
a stolen config costs one scrypt per guess and per session. The parameters are the defaults for
the same reason (the client computes ClientKey alone), and the config is checked against both.

Negotiate and Establish carry, as their credentials, the 32 bytes

    Proof = ClientKey XOR HMAC-SHA256(StoredKey, "FIXP-AUTH" | templateId (u16 LE) |
                                                sessionId (u64 LE) | timestamp (u64 LE))

where timestamp is the message's own. The gateway recovers ClientKey = Proof XOR HMAC(...) and
checks SHA-256(ClientKey) == StoredKey (two hashes per logon); it refuses a proof whose
timestamp is not above the last one it accepted for the session, or further than its window from
its clock (ENG_GW_CREDENTIALS_REPLAYED): a captured logon cannot be replayed.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct

from gateway.security.credentials import (SCRYPT_N, SCRYPT_P, SCRYPT_R, CredentialError, client_key,
                                          hash_token, parse_token_hash)
from gateway.small_files import SECRET_LIMIT, NotASmallFile, read_small_text

SESSION_KEY_ENV = "VENUE_SESSION_KEY"
_SALT_LABEL = b"venue-in-a-box FIXP session key salt"
_AUTH_LABEL = b"FIXP-AUTH"
STORED_KEY_BYTES = 32


def session_salt(session_id: int) -> bytes:
    return hashlib.sha256(_SALT_LABEL + struct.pack("<Q", session_id)).digest()[:16]


def hash_session_key(key: str, session_id: int) -> str:
    """The config's key_hash for this session's key (slow: one scrypt)."""
    return hash_token(key, salt=session_salt(session_id)).encode()


def stored_key_of(key_hash: str, session_id: int) -> bytes:
    """StoredKey of a config key_hash, checked to be this session's (its salt, the default
    parameters). Raises CredentialError naming what is wrong."""
    h = parse_token_hash(key_hash)
    if (h.n, h.r, h.p) != (SCRYPT_N, SCRYPT_R, SCRYPT_P):
        raise CredentialError(f"scrypt parameters N={h.n} r={h.r} p={h.p}: a session key's must be "
                              f"N={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P} (the client computes it alone)")
    if h.salt != session_salt(session_id):
        raise CredentialError(f"the hash was not made for session {session_id} (python -m gateway keys "
                              f"hash-session-key --session {session_id})")
    return h.stored_key


class SessionKey:
    """A client's hashed-session credentials: derived once from the key (one scrypt), then a
    proof per Negotiate or Establish."""

    def __init__(self, key: str, session_id: int) -> None:
        self.session_id = session_id
        self._client_key = client_key(key, session_salt(session_id), SCRYPT_N, SCRYPT_R, SCRYPT_P)
        self._stored_key = hashlib.sha256(self._client_key).digest()
        self._last_ts = 0

    def timestamp(self, now_ns: int) -> int:
        """A logon timestamp above every one this key used (the gateway refuses one that is not)."""
        self._last_ts = max(now_ns, self._last_ts + 1)
        return self._last_ts

    def proof(self, template_id: int, timestamp_ns: int) -> bytes:
        msg = _AUTH_LABEL + struct.pack("<HQQ", template_id, self.session_id, timestamp_ns)
        sig = hmac.new(self._stored_key, msg, hashlib.sha256).digest()
        return bytes(a ^ b for a, b in zip(self._client_key, sig))


def read_session_key(key_file: str | None) -> str:
    """The key from key_file, else $VENUE_SESSION_KEY (never from a command line: it would show
    in /proc/PID/cmdline). Raises CredentialError when neither gives one."""
    if key_file:
        try:
            key = read_small_text(key_file, SECRET_LIMIT).strip()
        except NotASmallFile as exc:
            raise CredentialError(f"session key file {key_file}: {exc}") from None
        except OSError as exc:
            raise CredentialError(f"session key file {key_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise CredentialError(f"session key file {key_file}: not UTF-8 text (a key is one line of text)") from None
    else:
        key = os.environ.get(SESSION_KEY_ENV, "").strip()
    if not key:
        raise CredentialError(f"no session key: give a key file or ${SESSION_KEY_ENV}")
    return key
