"""The pre-trade order-velocity limit (SET_ORDER_VELOCITY, ENGINE.md): per account, a token bucket
of max_orders accepted NEW_ORDER + REPLACE commands per window_ns of sequenced time. Each scenario
runs on the oracle and on the C engine (make_engine); the C engine's decisions are also checked
against an independent formulation of the same limit (the generic cell rate algorithm, ITU-T
I.371, in exact rationals), and its state against a snapshot round trip."""
from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

from native._venue import ffi, lib
from native.engine import Engine
from native.messages import AcceptedEvent, CancelledEvent, Command, RejectedEvent
from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
STEP = 1_000  # CommandStream's ts step: each command is 1 us after the previous one


def _continuous(make_engine, first_ts_ns: int = 1_000):
    eng, s = make_engine(), CommandStream(first_ts_ns=first_ts_ns)
    eng.submit(opening(s))
    return eng, s


def _reasons(events: list) -> list[int]:
    return [e.reason if isinstance(e, RejectedEvent) else 0 for e in events
            if isinstance(e, (AcceptedEvent, RejectedEvent))]


def test_a_burst_beyond_the_limit_is_rejected_and_the_bucket_refills_with_time(make_engine):
    eng, s = _continuous(make_engine)
    limit = s.set_order_velocity(account_id=1, max_orders=3, window_ns=30 * STEP)
    assert eng.submit([limit]) == [ev.ack(limit)]
    burst = [s.limit(1, i, BUY, 1, 9_000 + i, account_id=1) for i in range(1, 6)]
    out = eng.submit(burst)
    assert _reasons(out) == [0, 0, 0, ENG.REJ_ORDER_VELOCITY, ENG.REJ_ORDER_VELOCITY]
    assert out[-1] == ev.rejected(burst[-1], ENG.REJ_ORDER_VELOCITY)
    # one token per 10 us: 5 us after the last accepted order's token was taken there is none yet
    # (two 1 us steps passed), 10 us after it there is exactly one
    late = s.time(8 * STEP)
    one_more = s.limit(1, 6, BUY, 1, 9_006, account_id=1)      # 10 us after the third order
    none_left = s.limit(1, 7, BUY, 1, 9_007, account_id=1)
    assert _reasons(eng.submit([late, one_more, none_left])) == [0, ENG.REJ_ORDER_VELOCITY]


def test_replaces_count_cancels_and_rejected_orders_do_not(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.set_order_velocity(1, 2, 1_000 * STEP)])
    first = s.limit(1, 1, BUY, 5, 9_000, account_id=1)
    bad = s.limit(1, 2, BUY, 0, 9_000, account_id=1)             # BAD_QTY: changes nothing
    cancel = s.cancel(1, 1)
    second = s.limit(1, 3, BUY, 5, 9_001, account_id=1)
    replace = s.replace(1, 3, 9_002, 5)                            # the third counted command
    out = eng.submit([first, bad, cancel, second, replace])
    assert ev.rejected(bad, ENG.REJ_BAD_QTY) in out
    assert out[-1] == ev.rejected(replace, ENG.REJ_ORDER_VELOCITY)
    assert eng.order(3)["price"] == 9_001                          # a rejected replace leaves it be
    assert isinstance(eng.submit([s.cancel(1, 3)])[0], CancelledEvent)   # cancels are never limited


def test_the_kill_switch_is_checked_first_and_other_accounts_are_not_affected(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.set_order_velocity(1, 1, 1_000 * STEP), s.limit(1, 1, BUY, 1, 9_000, account_id=1)])
    capped = s.limit(1, 2, BUY, 1, 9_000, account_id=1)
    others = [s.limit(1, 10 + i, SELL, 1, 11_000 + i, account_id=2) for i in range(20)]
    kill = s.set_kill_switch(1, 1)
    killed = s.limit(1, 3, BUY, 1, 9_000, account_id=1)
    out = eng.submit([capped, *others, kill, killed])
    assert out[0] == ev.rejected(capped, ENG.REJ_ORDER_VELOCITY)
    assert sum(isinstance(e, AcceptedEvent) for e in out) == 20
    assert out[-1] == ev.rejected(killed, ENG.REJ_KILL_SWITCH)


def test_a_new_limit_starts_full_and_zero_zero_removes_it(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.set_order_velocity(1, 1, 1_000 * STEP), s.limit(1, 1, BUY, 1, 9_000, account_id=1)])
    assert _reasons(eng.submit([s.limit(1, 2, BUY, 1, 9_000, account_id=1)])) == [ENG.REJ_ORDER_VELOCITY]
    eng.submit([s.set_order_velocity(1, 2, 1_000 * STEP)])       # replaced: a full bucket of 2
    assert _reasons(eng.submit([s.limit(1, i, BUY, 1, 9_000, account_id=1) for i in (3, 4, 5)])) == \
        [0, 0, ENG.REJ_ORDER_VELOCITY]
    off = s.set_order_velocity(1, 0, 0)
    assert eng.submit([off]) == [ev.ack(off)]
    assert _reasons(eng.submit([s.limit(1, 10 + i, BUY, 1, 9_000, account_id=1) for i in range(50)])) == [0] * 50


def test_bad_limits_are_refused_with_a_reason_and_change_nothing(make_engine):
    eng, s = _continuous(make_engine)
    bad = [s.set_order_velocity(1, 0, STEP), s.set_order_velocity(1, 3, 0), s.set_order_velocity(1, 3, -STEP),
           s.set_order_velocity(8, 3, STEP)]
    out = eng.submit(bad)
    assert out == [ev.rejected(bad[0], ENG.REJ_BAD_CONFIG), ev.rejected(bad[1], ENG.REJ_BAD_CONFIG),
                   ev.rejected(bad[2], ENG.REJ_BAD_CONFIG), ev.rejected(bad[3], ENG.REJ_BAD_ACCOUNT)]
    assert all(e.account_id == c.account_id for e, c in zip(out, bad))
    assert _reasons(eng.submit([s.limit(1, i, BUY, 1, 9_000, account_id=1) for i in range(1, 30)])) == [0] * 29


def test_the_largest_limit_never_overflows(make_engine):
    """max_orders 2^32-1 over a window of 2^62 ns: the bucket holds 2^94 ns-tokens, exact in C."""
    eng, s = _continuous(make_engine)
    eng.submit([s.set_order_velocity(1, 2**32 - 1, 2**62)])
    assert _reasons(eng.submit([s.limit(1, i, BUY, 1, 9_000, account_id=1) for i in range(1, 200)])) == [0] * 199


def _gcra_decisions(times: list[int], max_orders: int, window_ns: int, set_at: int) -> list[bool]:
    """The same limit as the generic cell rate algorithm: emission interval T = window / N and
    tolerance (N - 1) T; a command at t conforms iff t >= TAT - tolerance, then TAT = max(TAT, t) + T.
    TAT starts at the time the limit was set (a full bucket)."""
    interval = Fraction(window_ns, max_orders)
    tolerance = (max_orders - 1) * interval
    tat, out = Fraction(set_at), []
    for t in times:
        ok = t >= tat - tolerance
        if ok:
            tat = max(tat, Fraction(t)) + interval
        out.append(ok)
    return out


def test_c_engine_decisions_equal_an_independent_gcra_on_random_gaps():
    for seed in range(40):
        rng = random.Random(seed)
        n, window = rng.randint(1, 9), rng.choice((7_919, 50_000, 1_000_003))
        s = CommandStream(first_ts_ns=5_000, ts_step_ns=1)   # the gaps below are the time that passes
        cmds = opening(s)
        limit = s.set_order_velocity(1, n, window)
        cmds.append(limit)
        times, orders = [], []
        for i in range(300):
            s.ts_ns += rng.choice((0, 1, 3, 17, 101, window // (2 * n), window // n, window))
            orders.append(s.limit(1, i + 1, BUY, 1, 9_000, account_id=1))
            times.append(orders[-1].ts_ns)
        with Engine(max_orders=1_000, max_levels=100, max_instruments=1, max_accounts=2) as eng:
            eng.submit(cmds)
            got = [isinstance(e, AcceptedEvent) for e in eng.submit(orders) if isinstance(e, (AcceptedEvent, RejectedEvent))]
        assert got == _gcra_decisions(times, n, window, limit.ts_ns), f"seed {seed}"
        assert 0 < sum(got) < len(got)


def _snapshot_roundtrip(eng: Engine, path: Path, cfg: dict[str, int]) -> Engine:
    assert lib.jrnl_snapshot_save(eng.handle, str(path).encode()) == 0
    other = Engine(**cfg)
    assert lib.jrnl_snapshot_load(other.handle, str(path).encode(), ffi.new("eng_snap_hdr_t *")) == 0
    return other


def test_the_buckets_are_in_the_snapshot_and_the_state_hash(tmp_path: Path):
    cfg = {"max_orders": 1_000, "max_levels": 100, "max_instruments": 1, "max_accounts": 4}
    s = CommandStream()
    head: list[Command] = [*opening(s), s.set_order_velocity(1, 3, 40 * STEP), s.set_order_velocity(2, 1, 7 * STEP)]
    head += [s.limit(1, i, BUY if i % 2 else SELL, 1, 9_000 if i % 2 else 11_000, account_id=1 + i % 2)
             for i in range(1, 9)]
    tail = [s.limit(1, 100 + i, BUY, 1, 9_000, account_id=1 + i % 2) for i in range(12)]
    with Engine(**cfg) as a:
        a.submit(head)
        with _snapshot_roundtrip(a, tmp_path / "eng.snap", cfg) as b:
            assert b.state_hash() == a.state_hash()
            b.check()
            out_a, out_b = a.submit(tail), b.submit(tail)
            assert out_a == out_b
            assert ENG.REJ_ORDER_VELOCITY in _reasons(out_a)


def test_the_state_hash_covers_the_buckets():
    """Two engines with the same books, one with a limit no order reached: the hashes differ."""
    cfg = {"max_orders": 1_000, "max_levels": 100, "max_instruments": 1, "max_accounts": 4}
    s = CommandStream()
    cmds = opening(s)
    generous = s.set_order_velocity(1, 1_000, STEP)
    orders = [s.limit(1, i, BUY, 1, 9_000, account_id=1) for i in range(1, 4)]
    with Engine(**cfg) as limited, Engine(**cfg) as free:
        limited.submit([*cmds, generous, *orders])
        free.submit([*cmds, *orders])
        assert limited.depth(1, BUY) == free.depth(1, BUY) == [(9_000, 3, 3)]
        assert limited.state_hash() != free.state_hash()
