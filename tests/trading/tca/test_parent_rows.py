"""An execution algorithm's child orders are one parent in TCA (issue 23): a TWAP parent added
through the control plane of a venue run by ``python -m gateway up`` (journal on) works its order
as several child orders; each child carries the desk's parent id in the high 32 bits of its
client_order_id (trading/execution/parent_ids.py), so the analysis of the venue's journal has one
parent row for all of them, with the parent's implementation-shortfall decomposition, and the same
row again when the command journal is replayed through a fresh engine (journal_build). A parent
executed in the replay runtime (trading/replay, on the LOBSTER sample) is one parent row too."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gateway.enginehost import journal
from trading.execution.parent_ids import child_client_order_id, child_number, parent_of
from trading.tca.analysis import analyze, summarize
from trading.tca.journal_build import write_journal
from trading.tca.reference import Reference
from trading.tca.tape import load_tape

REF = Reference(venue_name="CP", venue_mic="XCPV")
PARENT_COLUMNS = ("account", "instrument", "parent_id", "side", "children", "x", "x_exec", "p_arrival", "p_close",
                  "delay", "timing", "half_spread", "impact", "opportunity", "fees", "shortfall", "paper")


def test_child_client_order_ids_name_their_parent() -> None:
    assert child_client_order_id(7, 3) == 7 << 32 | 3 and parent_of(child_client_order_id(7, 3)) == 7
    for parent, child in ((0, 1), (1 << 32, 1), (1, 0), (1, 1 << 32), (-1, 1)):
        with pytest.raises(ValueError):
            child_client_order_id(parent, child)
    # each launch numbers its children in a block of its own, never 0, always below 2^32
    assert [child_number(0, 1), child_number(1, 1), child_number(2, 5)] == [1, (1 << 24) + 1, (2 << 24) + 5]
    assert child_number(257, 1) == child_number(1, 1) and child_number(255, 1 << 24) < 1 << 32
    assert child_number(3, 1 << 24) == child_number(3, 1)
    for bad in ((-1, 1), (0, 0)):
        with pytest.raises(ValueError):
            child_number(*bad)


def test_a_routed_parents_sessions_number_their_orders_as_its_children() -> None:
    from trading.execution.parent import ParentOrderRefused
    from trading.execution.routed_live import first_client_order_id
    from trading.execution.strategy import ExecutionStrategy
    first = first_client_order_id(ExecutionStrategy(parent_id=12, id_block=3))
    assert parent_of(first) == 12 and first & 0xFFFFFFFF == (3 << 24) + 1
    assert parent_of(first + 999) == 12          # the session counts up from it: still the parent's
    with pytest.raises(ParentOrderRefused, match="parent_id"):
        first_client_order_id(ExecutionStrategy(parent_id=0))


def _parent_row(jdir: str) -> tuple[dict[str, float], int, np.ndarray]:
    an = analyze(load_tape(jdir), REF)
    par = an.parent_table
    algo = np.flatnonzero(par["parent_id"] > 0)
    assert len(algo) == 1, f"one algorithm parent expected, found {len(algo)}"
    k = int(algo[0])
    row = {c: float(par[c][k]) for c in PARENT_COLUMNS}
    kids = an.tape.orders["account"] == 1
    assert (an.order_table["parent"][kids] == k).all()      # every order of the parent's account is its child
    summary = summarize(an, "parent", order_mask=kids)
    assert len(summary) == 1 and summary[0].key.endswith(f":P{int(row['parent_id'])}")
    return row, int(kids.sum()), an.tape.orders["client_order_id"][kids]


@pytest.mark.slow
def test_a_desk_parent_is_one_parent_row_live_and_in_replay(tmp_path: Path) -> None:
    from gateway.client import ExecType, Side
    from tests.control.cp_venue import report, start_venue, wait_for
    from tests.trading.execution.test_parent_desk import _cleanup
    jdir = tmp_path / "journal"
    gen = start_venue(tmp_path, journal=str(jdir))
    venue = next(gen)
    try:
        ctl = venue.control()
        p = ctl.call("parent.add", account=1, instrument="ACME", side="buy", qty=40, algo="TWAP", duration_s=20,
                     params="max_participation=1.0,slice_s=2,decision_ms=100")
        # the book the parent sees is built from the events after its process attached
        wait_for(lambda: any(jdir.glob(f"parents-*/parent-{p['id']}.progress.json")), "the parent's first decision", 90)
        seller, buyer = venue.connect(201), venue.connect(101)
        sid = seller.new_order(instrument_id=1, side=Side.SELL, order_qty=200, account_id=3, price=10010)
        report(seller, lambda m: m.cl_ord_id == sid and m.exec_type == ExecType.NEW)
        bid = seller.new_order(instrument_id=1, side=Side.BUY, order_qty=10, account_id=4, price=9990)
        report(seller, lambda m: m.cl_ord_id == bid and m.exec_type == ExecType.NEW)
        wait_for(lambda: ctl.call("parent.show", id=p["id"])["arrival_mid"] is not None, "the parent's arrival", 90)
        # market volume after the parent's start: account 2 lifts 10 of the offer
        tid = buyer.new_order(instrument_id=1, side=Side.BUY, order_qty=10, account_id=2, price=10010)
        report(buyer, lambda m: m.cl_ord_id == tid and m.exec_type == ExecType.TRADE)
        wait_for(lambda: ctl.call("parent.show", id=p["id"])["state"] in ("done", "expired"), "the TWAP parent's end", 120)
        shown = ctl.call("parent.show", id=p["id"])
        seller.close()
        buyer.close()
    finally:
        for desk_dir in jdir.glob("parents-*"):
            _cleanup(desk_dir)
        gen.close()
    assert shown["state"] == "done" and shown["filled"] == 40 and shown["children"] >= 2, shown
    live_dir = str(next(jdir.rglob("cmd-0000000000000000.jrnl")).parent)
    live, n_children, cl_ids = _parent_row(live_dir)
    assert n_children == shown["children"] and live["children"] == n_children
    # numbered in the first launch's block (the desk's id_block 1): 2^24 + 1, 2^24 + 2, ...
    assert sorted(int(c) & 0xFFFFFFFF for c in cl_ids) == [(1 << 24) + k for k in range(1, n_children + 1)]
    assert live["parent_id"] == p["id"] and live["x_exec"] == 40 and live["account"] == 1
    # the IS decomposition of the parent (Perold: delay + timing + half-spread + impact +
    # opportunity + fees), against the first child's arrival mid
    parts = sum(live[k] for k in ("delay", "timing", "half_spread", "impact", "opportunity", "fees"))
    assert live["shortfall"] == pytest.approx(parts, abs=1e-9) and live["shortfall"] > 0
    assert live["p_arrival"] == pytest.approx((9990 + 10010) / 2)
    # the command journal replayed through a fresh engine: the same parent row
    _, _, cmds = journal.read_records(live_dir, journal.KIND_CMD)
    replay_dir = str(tmp_path / "replayed")
    write_journal(replay_dir, cmds.copy(), limits=journal.journal_limits(live_dir))
    replayed, _, _ = _parent_row(replay_dir)
    assert replayed == live


def test_a_bad_parent_id_or_client_order_id_is_refused() -> None:
    from trading.execution.parent import ParentOrderRefused
    from trading.execution.strategy import ExecutionStrategy
    from trading.strategy.context import Context
    for bad in (0, 1 << 32, -3):
        with pytest.raises(ParentOrderRefused, match="parent_id"):
            ExecutionStrategy(qty=100, parent_id=bad).on_start(Context(1, 1))
    ctx = Context(1, 1)
    for bad in (-1, 1 << 64):
        with pytest.raises(ValueError, match="client_order_id"):
            ctx.place(1, 100, 10, client_order_id=bad)
    assert ctx.outbox == []
    ctx.place(1, 100, 10, client_order_id=child_client_order_id(5, 1))
    assert parent_of(ctx.outbox[0].client_order_id) == 5


DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
MESSAGES = DATA / "AAPL_2012-06-21_34200000_57600000_message_10_first999.csv"


@pytest.mark.skipif(not MESSAGES.exists(), reason=f"LOBSTER sample not in {DATA}")
def test_a_replayed_parent_is_one_parent_row(tmp_path: Path) -> None:
    """The same parent executed in the replay runtime (trading/replay) on the AAPL sample: every
    command the replay sent its engine is journaled (as tests/trading/tca/test_replayed_day.py
    does) and the journal's analysis has one parent row holding all the children."""
    from trading.execution.strategy import ExecutionStrategy
    from trading.replay.history import MAX_ACCOUNTS, build_history
    from trading.replay.lobster import load_lobster
    from trading.replay.runtime import Replay, ReplayConfig
    from native import records

    class Recording(Replay):
        def __init__(self, *a: object, **k: object) -> None:
            super().__init__(*a, **k)      # type: ignore[arg-type]
            self.sent: list[np.ndarray] = []

        def _submit_records(self, recs: np.ndarray, own: bool) -> None:
            self.sent.append(np.array(recs, copy=True))
            super()._submit_records(recs, own)

    history = build_history(load_lobster(MESSAGES, tick_size=100))
    strategy = ExecutionStrategy(algo="TWAP", side=1, qty=300, start_ns=34_201 * 10**9, duration_s=40.0,
                                 max_participation=0.5, slice_s=4.0, decision_ms=200, parent_id=9)
    rep = Recording(history, strategy, ReplayConfig(compute="none", account_id=2, loop="python"))
    result = rep.run()
    assert result.error is None and len(strategy.children) >= 2 and strategy.filled > 0
    n = len(history)
    limits = (min(max(1 << 14, n + 1024), 1 << 20), min(max(1 << 12, n // 4), 1 << 18), 1, MAX_ACCOUNTS)
    cmds = np.concatenate(rep.sent)
    cmds.view(records.RECORD_DTYPE).reshape(-1).view(records.dtype_of("eng_cmd_hdr_t"))["seq"] = \
        np.arange(1, len(cmds) + 1)
    jdir = str(tmp_path / "journal")
    write_journal(jdir, cmds, limits=limits)
    an = analyze(load_tape(jdir), REF)
    par = an.parent_table
    algo = np.flatnonzero(par["parent_id"] > 0)
    assert len(algo) == 1 and int(par["parent_id"][algo[0]]) == 9 and int(par["account"][algo[0]]) == 2
    assert int(par["children"][algo[0]]) == len(strategy.children)
    assert float(par["x_exec"][algo[0]]) == strategy.filled
    parts = sum(float(par[k][algo[0]]) for k in ("delay", "timing", "half_spread", "impact", "opportunity", "fees"))
    assert float(par["shortfall"][algo[0]]) == pytest.approx(parts, abs=1e-9)
