"""The sealed login cookie (gateway/dashboard/session_cookie.py): what one key seals, the same key
read from its file opens again (a restarted dashboard); anything else is not a login."""
from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from gateway.dashboard.session_cookie import (KEY_BYTES, CookieSealer, KeyFileError, Revoked, SealedSession,
                                              load_or_create_key)

S = SealedSession("sid-1", "ops", "the-token", 1_700_000_000.5)


def test_a_key_file_is_created_private_and_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "dashboard-session.key"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key            # the restarted process's key
    cookie = CookieSealer(key).seal(S)
    assert CookieSealer(load_or_create_key(path)).open(cookie) == S
    assert "the-token" not in cookie and "ops" not in cookie   # sealed, not merely signed


def test_bad_key_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 5)
    short.chmod(0o600)
    with pytest.raises(KeyFileError, match="5 bytes"):
        load_or_create_key(short)
    open_ = tmp_path / "open.key"
    open_.write_bytes(os.urandom(KEY_BYTES))
    open_.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by group or others"):
        load_or_create_key(open_)
    with pytest.raises(KeyFileError):
        load_or_create_key(tmp_path / "no-such-dir" / "k.key")


def test_tampered_foreign_and_garbage_cookies_open_to_nothing() -> None:
    sealer = CookieSealer(os.urandom(KEY_BYTES))
    cookie = sealer.seal(S)
    raw = bytearray(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)))
    raw[20] ^= 1
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert sealer.open(flipped) is None
    assert CookieSealer(os.urandom(KEY_BYTES)).open(cookie) is None      # another key's
    for junk in (None, "", "!!!", "abc", cookie[:10], "A" * 5000, cookie + "x"):
        assert sealer.open(junk) is None
    assert sealer.open(cookie) == S


def test_a_revoked_session_stays_revoked_across_a_restart_until_it_expires(tmp_path: Path) -> None:
    path = tmp_path / "dashboard-session.key.revoked"
    r = Revoked(path)
    r.add("gone", time.time() + 3600)
    r.add("old", time.time() - 1)
    assert "gone" in r and "old" not in r and "other" not in r
    again = Revoked(path)                            # the restarted process
    assert "gone" in again and "old" not in again
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("not json")
    assert "gone" not in Revoked(path)               # unreadable: starts empty, no crash
