"""TCA of a replayed LOBSTER day with a quoting strategy running (trading/replay, issue #19's
TouchQuoter, a market maker on the day's book): every command the replay sent to its in-process
engine is journaled, the journal is replayed through a fresh engine (as many events as the
replay's engine produced), and the TCA's figures for the strategy's account reconcile exactly with
the replay's own fills (count, shares, notional, fees), the daily report's totals with the
journal. Needs ../shared/data (the LOBSTER sample); skips when it is absent."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gateway.enginehost import journal
from trading.tca.analysis import analyze, keyed
from trading.tca.journal_build import write_journal
from native import records
from trading.tca.reference import AccountRef, FeeSchedule, Reference
from trading.tca.report.build import build_report
from trading.tca.tape import load_tape

DATA = Path(os.environ.get("VENUE_DATA_DIR") or Path(__file__).resolve().parents[3].parent / "shared" / "data")
MESSAGES = DATA / "AAPL_2012-06-21_34200000_57600000_message_10_first999.csv"


@pytest.mark.skipif(not MESSAGES.exists(), reason=f"LOBSTER sample not in {DATA} (set VENUE_DATA_DIR or place ../shared/data)")
def test_replayed_day_reconciles(tmp_path: Path) -> None:
    from trading.replay.history import MAX_ACCOUNTS, build_history
    from trading.replay.lobster import load_lobster
    from trading.replay.runtime import Replay, ReplayConfig
    from trading.strategy.examples import TouchQuoter

    class Recording(Replay):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            self.sent: list[np.ndarray] = []

        def _submit_records(self, recs: np.ndarray, own: bool) -> None:
            self.sent.append(np.array(recs, copy=True))
            super()._submit_records(recs, own)

    history = build_history(load_lobster(MESSAGES, tick_size=100))
    # the reference loop sends every command through _submit_records (the C loop sends history's
    # from C; tests/trading/replay/test_c_loop_matches_reference.py shows the two runs identical)
    cfg = ReplayConfig(compute="none", account_id=2, loop="python")
    rep = Recording(history, TouchQuoter(size=100, interval_ms=50, max_position=300), cfg)
    result = rep.run()
    assert result.error is None and len(result.fills) > 0
    n = len(history)
    limits = (min(max(1 << 14, n + 1024), 1 << 20), min(max(1 << 12, n // 4), 1 << 18), 1, MAX_ACCOUNTS)
    jdir = str(tmp_path / "journal")
    cmds = np.concatenate(rep.sent)
    # the replay's router numbers the commands as it runs them (rpl_router.c): the same numbers here
    hdr = cmds.view(records.RECORD_DTYPE).reshape(-1).view(records.dtype_of("eng_cmd_hdr_t"))
    assert (hdr["seq"] == 0).all() or (hdr["seq"] == np.arange(1, len(cmds) + 1)).all()
    hdr["seq"] = np.arange(1, len(cmds) + 1)
    write_journal(jdir, cmds, limits=limits)
    # the journal replays the replay's commands: as many events as the replay's engine produced
    # (the replay's router keeps only the strategy's own events, so the count is what is compared)
    _, _, evt = journal.read_records(jdir, journal.KIND_EVT)
    assert len(evt) == result.engine_events and len(cmds) == result.engine_commands

    fees = FeeSchedule(cfg.fees.taker_per_share, cfg.fees.maker_per_share, 0.0)
    ref = Reference(venue_name="REPLAY", venue_mic="XRPL", price_scale=history.day.price_scale, fees=fees,
                    accounts={2: AccountRef(2, "strat", "quote")})
    tape = load_tape(jdir)
    an = analyze(tape, ref)
    mine = keyed(an.summary("account"))["2"]
    fills = result.fills
    assert mine.executions == len(fills)
    assert mine.shares == sum(f.qty for f in fills)
    assert mine.notional == pytest.approx(sum(f.price * f.qty for f in fills) / history.day.price_scale, rel=1e-12)
    assert mine.fees == pytest.approx(sum(f.fee for f in fills), abs=1e-9)

    day = tape.clock.utc(tape.first_ts).date()
    files = build_report(tape, ref, "daily", day, str(tmp_path / "report"))
    tot = json.loads(Path(files.json).read_text())["totals"]
    tr = tape.fills[0::2]
    assert (tot["executions"], tot["shares"]) == (tape.trades, int(tr["qty"].sum()))
    assert tot["orders"] == len(tape.orders)
