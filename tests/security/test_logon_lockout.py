"""The control API's failed-logon lockout (gateway/security/lockout.py) on a given clock: limits
per source and per known user, windows that end, lockouts that end, and bounded tables."""
from __future__ import annotations

from gateway.security import lockout
from gateway.security.lockout import LogonLockout


def test_a_source_is_locked_at_its_limit_and_free_after_the_lockout() -> None:
    lk = LogonLockout(3, 10, window_s=60, lockout_s=5)
    assert lk.failed("10.0.0.1", "ops", 0.0) == [] and lk.failed("10.0.0.1", "ops", 1.0) == []
    assert lk.locked("10.0.0.1", "ops", 1.5) is None
    assert lk.failed("10.0.0.1", "ops", 2.0) == ["source_locked_out"]
    assert lk.locked("10.0.0.1", "anyone", 6.9) == "source"
    assert lk.locked("10.0.0.2", "ops", 3.0) is None          # the user from elsewhere goes on
    assert lk.locked("10.0.0.1", "ops", 7.0) is None           # lockout over


def test_failures_spread_over_windows_never_lock() -> None:
    lk = LogonLockout(3, 0, window_s=10, lockout_s=5)
    for t in (0.0, 1.0, 10.5, 11.0, 21.0, 22.0):
        assert lk.failed("h", None, t) == []
    assert lk.locked("h", "", 22.5) is None


def test_a_user_is_locked_by_failures_from_many_sources_and_unknown_users_are_not_tracked() -> None:
    lk = LogonLockout(100, 4, window_s=60, lockout_s=30)
    got = [lk.failed(f"10.0.1.{i}", "ops", float(i)) for i in range(4)]
    assert got == [[], [], [], ["user_locked_out"]]
    assert lk.locked("10.9.9.9", "ops", 10.0) == "user"
    assert lk.locked("10.9.9.9", "watch", 10.0) is None
    for i in range(10):
        assert lk.failed("10.0.2.1", None, 40.0 + i) == []     # invented names count per source only


def test_the_tables_stay_bounded_under_a_flood_of_addresses() -> None:
    lk = LogonLockout(2, 2, window_s=60, lockout_s=30)
    for i in range(lockout.MAX_TRACKED * 2):
        lk.failed(f"addr-{i}", None, 1.0)
    assert len(lk._sources) == lockout.MAX_TRACKED
