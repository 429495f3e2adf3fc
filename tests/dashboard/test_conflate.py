"""Conflation: a burst of 100,000 updates a second reaches a browser as at most refresh_hz
updates per panel per second, each the latest state, and a reconnecting browser catches up."""
from __future__ import annotations

import pytest

import numpy as np

from gateway.dashboard.conflate import Conflator


def test_a_burst_of_100k_puts_a_second_is_pushed_at_most_rate_hz_times_per_panel() -> None:
    hub = Conflator(rate_hz=4.0)
    pushes: dict[str, list[tuple[float, int]]] = {"books": [], "tape": []}
    now = 0.0
    for i in range(100_000):                   # one simulated second: a put every 10 us
        now = i * 1e-5
        hub.put("books" if i % 2 else "tape", i)
        if i % 1000 == 0:                      # the pusher looks every 10 ms
            for name, p in hub.due(now):
                pushes[name].append((now, p.state))
    for name, got in pushes.items():
        assert 1 <= len(got) <= 4, (name, len(got))          # 4/s
        times = [t for t, _ in got]
        assert all(b - a >= 0.25 - 1e-9 for a, b in zip(times, times[1:]))
    for name, p in hub.due(1.01):              # the interval after the burst: the last state
        pushes[name].append((1.01, p.state))
    for name, got in pushes.items():
        times = [t for t, _ in got]
        assert all(b - a >= 0.25 - 1e-9 for a, b in zip(times, times[1:]))
    assert pushes["books"][-1][1] == 99_999 and pushes["tape"][-1][1] == 99_998   # the latest wins


def test_a_change_inside_the_interval_is_pushed_at_its_end_not_lost() -> None:
    hub = Conflator(rate_hz=2.0)
    hub.put("alerts", "a")
    assert [p.state for _, p in hub.due(0.0)] == ["a"]
    hub.put("alerts", "b")
    assert hub.due(0.1) == []                  # too soon
    assert [p.state for _, p in hub.due(0.5)] == ["b"]
    assert hub.due(5.0) == []                  # nothing new: nothing pushed


def test_since_gives_a_reconnecting_browser_every_panel_newer_than_its_version() -> None:
    hub = Conflator(rate_hz=4.0)
    hub.put("books", 1)
    hub.put("tape", 1)
    seen = hub.version
    hub.put("tape", 2)
    hub.put("health", 1)
    assert sorted((n, p.state) for n, p in hub.since(seen)) == [("health", 1), ("tape", 2)]
    assert len(hub.since(0)) == 3


@pytest.mark.parametrize("rate", [0, -1, 1e9])
def test_a_rate_out_of_range_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        Conflator(rate)


def test_only_the_last_book_level_per_price_of_a_batch_is_decoded_and_the_ladder_is_the_same() -> None:
    """feeds.panel_rows against applying every event: the same ladders, trades and phases."""
    import random

    from gateway.dashboard.books import BooksAndTrades, InstrumentInfo
    from gateway.dashboard.feeds import panel_rows
    from native import records
    from native.engine import Engine
    from native.messages import AddInstrument, NewOrder, SetPhase
    rng = random.Random(5)
    cmds: list[object] = []
    for i, ref in ((1, 10000), (2, 5000)):
        cmds += [AddInstrument(instrument_id=i, tick_size=1, lot_size=1, reference_price=ref),
                 SetPhase(instrument_id=i, phase=1), SetPhase(instrument_id=i, phase=2)]
    for k in range(3000):
        ins, ref = ((1, 10000), (2, 5000))[k % 2]
        side = rng.choice((1, 2))
        taker = k % 5 == 4
        off = -4 if taker else rng.randint(1, 6)
        cmds.append(NewOrder(instrument_id=ins, order_id=k + 1, client_order_id=k + 1,
                             price=ref - off if side == 1 else ref + off, qty=rng.randint(1, 20), side=side,
                             ord_type=1, tif=4 if taker else 1, account_id=1))
    # The in-process engine takes commands as the sequencer leaves them: seq and ts_ns set.
    cmds = [c.__class__(**{**{f: getattr(c, f) for f in c.__struct_fields__}, "seq": n, "ts_ns": 1000 * n})  # type: ignore[attr-defined]
            for n, c in enumerate(cmds, start=1)]
    with Engine() as eng:
        out = eng.submit_records(records.encode_commands(cmds))   # type: ignore[arg-type]
    payloads = np.ascontiguousarray(out).view(np.uint8).reshape(-1, 96)
    types = {e["type"] for e in map(records.to_dict, records.decode_events(payloads))}
    assert {"TRADE", "BOOK_LEVEL", "PHASE"} <= types
    infos = [InstrumentInfo(1, "A", 1), InstrumentInfo(2, "B", 1)]
    every, fast = BooksAndTrades(infos), BooksAndTrades(infos)
    for ev in records.decode_events(payloads):
        every.apply(ev)
    decoded = 0
    for start in range(0, len(payloads), 512):
        batch = payloads[start:start + 512]
        rows = panel_rows(batch)
        decoded += len(rows)
        for ev in records.decode_events(batch[rows]):
            fast.apply(ev)
    assert decoded < len(payloads) / 2
    assert fast.books_panel()["instruments"][0]["bids"]            # a real ladder was compared
    assert fast.books_panel() == every.books_panel()
    assert fast.tape_panel() == every.tape_panel()
