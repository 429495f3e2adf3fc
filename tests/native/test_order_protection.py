"""Rule 611 order protection in the engine (ENGINE.md "Order protection"): the C engine against the
Python oracle on random protected streams, the property that no protected execution is at a price
worse than the protected quote held at that moment, and the worked scenarios of each outcome."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from native.messages import NewOrder, Nbbo, RejectedEvent, Replace, SetOrderProtection, TradeEvent, CancelledEvent
from tests.native.protect_streams import protect_streams, seeded_protect_stream
from tests.native.streams import N_ACCOUNTS, CommandStream, EngineConfig, opening
from tests.native.test_differential import run_both
from tests.oracle import ENG

LONG_SEED = 20_261_208
CONFIG = EngineConfig(1000, 1000, 3, N_ACCOUNTS)


@settings(max_examples=200, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(cmds=protect_streams())
def test_c_engine_equals_the_oracle_on_random_protected_streams(c_engine_class, cmds):
    run_both(c_engine_class, CONFIG, cmds, batch=5)


def test_c_engine_equals_the_oracle_on_a_long_protected_stream(c_engine_class):
    run_both(c_engine_class, CONFIG, seeded_protect_stream(LONG_SEED, 8_000), batch=100)


def _through(side: int, price: int, protected: int) -> bool:
    return price > protected if side == ENG.SIDE_BUY else price < protected


def _check_no_trade_through(engine, cmds) -> tuple[int, int]:
    """Submits one command at a time; every trade whose aggressor is a non-ISO order must be at the
    protected price or better (the NBBO held, when protection is on). Returns (protected trades
    checked, ISO trades through)."""
    mode = {}
    nbbo = {}
    flags = {}
    checked = iso_through = 0
    for cmd in cmds:
        if isinstance(cmd, NewOrder):
            flags.setdefault(cmd.order_id, cmd.flags)
        events = engine.submit([cmd])
        accepted = not any(isinstance(e, RejectedEvent) for e in events)
        if isinstance(cmd, SetOrderProtection) and accepted:
            mode[cmd.instrument_id] = cmd.mode
        if isinstance(cmd, Nbbo) and accepted:
            nbbo[cmd.instrument_id] = (cmd.bid_price, cmd.ask_price)
        for ev in events:
            if not isinstance(ev, TradeEvent) or ev.aggressor_side == ENG.SIDE_NONE:
                continue
            inst = ev.instrument_id
            if mode.get(inst, ENG.PROTECT_OFF) == ENG.PROTECT_OFF or inst not in nbbo:
                continue
            aggressor = ev.buy_order_id if ev.aggressor_side == ENG.SIDE_BUY else ev.sell_order_id
            protected = nbbo[inst][1] if ev.aggressor_side == ENG.SIDE_BUY else nbbo[inst][0]
            if protected == 0:
                continue
            if flags.get(aggressor, 0) & ENG.FLAG_ISO:
                iso_through += _through(ev.aggressor_side, ev.price, protected)
                continue
            assert not _through(ev.aggressor_side, ev.price, protected), \
                f"order {aggressor} traded {ev.qty} @ {ev.price} through the protected {protected}"
            checked += 1
    return checked, iso_through


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(cmds=protect_streams())
def test_no_protected_execution_trades_through(c_engine_class, cmds):
    engine = c_engine_class(max_orders=1000, max_levels=1000, max_instruments=3, max_accounts=N_ACCOUNTS)
    _check_no_trade_through(engine, cmds)


def test_the_long_stream_exercises_every_protection_outcome(c_engine_class):
    """Guards the generator: protected trades happen, ISOs do trade through, and every Reg NMS
    refusal and cancel occurs, so the comparisons above mean something."""
    cmds = seeded_protect_stream(LONG_SEED, 8_000)
    engine = c_engine_class(max_orders=1000, max_levels=1000, max_instruments=3, max_accounts=N_ACCOUNTS)
    checked, iso_through = _check_no_trade_through(engine, cmds)
    engine2 = c_engine_class(max_orders=1000, max_levels=1000, max_instruments=3, max_accounts=N_ACCOUNTS)
    reasons = {e.reason for e in engine2.submit(cmds)}
    assert checked > 100 and iso_through > 0
    assert {ENG.REJ_REGNMS_TRADE_THROUGH, ENG.REJ_REGNMS_LOCK_CROSS, ENG.REJ_REGNMS_BAD_ISO,
            ENG.CXL_REGNMS_TRADE_THROUGH, ENG.CXL_REGNMS_LOCK_CROSS, ENG.REJ_BAD_CONFIG,
            ENG.REJ_REGNMS_SUB_PENNY, ENG.REJ_OFF_TICK} <= reasons


def _scenario(c_engine_class, mode: int):
    s = CommandStream()
    engine = c_engine_class(max_orders=100, max_levels=100, max_instruments=2, max_accounts=4)
    engine.submit(opening(s, 1, tick_size=1, reference_price=10_000))
    engine.submit([s.limit(1, 1, ENG.SIDE_SELL, 100, 10_001, account_id=1),
                   s.limit(1, 2, ENG.SIDE_SELL, 100, 10_003, account_id=1),
                   s.raw("SET_ORDER_PROTECTION", 1, mode=mode),
                   s.nbbo(1, 9_998, 10_002)])          # another venue offers at 10_002
    return s, engine


def test_reject_mode_refuses_an_order_that_would_trade_through(c_engine_class):
    s, engine = _scenario(c_engine_class, ENG.PROTECT_REJECT)
    ev = engine.submit([s.limit(1, 10, ENG.SIDE_BUY, 150, 10_003, tif=ENG.TIF_IOC, account_id=2)])
    assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_REGNMS_TRADE_THROUGH)]
    # at or inside the protected offer it trades as usual
    ev = engine.submit([s.limit(1, 11, ENG.SIDE_BUY, 50, 10_002, tif=ENG.TIF_IOC, account_id=2)])
    assert [(e.price, e.qty) for e in ev if isinstance(e, TradeEvent)] == [(10_001, 50)]
    # a DAY bid at 10_002 that would rest locking the protected offer is refused (Rule 610(d))
    ev = engine.submit([s.limit(1, 12, ENG.SIDE_BUY, 100, 10_002, account_id=2)])
    assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_REGNMS_LOCK_CROSS)]
    # an intermarket sweep order takes the book through the protected price
    ev = engine.submit([s.limit(1, 13, ENG.SIDE_BUY, 150, 10_003, tif=ENG.TIF_IOC, account_id=2,
                                flags=ENG.FLAG_ISO)])
    assert [(e.price, e.qty) for e in ev if isinstance(e, TradeEvent)] == [(10_001, 50), (10_003, 100)]
    ev = engine.submit([s.limit(1, 14, ENG.SIDE_BUY, 10, 10_003, account_id=2, flags=ENG.FLAG_ISO)])
    assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_REGNMS_BAD_ISO)]


def test_route_away_mode_executes_up_to_the_protected_price_and_returns_the_rest(c_engine_class):
    s, engine = _scenario(c_engine_class, ENG.PROTECT_ROUTE_AWAY)
    ev = engine.submit([s.limit(1, 10, ENG.SIDE_BUY, 150, 10_003, account_id=2)])
    assert [(e.price, e.qty) for e in ev if isinstance(e, TradeEvent)] == [(10_001, 100)]
    cancels = [e for e in ev if isinstance(e, CancelledEvent)]
    assert [(c.reason, c.cancelled_qty) for c in cancels] == [(ENG.CXL_REGNMS_TRADE_THROUGH, 50)]
    # the other venue's offer goes; the same order would now trade at 10_003
    engine.submit([s.nbbo(1, 9_998, 10_004)])
    ev = engine.submit([s.limit(1, 11, ENG.SIDE_BUY, 50, 10_003, tif=ENG.TIF_IOC, account_id=2)])
    assert [(e.price, e.qty) for e in ev if isinstance(e, TradeEvent)] == [(10_003, 50)]
    # a replace that would cross the protected offer is cancelled, not rested locking it
    engine.submit([s.nbbo(1, 9_998, 10_002), s.limit(1, 12, ENG.SIDE_BUY, 10, 9_990, account_id=2)])
    ev = engine.submit([s.replace(1, 12, 10_002, 10)])
    assert [(c.reason, c.cancelled_qty) for c in ev if isinstance(c, CancelledEvent)] == \
        [(ENG.CXL_REGNMS_LOCK_CROSS, 10)]


def test_rule_612_grid_answers_sub_penny_not_off_tick(c_engine_class):
    """Rule 612 at the venue (the consolidator sends each lit instrument its grid with the
    protection mode): a price at or above $1.00 off the penny grid is refused with
    ENG_REJ_REGNMS_SUB_PENNY (601); off the instrument's own tick only (below $1.00 here, where
    Rule 612 allows $0.0001), it stays ENG_REJ_OFF_TICK (102); replaces alike; the oracle agrees."""
    from tests.native.test_differential import run_both
    s = CommandStream()
    engine = c_engine_class(max_orders=100, max_levels=100, max_instruments=2, max_accounts=4)
    cmds = opening(s, 1, tick_size=100, reference_price=1_000_000) + [
        s.raw("SET_ORDER_PROTECTION", 1, mode=ENG.PROTECT_REJECT, sub_penny_from=10_000, sub_penny_increment=100)]
    engine.submit(cmds)
    ev = engine.submit([s.limit(1, 1, ENG.SIDE_BUY, 10, 1_000_050, account_id=1)])      # $100.005
    assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_REGNMS_SUB_PENNY)]
    ev = engine.submit([s.limit(1, 2, ENG.SIDE_BUY, 10, 9_950, account_id=1)])          # $0.995: not sub-penny
    assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_OFF_TICK)]
    engine.submit([s.limit(1, 3, ENG.SIDE_BUY, 10, 999_900, account_id=1)])
    ev = engine.submit([s.replace(1, 3, 999_950, 10)])
    assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_REGNMS_SUB_PENNY)]
    for bad in ((0, 100), (10_000, 0), (-1, 100)):
        ev = engine.submit([s.raw("SET_ORDER_PROTECTION", 1, mode=ENG.PROTECT_REJECT, sub_penny_from=bad[0],
                                  sub_penny_increment=bad[1])])
        assert [(type(e), e.reason) for e in ev] == [(RejectedEvent, ENG.REJ_BAD_CONFIG)], bad
    run_both(c_engine_class, CONFIG, cmds + [s.limit(1, 4, ENG.SIDE_SELL, 5, 1_000_150, account_id=2),
                                             s.limit(1, 5, ENG.SIDE_SELL, 5, 1_000_200, account_id=2),
                                             s.limit(1, 6, ENG.SIDE_BUY, 5, 9_950, account_id=1)], batch=1)
