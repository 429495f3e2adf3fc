"""Random multi-venue books and venues for the router's tests (hypothesis strategies)."""
from __future__ import annotations

from hypothesis import strategies as st

from trading.routing.market import Level, MarketSnapshot, VenueBook
from gateway.venues.config import VenueSpec
from trading.routing.venue import venue

TICK = 100           # $0.01 in price units
MID = 1_000_000      # $100.00


@st.composite
def venues(draw: st.DrawFn) -> list[VenueSpec]:
    n_lit = draw(st.integers(2, 4))
    n_dark = draw(st.integers(0, 2))
    out = []
    for k in range(n_lit + n_dark):
        avg = draw(st.integers(50, 2_000))
        out.append(venue(
            f"{'L' if k < n_lit else 'D'}{k}", kind="lit" if k < n_lit else "dark",
            # up to the 2005 cap (30 mils): some above the 2024 cap (10), which the router must never pay
            taker_fee_mils=draw(st.sampled_from([0.0, 2.0, 5.0, 9.0, 10.0, 11.0, 20.0, 30.0])),
            avg_us=avg, p99_us=avg * draw(st.integers(1, 10)),
            market_share=draw(st.floats(0.01, 1.0)), reliability=draw(st.floats(0.3, 1.0)),
            maker_rebate_mils=draw(st.sampled_from([-3.0, 0.0, 2.0, 8.0]))))
    return out


@st.composite
def side_levels(draw: st.DrawFn, best: int, step: int) -> tuple[Level, ...]:
    n = draw(st.integers(0, 6))
    price, out = best, []
    for _ in range(n):
        out.append(Level(price, draw(st.integers(1, 30)) * 10))
        price += step * draw(st.integers(1, 3))
    return tuple(out)


@st.composite
def snapshots(draw: st.DrawFn, profiles: list[VenueSpec]) -> MarketSnapshot:
    books = []
    for v in profiles:
        if v.type == "dark":
            books.append(VenueBook(venue_id=v.id))
            continue
        best_bid = MID - TICK * draw(st.integers(1, 6))
        best_ask = MID + TICK * draw(st.integers(0, 6))   # a venue's ask may lock another's bid
        books.append(VenueBook(venue_id=v.id, bids=draw(side_levels(best_bid, -TICK)),
                               asks=draw(side_levels(best_ask, TICK)), stale=draw(st.booleans()) and draw(st.booleans())))
    return MarketSnapshot(ts_ns=1_000, instrument_id=1, books=tuple(books))
