"""The multi-venue market maker in replay (trading/marketmaking/multivenue_replay.py) over the
routing replay's split of the GOOG day into three lit venues: one inventory within its limit across
venues; each venue's P&L decomposition adds up and equals its ledger, the venues' P&L adds up to
the total and equals an independent cash-and-position computation from the fills; each venue's
fee schedule is what its fills paid; each venue's latency is applied (the round trips of refused
quotes and answered cancels are two draws of that venue's latency); deterministic; bad input
refused by name before any quote."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.trading.replay.conftest import GOOG, sample
from trading.marketmaking.errors import ParameterError
from trading.marketmaking.multivenue_replay import (
    MultiVenueMakerReplay,
    MultiVenueMakerResult,
)
from trading.replay.data import MarketDay
from trading.replay.lobster import load_lobster
from trading.routing import venue
from trading.routing.venue import latency_lognormal_ns
from trading.strategy.api import BUY

VENUES = [venue("XNAS", market_share=0.45, taker_fee_mils=30.0, maker_rebate_mils=20.0, avg_us=200.0, p99_us=600.0),
          venue("ARCX", market_share=0.30, taker_fee_mils=30.0, maker_rebate_mils=25.0, avg_us=300.0, p99_us=900.0),
          venue("BATY", market_share=0.25, taker_fee_mils=2.0, maker_rebate_mils=-2.0, avg_us=150.0, p99_us=500.0),
          venue("DARK", kind="dark", market_share=0.10, taker_fee_mils=5.0)]
MAKERS = ["XNAS", "ARCX", "BATY"]
PARAMS = {"model": "as", "gamma": "0.05", "A": "2.0", "k": "60.0", "max_inventory": "300", "quote_size": "100",
          "tau_s": "30"}
MINUTES = 20
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def day() -> MarketDay:
    return load_lobster(sample(GOOG))


def _run(day: MarketDay, params: dict[str, str] = PARAMS) -> MultiVenueMakerResult:
    replay = MultiVenueMakerReplay(day, VENUES, MAKERS, params, seed=3, step_ms=100)
    return replay.run(until_ns=int(day.ts_ns[0]) + MINUTES * 60_000_000_000)


@pytest.fixture(scope="module")
def result(day: MarketDay) -> MultiVenueMakerResult:
    return _run(day)


def test_one_inventory_within_its_limit_across_venues(result: MultiVenueMakerResult) -> None:
    rep = result.report
    fills = {v: len(f) for v, f in result.fills.items()}
    assert all(n > 5 for n in fills.values()), fills
    assert 0 < rep["max_abs_inventory"] <= rep["max_inventory"] == 300
    assert rep["inventory"] == sum(c.position for c in result.contexts.values())
    assert all(not c.orders for c in result.contexts.values())      # everything cancelled at the end


def test_pnl_per_venue_adds_up_to_the_total(result: MultiVenueMakerResult) -> None:
    rep: dict[str, Any] = result.report
    assert rep["all_parts_add_up"]
    total = 0.0
    for v, ctx in result.contexts.items():
        leg = rep["venues"][v]
        maker = result.contexts[v]
        mark = leg["pnl"]["total"]     # the decomposition's total, against cash and position from
        # the fills alone, marked at the maker's last mid
        fills = result.fills[v]
        cash = sum((-1 if f.side == BUY else 1) * f.price * f.qty for f in fills) / maker.price_scale
        position = sum((1 if f.side == BUY else -1) * f.qty for f in fills)
        fees = sum(f.fee for f in fills)
        last_mid = _last_mid(result, v)
        assert position == ctx.position
        assert cash + position * last_mid / maker.price_scale - fees == pytest.approx(mark, abs=1e-6)
        total += mark
    assert rep["pnl_total"] == pytest.approx(total, abs=1e-9)
    assert rep["runtime_pnl_total"] == pytest.approx(total, abs=1e-6)


def _last_mid(result: MultiVenueMakerResult, v: str) -> float:
    maker = result.strategy.legs[v].maker
    assert maker is not None
    return float(maker.ledger.breakdown().final_mid2) / 2.0


def test_each_venue_books_its_own_fees(result: MultiVenueMakerResult) -> None:
    for spec in VENUES[:3]:
        fills = result.fills[spec.id]
        rate = -spec.fees.maker_rebate_mils / 10_000.0      # every quote that fills rested: a maker
        assert all(f.maker for f in fills)
        assert sum(f.fee for f in fills) == pytest.approx(rate * sum(f.qty for f in fills), abs=1e-9)
        assert result.contexts[spec.id].ledger.fees == pytest.approx(sum(f.fee for f in fills), abs=1e-9)


def test_each_venues_latency_is_applied(result: MultiVenueMakerResult) -> None:
    medians = {}
    for spec in VENUES[:3]:
        trips = np.array(result.round_trips[spec.id])
        assert len(trips) > 50 and trips.min() > 0
        mu, _ = latency_lognormal_ns(spec)
        medians[spec.id] = float(np.median(trips))
        # two draws (there and back) of the venue's lognormal, in order on one session
        assert 2.0 <= medians[spec.id] / np.exp(mu) <= 3.5, (spec.id, medians[spec.id], np.exp(mu))
    assert medians["BATY"] < medians["XNAS"] < medians["ARCX"]


def test_deterministic(day: MarketDay, result: MultiVenueMakerResult) -> None:
    again = _run(day)
    for v in MAKERS:
        assert [(f.ts_ns, f.order_id, f.price, f.qty) for f in again.fills[v]] == \
               [(f.ts_ns, f.order_id, f.price, f.qty) for f in result.fills[v]]
    assert again.report["pnl_total"] == result.report["pnl_total"]


def test_bad_input_refused_by_name(day: MarketDay) -> None:
    with pytest.raises(ValueError, match="'DARK' is not a lit venue"):
        MultiVenueMakerReplay(day, VENUES, ["XNAS", "DARK"], PARAMS)
    with pytest.raises(ValueError, match="'NOPE' is not a lit venue"):
        MultiVenueMakerReplay(day, VENUES, ["NOPE"], PARAMS)
    with pytest.raises(ValueError, match="step_ms"):
        MultiVenueMakerReplay(day, VENUES, MAKERS, PARAMS, step_ms=0)
    replay = MultiVenueMakerReplay(day, VENUES, MAKERS, {**PARAMS, "gamma": "-1"})
    with pytest.raises(ParameterError, match="gamma"):
        replay.run(until_ns=int(day.ts_ns[0]) + 1_000_000_000)
    assert sum(replay.sent.values()) == 0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trading", "mm", "venues", "--data", str(sample(GOOG)), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_cli_prints_pnl_per_venue_and_the_total() -> None:
    r = _cli("--minutes", "3", "--param", "A=2", "--param", "k=60", "--param", "max_inventory=300")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["XNAS", "ARCX", "BATY"]
    assert "parts add up: True" in lines[-1] and "(limit 300)" in lines[-1]


@pytest.mark.parametrize(("args", "want"), [
    (("--venues", "XNAS,DARK"), "'DARK' is not a lit venue"),
    (("--param", "gamma=-1"), "gamma"),
    (("--minutes", "0"), "minutes"),
    (("--step-ms", "-5"), "argument --step-ms: must be > 0"),
    (("--config", "x.toml"), "--config and --symbol"),
])
def test_cli_bad_input_exits_2_naming_it(args: tuple[str, ...], want: str) -> None:
    r = _cli("--minutes", "1", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert want in r.stderr and len(r.stderr.strip().splitlines()) == 1
