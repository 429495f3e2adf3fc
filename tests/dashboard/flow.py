"""A replayed load for the dashboard tests: a seeded order flow submitted straight to the engine
through a producer slot (makers on both sides of each instrument's reference, takers crossing),
fast enough to make thousands of events a second on this host."""
from __future__ import annotations

import random

from native import records
from native.messages import NewOrder
from shm.client import EngineClient

from native.messages import OrdType, Side, Tif

BUY, SELL, LIMIT, DAY, IOC = int(Side.BUY), int(Side.SELL), int(OrdType.LIMIT), int(Tif.DAY), int(Tif.IOC)


def replay_burst(venue: str, orders: int, seed: int = 7, first_id: int = 8_000_000_000,
                 instruments: tuple[tuple[int, int, int], ...] = ((1, 10000, 1), (2, 5000, 5), (3, 1000, 1)),
                 accounts: tuple[int, int] = (3, 4)) -> int:
    """Submits `orders` orders, encoded before the first is sent (so the burst runs at the speed
    of the rings, not of building messages in Python), in batches of 2000; returns how many were
    takers. instruments: (id, reference price, tick)."""
    rng = random.Random(seed)
    cmds: list[NewOrder] = []
    takers = 0
    for k in range(orders):
        ins, ref, tick = instruments[k % len(instruments)]
        oid = first_id + k
        if k % 5 == 4:                      # a taker crossing a few levels
            side = rng.choice((BUY, SELL))
            price = ref + (6 if side == BUY else -6) * tick
            cmds.append(NewOrder(instrument_id=ins, order_id=oid, client_order_id=oid, price=price,
                                 qty=rng.randint(1, 30), side=side, ord_type=LIMIT, tif=IOC,
                                 account_id=accounts[1]))
            takers += 1
        else:
            side = rng.choice((BUY, SELL))
            off = rng.randint(1, 8) * tick
            price = ref - off if side == BUY else ref + off
            cmds.append(NewOrder(instrument_id=ins, order_id=oid, client_order_id=oid, price=price,
                                 qty=rng.randint(1, 40), side=side, ord_type=LIMIT, tif=DAY,
                                 account_id=accounts[0]))
    encoded = records.encode_commands(cmds)
    with EngineClient(venue) as eng:
        for start in range(0, len(encoded), 2000):
            eng.submit_records(encoded[start:start + 2000])
    return takers
