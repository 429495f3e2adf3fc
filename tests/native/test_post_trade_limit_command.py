"""SET_POST_TRADE_LIMIT: the engine validates, sequences and acknowledges a post-trade limit of an
account (evaluated by the control plane) and changes nothing else, on both implementations."""
from __future__ import annotations

from native.records import type_name
from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def test_a_post_trade_limit_is_acknowledged_and_changes_no_engine_state(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    eng.submit([s.limit(1, 1, BUY, 5, 9_990, account_id=1)])
    before = (eng.depth(1, BUY), eng.position(1, 1), eng.order(1))
    var = s.set_post_trade_limit(1, ENG.PTL_VAR, 2_500_000_000, instrument_id=3)
    kill = s.set_post_trade_limit(1, ENG.PTL_AUTO_KILL, 1)
    assert eng.submit([var, kill]) == [ev.ack(var), ev.ack(kill)]
    assert (eng.depth(1, BUY), eng.position(1, 1), eng.order(1)) == before
    sell = s.limit(1, 2, SELL, 5, 9_990, account_id=2)
    assert [type_name(e) for e in eng.submit([sell])][:2] == ["ACCEPTED", "TRADE"]


def test_bad_post_trade_limits_are_rejected_with_their_account(make_engine):
    eng, s = make_engine(max_accounts=8), CommandStream()
    eng.submit(opening(s))
    account = s.set_post_trade_limit(8, ENG.PTL_LOSS, 1)
    unknown = s.set_post_trade_limit(2, 0, 1)
    beyond = s.set_post_trade_limit(2, ENG.PTL_AUTO_KILL + 1, 1)
    negative = s.set_post_trade_limit(2, ENG.PTL_DRAWDOWN, -1)
    assert eng.submit([account, unknown, beyond, negative]) == [
        ev.rejected(account, ENG.REJ_BAD_ACCOUNT), ev.rejected(unknown, ENG.REJ_BAD_CONFIG),
        ev.rejected(beyond, ENG.REJ_BAD_CONFIG), ev.rejected(negative, ENG.REJ_BAD_CONFIG)]
