"""Differential tests for dark midpoint instruments: the C engine against the Python oracle on
random dark streams (tests/native/dark_streams.py), events and state compared after every batch
exactly as test_differential.py does for lit books (its run_both)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from native.messages import ReplacedEvent, TradeEvent
from tests.native.dark_streams import N_ACCOUNTS, dark_streams, seeded_dark_stream
from tests.native.streams import EngineConfig
from tests.native.test_differential import run_both
from tests.oracle import ENG

LONG_DARK_SEED = 20_261_207
CONFIG = EngineConfig(1000, 1000, 3, N_ACCOUNTS)


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(cmds=dark_streams())
def test_c_engine_equals_the_oracle_on_random_dark_streams(c_engine_class, cmds):
    run_both(c_engine_class, CONFIG, cmds, batch=5)


def test_c_engine_equals_the_oracle_on_a_long_dark_stream(c_engine_class):
    cmds = seeded_dark_stream(LONG_DARK_SEED, 10_000)
    run_both(c_engine_class, CONFIG, cmds, batch=100)


def test_the_long_dark_stream_exercises_every_dark_outcome(c_engine_class):
    """Guards the generator: the stream must really produce midpoint trades (half-tick ones
    included), trades of every aggressor kind, replaces that keep or lose their place and that
    trade, and every dark refusal, so the comparison above means something."""
    cmds = seeded_dark_stream(LONG_DARK_SEED, 10_000)
    engine = c_engine_class(max_orders=1000, max_levels=1000, max_instruments=3, max_accounts=N_ACCOUNTS)
    events = engine.submit(cmds)
    trades = [e for e in events if isinstance(e, TradeEvent)]
    reasons = {e.reason for e in events}
    half_tick = [t for t in trades if t.instrument_id == 1 and t.price % 2 == 1]
    assert len(trades) > 200 and half_tick
    assert {t.aggressor_side for t in trades} == {ENG.SIDE_NONE, ENG.SIDE_BUY, ENG.SIDE_SELL}
    replaced = [e for e in events if isinstance(e, ReplacedEvent)]
    assert {r.priority_kept for r in replaced} == {0, 1}
    assert {t.seq for t in trades} & {r.seq for r in replaced}, "no replace ever led to a trade"
    assert {ENG.CXL_NBBO_NONE, ENG.CXL_NBBO_LOCKED, ENG.CXL_NBBO_CROSSED, ENG.CXL_NBBO_STALE,
            ENG.CXL_IOC_REMAINDER, ENG.REJ_BAD_MIN_QTY, ENG.REJ_BAD_NBBO, ENG.REJ_NBBO_OUT_OF_ORDER,
            ENG.REJ_DARK_ORDER_TYPE, ENG.REJ_DARK_UNSUPPORTED} <= reasons
