"""Random multi-venue books and venues for the router's tests (hypothesis strategies)."""
from __future__ import annotations

from hypothesis import strategies as st

from trading.routing.market import Level, MarketSnapshot, VenueBook
from trading.routing.venue import VenueProfile

TICK = 100           # $0.01 in price units
MID = 1_000_000      # $100.00


@st.composite
def venues(draw: st.DrawFn) -> list[VenueProfile]:
    n_lit = draw(st.integers(2, 4))
    n_dark = draw(st.integers(0, 2))
    out = []
    for k in range(n_lit + n_dark):
        avg = draw(st.integers(50_000, 2_000_000))
        out.append(VenueProfile.checked(
            venue_id=f"{'L' if k < n_lit else 'D'}{k}", kind="lit" if k < n_lit else "dark",
            # up to the 2005 cap: some above the 2024 cap, which the router must never pay
            taker_fee=draw(st.sampled_from([-0.0010, -0.0002, 0.0, 0.0005, 0.0009, 0.0010, 0.0011, 0.0020, 0.0030])),
            latency_avg_ns=avg, latency_p99_ns=avg * draw(st.integers(1, 10)),
            market_share=draw(st.floats(0.01, 1.0)), reliability=draw(st.floats(0.3, 1.0))))
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
def snapshots(draw: st.DrawFn, profiles: list[VenueProfile]) -> MarketSnapshot:
    books = []
    for v in profiles:
        if v.kind == "dark":
            books.append(VenueBook(venue_id=v.venue_id))
            continue
        best_bid = MID - TICK * draw(st.integers(1, 6))
        best_ask = MID + TICK * draw(st.integers(0, 6))   # a venue's ask may lock another's bid
        books.append(VenueBook(venue_id=v.venue_id, bids=draw(side_levels(best_bid, -TICK)),
                               asks=draw(side_levels(best_ask, TICK)), stale=draw(st.booleans()) and draw(st.booleans())))
    return MarketSnapshot(ts_ns=1_000, instrument_id=1, books=tuple(books))
