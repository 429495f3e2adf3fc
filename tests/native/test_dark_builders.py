"""native/dark.py: the named builders give the commands ENGINE.md specifies (MAQ in display_qty,
limit 0 = none), and a dark venue driven only through them trades at the midpoint."""
from __future__ import annotations

from native.dark import dark_instrument, midpoint_peg, nbbo
from native.engine import Engine
from native.messages import (AcceptedEvent, CancelledEvent, OrdType, Phase, Reason, SetPhase, Side, Tif,
                             TradeEvent, VenueMode)


def test_a_dark_venue_driven_through_the_builders_trades_at_the_midpoint() -> None:
    eng = Engine(max_orders=64, max_levels=16, max_instruments=1, max_accounts=4)
    cmds = [dark_instrument(1, tick_size=100, lot_size=1, reference_price=1_000_000, nbbo_max_age_ns=10**9),
            SetPhase(instrument_id=1, phase=int(Phase.PRE_OPEN)),
            SetPhase(instrument_id=1, phase=int(Phase.CONTINUOUS)),
            nbbo(1, bid_price=1_000_000, ask_price=1_000_100, bid_qty=300, ask_qty=200, quote_ts_ns=5),
            midpoint_peg(1, 1, side=Side.SELL, qty=500, account_id=1, min_qty=200),
            midpoint_peg(1, 2, side=Side.BUY, qty=100, account_id=2, tif=Tif.IOC),
            midpoint_peg(1, 3, side=Side.BUY, qty=300, account_id=3, limit_price=1_000_100)]
    cmds = [c.__class__(**{**{f: getattr(c, f) for f in c.__struct_fields__}, "seq": i + 1, "ts_ns": 10})
            for i, c in enumerate(cmds)]
    events = eng.submit(cmds)
    accepted = [e for e in events if isinstance(e, AcceptedEvent)]
    assert [(a.ord_type, a.display_qty, a.price) for a in accepted] == [
        (OrdType.MIDPOINT_PEG, 200, 0), (OrdType.MIDPOINT_PEG, 0, 0), (OrdType.MIDPOINT_PEG, 0, 1_000_100)]
    [cancel] = [e for e in events if isinstance(e, CancelledEvent)]
    assert (cancel.order_id, cancel.reason) == (2, Reason.CXL_IOC_REMAINDER)  # 100 is below the MAQ
    [trade] = [e for e in events if isinstance(e, TradeEvent)]
    assert (trade.buy_order_id, trade.sell_order_id, trade.price, trade.qty) == (3, 1, 1_000_050, 300)
    info = eng.instrument(1)
    assert info is not None and info["venue_mode"] == VenueMode.DARK_MIDPOINT and info["nbbo_quote_ts_ns"] == 5
