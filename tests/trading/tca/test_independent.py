"""The batch measures against an independent, slow computation on a random seeded flow.

Independent in what matters: the quote at each order's arrival comes from querying a second,
in-process engine's book (eng_book_depth) just before the order's command is submitted, not from
rebuilding BOOK_LEVEL events; the fills come from that engine's own event buffer; the sums are
plain Python loops over fills. The analysis reads the journal written by journal_build instead.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from gateway.enginehost import journal
from native import records
from native._venue import ffi, lib
from trading.tca import codes
from trading.tca.analysis import analyze
from trading.tca.journal_build import DEFAULT_LIMITS, write_journal
from trading.tca.reference import FeeSchedule, Reference
from trading.tca.tape import load_tape

T0 = 1_765_000_000_000_000_000


def _flow(seed: int, n: int) -> list[dict[str, int | str]]:
    rng = random.Random(seed)
    cmds: list[dict[str, int | str]] = []
    for iid in (1, 2):
        cmds += [{"type": "ADD_INSTRUMENT", "instrument_id": iid, "tick_size": 1, "lot_size": 1,
                  "reference_price": 10_000, "market_collar_ticks": 50},
                 {"type": "SET_PHASE", "instrument_id": iid, "phase": codes.PHASE_PRE_OPEN},
                 {"type": "SET_PHASE", "instrument_id": iid, "phase": codes.PHASE_CONTINUOUS}]
    ts = T0
    live: list[tuple[int, int]] = []
    for i in range(n):
        ts += rng.randrange(1, 400_000_000)
        oid = 100 + i
        iid = rng.choice((1, 2))
        r = rng.random()
        if r < 0.15 and live:
            k = rng.randrange(len(live))
            cmds.append({"type": "CANCEL", "instrument_id": live[k][0], "order_id": live.pop(k)[1], "ts_ns": ts})
            continue
        side = rng.choice((codes.SIDE_BUY, codes.SIDE_SELL))
        if r < 0.3:
            cmds.append({"type": "NEW_ORDER", "instrument_id": iid, "order_id": oid, "qty": rng.randrange(1, 30),
                         "side": side, "ord_type": codes.ORD_MARKET, "tif": codes.TIF_IOC,
                         "account_id": rng.randrange(6), "ts_ns": ts})
        else:
            cmds.append({"type": "NEW_ORDER", "instrument_id": iid, "order_id": oid,
                         "price": 10_000 + rng.randrange(-6, 7), "qty": rng.randrange(1, 30), "side": side,
                         "ord_type": codes.ORD_LIMIT, "tif": codes.TIF_DAY, "account_id": rng.randrange(6),
                         "ts_ns": ts})
            live.append((iid, oid))
    for i, c in enumerate(cmds):
        c["seq"] = i + 1
        c.setdefault("ts_ns", T0)
    return cmds


def _best(eng: object, iid: int, side: int) -> int:
    out = ffi.new("eng_level_info_t[1]")
    n = lib.eng_book_depth(eng, iid, side, out, 1)
    return int(out[0].price) if n > 0 and out[0].qty > 0 else 0


@pytest.mark.parametrize("seed", [3, 11])
def test_measures_match_a_direct_computation(tmp_path: Path, seed: int) -> None:
    cmds = _flow(seed, 1500)
    write_journal(str(tmp_path / "j"), [records.command_from_dict(c) for c in cmds])
    ref = Reference(price_scale=10_000, fees=FeeSchedule(0.003, -0.002, 0.001))
    an = analyze(load_tape(str(tmp_path / "j")), ref)

    # the direct computation: submit command by command, asking the book before each new order
    eng = journal.create_engine(DEFAULT_LIMITS)
    arrival: dict[tuple[int, int], tuple[int, int]] = {}       # (order id, seq) -> (bid, ask)
    order_of: dict[int, tuple[int, int]] = {}                  # live order id -> key
    side_of: dict[tuple[int, int], int] = {}
    cost: dict[tuple[int, int], float] = {}                    # s q (p - m0), engine units x qty
    fees: dict[tuple[int, int], float] = {}
    filled: dict[tuple[int, int], int] = {}
    mids: dict[int, list[tuple[int, float]]] = {1: [], 2: []}   # after each command: (ts, mid)
    fills: list[tuple[int, int, int, int]] = []                # (instrument, ts, side, price) per fill row
    done = ffi.new("size_t *")
    try:
        for c in cmds:
            rec = records.encode_commands([records.command_from_dict(c)])
            if c["type"] == "NEW_ORDER":
                key = (int(c["order_id"]), int(c["seq"]))
                iid = int(c["instrument_id"])
                arrival[key] = (_best(eng, iid, codes.SIDE_BUY), _best(eng, iid, codes.SIDE_SELL))
            lib.eng_clear_events(eng)
            assert lib.eng_submit(eng, ffi.cast("eng_cmd_t *", ffi.from_buffer(rec)), 1, done) == 0
            count = ffi.new("size_t *")
            ptr = lib.eng_events(eng, count)
            raw = np.frombuffer(ffi.buffer(ptr, 96 * count[0]), dtype=np.uint8).copy()
            evs = [records.to_dict(e) for e in records.decode_events(raw)]
            for e in evs:
                if e["type"] == "ACCEPTED":
                    k = (int(e["order_id"]), int(e["seq"]))
                    order_of[int(e["order_id"])] = k
                    side_of[k] = 1 if e["side"] == codes.SIDE_BUY else -1
                elif e["type"] == "TRADE":
                    for oid, s, me in ((e["buy_order_id"], 1, codes.SIDE_BUY), (e["sell_order_id"], -1, codes.SIDE_SELL)):
                        k = order_of[int(oid)]
                        bid, ask = arrival[k]
                        q, p = int(e["qty"]), int(e["price"])
                        if bid and ask:
                            cost[k] = cost.get(k, 0.0) + s * q * (p - (bid + ask) / 2)
                        per = 0.003 if e["aggressor_side"] == me else -0.002
                        fees[k] = fees.get(k, 0.0) + per * q
                        filled[k] = filled.get(k, 0) + q
                        fills.append((int(e["instrument_id"]), int(e["ts_ns"]), s, p))
            if c["type"] != "ADD_INSTRUMENT" and int(c["instrument_id"]) in mids:
                iid = int(c["instrument_id"])
                b, a = _best(eng, iid, codes.SIDE_BUY), _best(eng, iid, codes.SIDE_SELL)
                mids[iid].append((int(c["ts_ns"]), (b + a) / 2 if b and a else float("nan")))
    finally:
        lib.eng_destroy(eng)

    o, t = an.tape.orders, an.order_table
    assert len(o) == len(side_of)
    checked = 0
    for r in range(len(o)):
        k = (int(o["order_id"][r]), int(o["accept_seq"][r]))
        bid, ask = arrival[k]
        assert (int(o["bid0"][r]), int(o["ask0"][r])) == (bid, ask), k
        assert int(t["filled"][r]) == filled.get(k, 0)
        assert float(t["fees"][r]) == pytest.approx(fees.get(k, 0.0), abs=1e-9)
        if k in cost:
            parts = float(t["timing"][r] + t["half_spread"][r] + t["impact"][r])
            assert parts == pytest.approx(cost[k] / 10_000, abs=1e-9), k
            checked += 1
    assert checked > 100

    # 1 s markouts, by a linear scan for the last command stamped <= t + 1 s; none where t + 1 s is
    # past the day's last command (the day never reached that time)
    got = an.fills.markout_bps[1_000_000_000]
    assert len(got) == len(fills)
    last = max(t_c for series in mids.values() for t_c, _ in series)
    for j, (iid, ts, s, p) in enumerate(fills):
        mid = float("nan")
        if ts + 1_000_000_000 > last:
            assert got[j] != got[j], j
            continue
        for t_c, m in mids[iid]:
            if t_c > ts + 1_000_000_000:
                break
            mid = m
        want = s * (mid - p) / p * 1e4
        assert (got[j] == pytest.approx(want, abs=1e-9)) if want == want else got[j] != got[j], j
