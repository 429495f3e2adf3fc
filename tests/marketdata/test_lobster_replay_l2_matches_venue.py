"""A LOBSTER sample (real Nasdaq order flow) replayed through the venue: the Level 2 book the
subscriber rebuilds from the feed equals the venue's own book at every step.

Replay rules (shared/data/README.md): orderbook row 1 seeds the book (one order per level), then
each message row becomes a venue command: 1 new limit order, 2 partial cancel (a REPLACE reducing
the order), 3 delete (CANCEL), 4 visible execution (an IOC order from the other side at that
price), 5/6/7 no visible change. Events about orders not in the file reduce the seed order of their
level, as LOBSTER's own book does."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.marketdata.session import Venue, book_mismatches, command_records
from tests.native.streams import CommandStream
from tests.oracle import ENG

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
AAPL = "AAPL_2012-06-21_34200000_57600000_{}_10_first999.csv"
SEED_ID_BASE = 10**12


def _rows(name: str) -> list[list[str]]:
    with open(DATA / name, newline="") as f:
        return [r for r in csv.reader(f) if r]


@pytest.mark.skipif(not (DATA / AAPL.format("message")).exists(), reason=f"LOBSTER sample not found under {DATA}")
def test_lobster_aapl_replay_subscriber_l2_equals_venue_book_every_step() -> None:
    messages = _rows(AAPL.format("message"))
    book0 = [int(x) for x in _rows(AAPL.format("orderbook"))[0]]
    venue = Venue("udp", max_instruments=1, max_levels=2000)
    s = CommandStream()
    live: dict[int, tuple[int, int, int]] = {}        # order id -> (side, price, leaves)
    seed_at: dict[tuple[int, int], tuple[int, int]] = {}  # (side, price) -> (seed id, leaves)
    cmds = [s.add_instrument(1, tick_size=100, lot_size=1, reference_price=book0[2], market_collar_ticks=10**6),
            s.set_phase(1, ENG.PHASE_PRE_OPEN)]
    for k in range(10):
        ask_p, ask_q, bid_p, bid_q = book0[4 * k:4 * k + 4]
        for side, p, q in ((ENG.SIDE_SELL, ask_p, ask_q), (ENG.SIDE_BUY, bid_p, bid_q)):
            if q > 0 and abs(p) != 9999999999:
                oid = SEED_ID_BASE + len(seed_at) + 1
                seed_at[(side, p)] = (oid, q)
                cmds.append(s.limit(1, oid, side, q, p))
    cmds.append(s.set_phase(1, ENG.PHASE_CONTINUOUS))
    try:
        sub = venue.subscriber()
        venue.step(command_records(cmds))
        venue.sync(sub)
        steps = unknown = 0
        next_taker = 5 * 10**11
        for row in messages[1:]:
            kind, oid, size, price, direction = int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5])
            side = ENG.SIDE_BUY if direction == 1 else ENG.SIDE_SELL
            batch = []
            if kind == 1:
                batch.append(s.limit(1, oid, side, size, price))
                live[oid] = (side, price, size)
            elif kind in (2, 3):
                target = oid if oid in live else None
                if target is None:
                    unknown += 1
                    seed = seed_at.get((side, price))
                    if seed is None:
                        continue
                    target = seed[0]
                    left = seed[1] - size if kind == 2 else 0
                    seed_at[(side, price)] = (seed[0], max(left, 0))
                    batch.append(s.replace(1, target, price, left) if left > 0 else s.cancel(1, target))
                else:
                    left = live[oid][2] - size if kind == 2 else 0
                    batch.append(s.replace(1, target, price, left) if left > 0 else s.cancel(1, target))
                    if left > 0:
                        live[oid] = (side, price, left)
                    else:
                        live.pop(oid)
            elif kind == 4:
                next_taker += 1
                taker_side = ENG.SIDE_SELL if side == ENG.SIDE_BUY else ENG.SIDE_BUY
                batch.append(s.limit(1, next_taker, taker_side, size, price, tif=ENG.TIF_IOC))
                if oid in live:
                    sd, p, q = live[oid]
                    if q - size > 0:
                        live[oid] = (sd, p, q - size)
                    else:
                        live.pop(oid)
            if not batch:
                continue
            venue.step(command_records(batch))
            venue.sync(sub)
            diff = book_mismatches(venue.engine, sub.book, [1])
            assert not diff, f"LOBSTER row {steps + 2}: {diff}"
            steps += 1
        print(f"LOBSTER AAPL: {steps} steps compared, {unknown} events on orders from before the window")
        assert steps > 900
        assert venue.publisher.stats()["level_mismatches"] == 0
    finally:
        venue.close()
