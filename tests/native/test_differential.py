"""Differential tests: the C engine (native.engine.Engine) against the Python oracle.

Both get the same command stream in batches; after every batch their events must be equal event
for event, and so must the depth and the orders of every side, the waiting stops, every position
and every instrument's info, and the C engine's eng_check() must pass. Hypothesis streams are
derandomized (fixed seed); the long stream uses LONG_STREAM_SEED, printed on failure.
"""
from __future__ import annotations

from typing import Any, Sequence

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from native.messages import Cancel, Command, Event, NewOrder, Replace
from tests.native.streams import EngineConfig, N_ACCOUNTS, engine_configs, seeded_stream, streams
from tests.oracle import ENG, OracleEngine

LONG_STREAM_SEED = 20_240_621
LONG_STREAM_COMMANDS = 20_000
HYPOTHESIS_EXAMPLES = 600

compared = {"streams": 0, "commands": 0, "events": 0}


@pytest.fixture(scope="module", autouse=True)
def _report_volume():
    yield
    print(f"\ndifferential: {compared['streams']} streams, {compared['commands']} commands, "
          f"{compared['events']} events compared")


def _describe(events: Sequence[Event], index: int, cmds_by_seq: dict[int, Any]) -> str:
    lines = []
    for i in range(max(0, index - 4), min(len(events), index + 1)):
        lines.append(f"  [{i}] {events[i]}")
    if index < len(events):
        lines.append(f"  caused by command {cmds_by_seq.get(events[index].seq)}")
    return "\n".join(lines)


def _first_difference(expected: list[Event], actual: list[Event],
                      cmds: Sequence[Command]) -> str | None:
    if expected == actual:
        return None
    by_seq = {c.seq: c for c in cmds}
    index = next((i for i, (e, a) in enumerate(zip(expected, actual)) if e != a),
                 min(len(expected), len(actual)))
    differing = ""
    if index < len(expected) and index < len(actual):
        want, got = msgspec.to_builtins(expected[index]), msgspec.to_builtins(actual[index])
        keys = sorted(set(want) | set(got))
        differing = ", ".join(f"{k}: oracle {want.get(k)!r} c {got.get(k)!r}"
                              for k in keys if want.get(k) != got.get(k))
    return (f"first differing event at index {index} ({len(expected)} oracle events, "
            f"{len(actual)} C events); fields: {differing}\n"
            f"oracle:\n{_describe(expected, index, by_seq)}\nc:\n{_describe(actual, index, by_seq)}")


def _compare_state(oracle: OracleEngine, engine: Any, config: EngineConfig) -> None:
    engine.check()
    oracle.check()
    for iid in range(1, config.max_instruments + 1):
        assert engine.instrument(iid) == oracle.instrument(iid), f"instrument {iid} info differs"
        if oracle.instrument(iid) is None:
            continue
        for side in (ENG.SIDE_BUY, ENG.SIDE_SELL):
            assert engine.depth(iid, side, 100_000) == oracle.depth(iid, side, 100_000), \
                f"depth of instrument {iid} side {side} differs"
        for side in (ENG.SIDE_NONE, ENG.SIDE_BUY, ENG.SIDE_SELL):
            assert engine.orders(iid, side) == oracle.orders(iid, side), \
                f"orders of instrument {iid} side {side} differ"
        for account in range(config.max_accounts):
            assert engine.position(account, iid) == oracle.position(account, iid), \
                f"position of account {account} on instrument {iid} differs"


def run_both(engine_class: Any, config: EngineConfig, cmds: Sequence[Command],
             batch: int) -> None:
    oracle = OracleEngine(config.max_orders, config.max_levels, config.max_instruments,
                          config.max_accounts)
    engine = engine_class(max_orders=config.max_orders, max_levels=config.max_levels,
                          max_instruments=config.max_instruments,
                          max_accounts=config.max_accounts)
    for start in range(0, len(cmds), batch):
        chunk = cmds[start:start + batch]
        expected, actual = oracle.submit(chunk), engine.submit(chunk)
        difference = _first_difference(expected, actual, chunk)
        assert difference is None, difference
        _compare_state(oracle, engine, config)
        compared["commands"] += len(chunk)
        compared["events"] += len(expected)
    for ids in ([c.order_id for c in cmds if isinstance(c, (NewOrder, Cancel, Replace))][-50:]):
        assert engine.order(ids) == oracle.order(ids), f"order {ids} info differs"
    compared["streams"] += 1


@settings(max_examples=HYPOTHESIS_EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(config=engine_configs, cmds=streams(outside_flow=True))
def test_c_engine_events_and_state_equal_the_oracle_on_random_streams(c_engine_class, config,
                                                                      cmds):
    run_both(c_engine_class, config, cmds, batch=7)


def test_c_engine_equals_the_oracle_on_a_long_seeded_stream(c_engine_class):
    print(f"long stream seed {LONG_STREAM_SEED}, {LONG_STREAM_COMMANDS} commands")
    cmds = seeded_stream(LONG_STREAM_SEED, LONG_STREAM_COMMANDS, outside_flow=True)
    run_both(c_engine_class, EngineConfig(1000, 1000, 3, N_ACCOUNTS), cmds, batch=250)


def test_c_engine_equals_the_oracle_on_a_long_stream_with_tight_capacity(c_engine_class):
    cmds = seeded_stream(LONG_STREAM_SEED + 1, 5_000, outside_flow=True)
    run_both(c_engine_class, EngineConfig(30, 9, 3, N_ACCOUNTS), cmds, batch=100)


def test_c_engine_equals_the_oracle_where_accept_seqs_pass_40_bits(c_engine_class):
    """An order keeps its accept seq in 40 bits of its record and moves it to an extension record
    above that (eng_internal.h): a stream whose seqs cross 2^40 must still equal the oracle, GTD
    expiry order (which breaks ties by accept seq) and order queries included."""
    offset = 2**40 - 2_500
    cmds = [msgspec.structs.replace(c, seq=c.seq + offset)
            for c in seeded_stream(LONG_STREAM_SEED + 2, 5_000, outside_flow=True)]
    run_both(c_engine_class, EngineConfig(1000, 1000, 3, N_ACCOUNTS), cmds, batch=100)
