"""Builders for the commands of a dark midpoint venue (native/ENGINE.md "Dark midpoint instruments"),
so that callers (the multi-venue launcher, the SIP feeding the NBBO, the order router) name the
dark fields instead of knowing where the layout keeps them: a midpoint peg's minimum acceptable
quantity travels in NewOrder.display_qty, and 0 as a peg's price means "no limit".

They only build Structs; the engine validates them and answers a bad value with a REJECTED event
and its reason (BAD_CONFIG, BAD_NBBO, NBBO_OUT_OF_ORDER, BAD_MIN_QTY, DARK_ORDER_TYPE, ...).
"""
from __future__ import annotations

from native.messages import AddInstrument, Nbbo, NewOrder, OrdType, StpMode, Tif, VenueMode


def dark_instrument(instrument_id: int, *, tick_size: int, lot_size: int, reference_price: int,
                    nbbo_max_age_ns: int) -> AddInstrument:
    """ADD_INSTRUMENT in venue mode DARK_MIDPOINT. tick_size must be even (every midpoint is then a
    whole price unit); an NBBO older than nbbo_max_age_ns (engine time) stops all trading."""
    return AddInstrument(instrument_id=instrument_id, tick_size=tick_size, lot_size=lot_size,
                         reference_price=reference_price, venue_mode=int(VenueMode.DARK_MIDPOINT),
                         nbbo_max_age_ns=nbbo_max_age_ns)


def nbbo(instrument_id: int, *, bid_price: int, ask_price: int, bid_qty: int, ask_qty: int,
         quote_ts_ns: int) -> Nbbo:
    """The reference NBBO as a command. A price of 0 is an empty side. quote_ts_ns is when the
    consolidator built the quote, in the sequencer's clock (time.monotonic_ns() on the live
    path); the engine refuses one later than its own stamp or older than the quote it holds."""
    return Nbbo(instrument_id=instrument_id, bid_price=bid_price, ask_price=ask_price,
                bid_qty=bid_qty, ask_qty=ask_qty, quote_ts_ns=quote_ts_ns)


def midpoint_peg(instrument_id: int, order_id: int, *, side: int, qty: int, account_id: int,
                 limit_price: int = 0, min_qty: int = 0, tif: int = Tif.GTC, client_order_id: int = 0,
                 expire_ts_ns: int = 0, stp_group: int = 0) -> NewOrder:
    """A MIDPOINT_PEG order: trades only at the NBBO midpoint, never displayed. limit_price 0: no
    limit (a buy trades while mid <= limit, a sell while mid >= limit); min_qty: the least quantity
    each single execution may have (capped at the order's leaves; 0: none). TIF DAY, GTC, GTD
    (with expire_ts_ns) or IOC; orders of one non-zero stp_group never trade with each other."""
    return NewOrder(instrument_id=instrument_id, order_id=order_id, client_order_id=client_order_id,
                    price=limit_price, qty=qty, display_qty=min_qty, expire_ts_ns=expire_ts_ns,
                    account_id=account_id, stp_group=stp_group, side=side,
                    ord_type=int(OrdType.MIDPOINT_PEG), tif=int(tif), stp_mode=int(StpMode.NONE))
