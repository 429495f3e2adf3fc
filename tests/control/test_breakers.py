"""Circuit breakers on engine time: price bands (halt, reopen, new reference) and market-wide levels."""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.control.breakers import (LULD_PAUSE_NS, MWCB_HALT_NS, NS_PER_S, Halt, MarketWideBreaker,
                                      PriceBandBreaker, Reopen)
from native import records

MIN = 60 * NS_PER_S


def _event(kind: str, **fields: int) -> records.Event:
    """An event record in the engine's own layout, decoded by native.records into the Event
    Struct the control plane reads."""
    code = int(records.EvtType[kind])
    rec = np.zeros(1, dtype=records.EVT_DTYPES[code])
    rec["type"] = code
    for k, v in fields.items():
        rec[k] = v
    return records.decode_events(rec.view(records.RECORD_DTYPE))[0]


# ---- price band ------------------------------------------------------------------------------------


def test_band_edge_is_inside_and_one_tick_beyond_halts_for_the_pause() -> None:
    b = PriceBandBreaker(band_pct=10, references={1: 10_000})
    # 10 % of 10 000 is 1 000: 11 000 and 9 000 are on the edge, inside
    assert b.on_trade(1, 11_000, ts_ns=100) == []
    assert b.on_trade(1, 9_000, ts_ns=200) == []
    [halt] = b.on_trade(1, 11_001, ts_ns=300)
    assert halt == Halt(1, halt.reason, 300 + LULD_PAUSE_NS)       # 5 minutes of engine time
    assert "trade at 11001 is 10.01% from reference 10000" in halt.reason
    assert b.is_halted(1)
    # nothing while halted (prints cannot re-halt it), and not one ns early
    assert b.on_trade(1, 20_000, ts_ns=400) == []
    assert b.on_time(300 + LULD_PAUSE_NS - 1) == []
    assert b.on_time(300 + LULD_PAUSE_NS) == [Reopen(1)]
    assert b.on_time(300 + LULD_PAUSE_NS + 1) == []                # reopened once
    assert not b.is_halted(1)


def test_reopening_auction_price_is_the_new_reference() -> None:
    b = PriceBandBreaker(band_pct=10, halt_ns=60 * NS_PER_S, references={1: 10_000})
    assert [type(a) for a in b.on_trade(1, 8_999, ts_ns=0)] == [Halt]      # down 10.01 %
    assert b.on_time(60 * NS_PER_S) == [Reopen(1)]
    assert b.on_auction(1, 10_800, ts_ns=61 * NS_PER_S) == []
    assert b.reference(1) == 10_800
    # band around 10 800 is +/- 1 080: 11 880 inside, 11 881 beyond
    assert b.on_trade(1, 11_880, ts_ns=62 * NS_PER_S) == []
    [halt] = b.on_trade(1, 11_881, ts_ns=63 * NS_PER_S)
    assert halt.until_ts_ns == 123 * NS_PER_S and "reference 10800" in halt.reason


def test_without_an_auction_event_the_first_print_after_reopening_is_the_reference() -> None:
    b = PriceBandBreaker(band_pct=5, halt_ns=10, references={"X": 1_000})
    b.on_trade("X", 1_051, ts_ns=0)                   # 5.1 % up: halt until 10
    assert b.on_trade("X", 1_200, ts_ns=10) == [Reopen("X")]   # reopen falls due, then the print
    assert b.reference("X") == 1_200


def test_per_instrument_bands_and_unwatched_instruments() -> None:
    b = PriceBandBreaker(band_pct=10, bands_pct={2: 2.5}, references={1: 1_000, 2: 1_000})
    assert b.on_trade(1, 1_050, ts_ns=1) == []        # 5 % within 10 %
    assert len(b.on_trade(2, 1_026, ts_ns=2)) == 1    # 2.6 % beyond 2.5 %
    assert b.on_trade(3, 999_999, ts_ns=3) == []      # no reference: not watched
    b.set_reference(3, 100)
    assert len(b.on_trade(3, 111, ts_ns=4)) == 1


def test_engine_time_never_runs_backwards() -> None:
    # events carry their command's ts_ns; the engine's now is the max seen, so is ours
    b = PriceBandBreaker(band_pct=10, halt_ns=100, references={1: 1_000})
    b.on_trade(1, 2_000, ts_ns=1_000)                 # halt until 1 100
    assert b.on_time(1_150) == [Reopen(1)]
    b.on_auction(1, 1_000, ts_ns=1_160)
    [halt] = b.on_trade(1, 2_000, ts_ns=500)          # late-stamped print: now stays 1 160
    assert halt.until_ts_ns == 1_260 and b.now == 1_160


def test_feed_event_uses_trade_and_auction_records() -> None:
    b = PriceBandBreaker(band_pct=10, halt_ns=1_000, references={4: 10_000})
    trade = _event("TRADE", instrument_id=4, ts_ns=10, price=12_000, qty=1, aggressor_side=1)
    [halt] = b.feed_event(trade)
    assert halt.instrument == 4 and halt.until_ts_ns == 1_010
    assert b.feed_event(_event("PHASE", instrument_id=4, ts_ns=1_010, phase=3)) == [Reopen(4)]
    # the reopening auction's prints (aggressor NONE) wait for the AUCTION event's price
    assert b.feed_event(_event("TRADE", instrument_id=4, ts_ns=1_020, price=11_500, qty=1, aggressor_side=0)) == []
    assert b.feed_event(_event("AUCTION", instrument_id=4, ts_ns=1_020, price=11_500, crossed=1)) == []
    assert b.reference(4) == 11_500


@pytest.mark.parametrize("kwargs,message", [
    ({"band_pct": 0}, "band_pct must be a finite percentage > 0"),
    ({"band_pct": float("nan")}, "band_pct must be a finite percentage > 0"),
    ({"halt_ns": 1.5}, "halt_ns must be an integer"),
    ({"halt_ns": 0}, "halt_ns must be > 0"),
    ({"references": {1: -5}}, "reference price of 1 must be > 0"),
    ({"bands_pct": {1: -1}}, r"bands_pct\[1\] must be a finite percentage"),
])
def test_band_bad_config(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        PriceBandBreaker(**kwargs)


def test_band_bad_feed() -> None:
    b = PriceBandBreaker(references={1: 100})
    with pytest.raises(ValueError, match="price must be > 0"):
        b.on_trade(1, 0, ts_ns=1)
    with pytest.raises(ValueError, match="ts_ns must be an integer"):
        b.on_trade(1, 100, ts_ns=float("nan"))
    with pytest.raises(ValueError, match="price must be an integer"):
        b.on_trade(1, 100.5, ts_ns=1)


# ---- market-wide -----------------------------------------------------------------------------------

# index: A weight 3, close 10 000; B weight 1, close 20 000. ratio = (3 x pA/10 000 + pB/20 000) / 4


def _mw(**kw) -> MarketWideBreaker:
    return MarketWideBreaker({"A": 3, "B": 1}, {"A": 10_000, "B": 20_000}, **kw)


def test_three_levels_each_once_a_day_with_their_durations() -> None:
    m = _mw()
    t = 1_000
    # A 9 100: (3 x 0.91 + 1) / 4 = 0.9325 -> down 6.75 %: nothing
    assert m.on_trade("A", 9_100, t) == []
    # A 9 000: (2.7 + 1) / 4 = 0.925 -> down 7.5 % >= 7: level 1, both instruments, 15 minutes
    acts = m.on_trade("A", 9_000, t + 1)
    assert [(a.instrument, a.until_ts_ns) for a in acts] == [("A", t + 1 + 15 * MIN), ("B", t + 1 + 15 * MIN)]
    assert "level 1" in acts[0].reason and "7.50%" in acts[0].reason
    assert m.halted() and m.on_time(t + 1 + 15 * MIN - 1) == []
    assert m.on_time(t + 1 + 15 * MIN) == [Reopen("A"), Reopen("B")]
    t = t + 1 + 15 * MIN
    # A 8 900: (2.67 + 1) / 4 = 0.9175 -> 8.25 %: level 1 is used up for the day
    assert m.on_trade("A", 8_900, t + 1) == []
    # A 8 200: (2.46 + 1) / 4 = 0.865 -> 13.5 % >= 13: level 2
    acts = m.on_trade("A", 8_200, t + 2)
    assert len(acts) == 2 and "level 2" in acts[0].reason and acts[0].until_ts_ns == t + 2 + MWCB_HALT_NS
    assert m.on_time(t + 2 + MWCB_HALT_NS) == [Reopen("A"), Reopen("B")]
    t = t + 2 + MWCB_HALT_NS
    # B 18 000 and A 7 300: (2.19 + 0.9) / 4 = 0.7725 -> 22.75 % >= 20: level 3, rest of the day
    assert m.on_trade("B", 18_000, t + 1) == []       # (2.46 + 0.9) / 4 = 0.84 -> 16 %: level 2 used
    acts = m.on_trade("A", 7_300, t + 2)
    assert [(a.instrument, a.until_ts_ns) for a in acts] == [("A", None), ("B", None)]
    assert "level 3" in acts[0].reason and "rest of the day" in acts[0].reason
    assert m.on_time(t + 10**15) == []                # never reopens today
    assert m.levels_triggered() == [1, 2, 3]
    # next session: closes are today's, every level armed again
    m.new_day({"A": 7_300, "B": 18_000})
    assert m.levels_triggered() == [] and not m.halted()
    # A 6 700: (3 x 6 700 / 7 300 + 1) / 4 = 0.9384 -> 6.16 %: nothing; A 6 600: 0.9281 -> 7.19 %: level 1
    assert m.on_trade("A", 6_700, t + 10**15 + 1) == []
    assert len(m.on_trade("A", 6_600, t + 10**15 + 2)) == 2


def test_exactly_seven_percent_triggers() -> None:
    m = MarketWideBreaker({1: 1}, {1: 10_000})
    assert m.on_trade(1, 9_301, 0) == []              # 6.99 %
    assert len(m.on_trade(1, 9_300, 1)) == 1          # 7.00 %


def test_a_gap_past_two_levels_triggers_the_higher_and_uses_up_the_lower() -> None:
    m = MarketWideBreaker({1: 1}, {1: 10_000})
    [h] = m.on_trade(1, 8_600, 0)                     # 14 %: level 2
    assert "level 2" in h.reason
    m.on_time(h.until_ts_ns)
    assert m.on_trade(1, 9_250, h.until_ts_ns + 1) == []   # 7.5 %: level 1 already used
    assert m.levels_triggered() == [1, 2]


def test_after_the_cutoff_timed_levels_do_not_halt_but_level_3_does() -> None:
    m = MarketWideBreaker({1: 1}, {1: 10_000}, level12_cutoff_ts_ns=1_000, day_end_ts_ns=5_000)
    assert m.on_trade(1, 9_000, 1_000) == []          # 10 % at the cut-off: no halt (as after 15:25 ET)
    [h] = m.on_trade(1, 7_900, 2_000)                 # 21 %: level 3 until the configured day end
    assert h.until_ts_ns == 5_000


def test_configured_levels_and_durations() -> None:
    m = MarketWideBreaker({1: 1}, {1: 1_000}, levels_pct=(5, 10), halts_ns=(100, None))
    assert m.on_trade(1, 950, 0)[0].until_ts_ns == 100
    m.on_time(100)
    assert m.on_trade(1, 900, 101)[0].until_ts_ns is None


def test_index_moves_on_auction_events_and_ignores_unweighted_instruments() -> None:
    m = MarketWideBreaker({1: 1}, {1: 10_000}, instruments=[1, 2])
    assert m.feed_event(_event("TRADE", instrument_id=2, ts_ns=5, price=1, qty=1, aggressor_side=1)) == []
    acts = m.feed_event(_event("AUCTION", instrument_id=1, ts_ns=6, price=9_000, crossed=1))
    assert [a.instrument for a in acts] == [1, 2]     # a halt applies to every listed instrument
    assert m.feed_event(_event("AUCTION", instrument_id=1, ts_ns=7, price=1, crossed=0)) == []


@pytest.mark.parametrize("args,kwargs,message", [
    (({}, {}), {}, "weights must name at least one instrument"),
    (({1: 0}, {1: 5}), {}, "weight of instrument 1 must be a finite number > 0"),
    (({1: float("nan")}, {1: 5}), {}, "weight of instrument 1"),
    (({1: 1}, {}), {}, "previous_close lacks weighted instrument 1"),
    (({1: 1}, {1: 0}), {}, "previous close of 1 must be > 0"),
    (({1: 1}, {1: 5}), {"levels_pct": (13, 7, 20)}, "levels_pct must be increasing"),
    (({1: 1}, {1: 5}), {"levels_pct": (7, 13), "halts_ns": (1,)}, "one duration per level"),
    (({1: 1}, {1: 5}), {"halts_ns": (1, -1, None)}, r"halts_ns\[1\] must be > 0"),
    (({1: 1}, {1: 5}), {"instruments": [2]}, "weighted instruments missing"),
])
def test_market_wide_bad_config(args, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        MarketWideBreaker(*args, **kwargs)


# ---- determinism -----------------------------------------------------------------------------------


def _random_prints(seed: int) -> list[tuple[int, int, int]]:
    rng = random.Random(seed)
    prices = {1: 10_000, 2: 5_000}
    out, ts = [], 0
    for _ in range(3_000):
        inst = rng.choice((1, 2))
        prices[inst] = max(1, prices[inst] + rng.randint(-120, 100))
        ts += rng.randint(-5, 40) * NS_PER_S          # some prints stamped earlier than the last
        out.append((inst, prices[inst], max(ts, 0)))
    return out


def _run(prints):
    band = PriceBandBreaker(band_pct=4, halt_ns=5 * MIN, references={1: 10_000, 2: 5_000})
    mw = MarketWideBreaker({1: 2, 2: 1}, {1: 10_000, 2: 5_000}, halts_ns=(5 * MIN, 5 * MIN, None))
    return [(i, p, t, band.on_trade(i, p, t), mw.on_trade(i, p, t)) for i, p, t in prints]


def test_same_prints_give_the_same_actions() -> None:
    prints = _random_prints(11)
    first, second = _run(prints), _run(prints)
    assert first == second
    actions = [a for *_, band, mw in first for a in band + mw]
    assert sum(isinstance(a, Halt) for a in actions) >= 3 and any(isinstance(a, Reopen) for a in actions)


# ---- properties ------------------------------------------------------------------------------------

prints_strategy = st.lists(st.tuples(st.sampled_from([1, 2]), st.integers(1, 20_000), st.integers(0, 400)),
                           min_size=1, max_size=200)


@settings(max_examples=150, deadline=None)
@given(prints_strategy)
def test_band_halts_and_reopens_alternate_on_engine_time(prints) -> None:
    b = PriceBandBreaker(band_pct=10, halt_ns=1_000, references={1: 10_000, 2: 10_000})
    ts, open_until = 0, {}
    for inst, price, step in prints:
        ts += step
        for a in b.on_trade(inst, price, ts):
            if isinstance(a, Halt):
                assert a.instrument not in open_until and a.until_ts_ns == b.now + 1_000
                open_until[a.instrument] = a.until_ts_ns
            else:                                     # a Reopen: only of a halt, never early
                assert b.now >= open_until.pop(a.instrument)


@settings(max_examples=150, deadline=None)
@given(prints_strategy)
def test_market_wide_levels_fire_at_most_once_a_day_and_never_early(prints) -> None:
    m = MarketWideBreaker({1: 1, 2: 1}, {1: 10_000, 2: 10_000}, halts_ns=(500, 500, None))
    ts, levels, until = 0, [], None
    for inst, price, step in prints:
        ts += step
        acts = m.on_trade(inst, price, ts)
        reopens = [a for a in acts if isinstance(a, Reopen)]
        halts = [a for a in acts if isinstance(a, Halt)]
        if reopens:
            assert until is not None and m.now >= until and len(reopens) == 2
            until = None
        if halts:
            assert until is None and len(halts) == 2
            level = int(halts[0].reason.split("level ")[1][0])
            assert level not in levels and all(level > x for x in levels)
            levels.append(level)
            until = halts[0].until_ts_ns
            assert m.decline_pct() >= (7, 13, 20)[level - 1]
            if level == 3:
                assert until is None
