"""The implementation shortfall's printed parts add up to it: delay + spread + impact + timing +
opportunity + fees = IS, all in bps of the paper portfolio, each fill against its parent's arrival
mid. Before, `trading report tca` printed "IS x bps (spread .. impact .. timing .. opp .. fees ..)"
with the spread, impact, timing and fees of each child order against its own arrival mid, in bps
of the executed shares, and no delay: on a demo journal the POV account printed IS -3.812 beside
parts summing to +0.345 (its -4.156 bps of timing since the parent's arrival was nowhere).

Parent 7 of conftest's small day (account 3), decided at 100.00 for 100 shares (test_measures.py
works it out): delay 0.50, half-spread 0.50, impact 0, timing 0, opportunity 1.00, fees 0.15, on a
paper portfolio of 100 x $100.00 = $10,000: 0.50 + 0.50 + 0 + 0 + 1.00 + 0.15 = 2.15 bps. Its
children's own parts (the arrival slippage's) are 0.50 / (50 x 100.01) = 0.9999 bps of spread and
0.15 / 5,000.5 = 0.2999 bps of fees: not the shortfall's.
"""
from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.tca.analysis import DIMENSIONS, Decision, CostSummary, analyze, keyed
from trading.tca.tape import load_tape

DECISIONS = {7: Decision(T0 + 25 * S, 1_000_000, 100)}


def _parts(s: CostSummary) -> list[float]:
    return [s.delay_bps, s.is_half_spread_bps, s.is_impact_bps, s.is_timing_bps, s.opportunity_bps, s.is_fees_bps]


def test_the_parent_s_parts_worked_by_hand(small_day: str) -> None:
    a3 = keyed(analyze(load_tape(small_day), REFERENCE, DECISIONS).summary("account"))["3"]
    assert _parts(a3) == pytest.approx([0.5, 0.5, 0.0, 0.0, 1.0, 0.15], abs=1e-9)
    assert a3.shortfall_bps == pytest.approx(2.15, abs=1e-9)
    # the arrival slippage's parts stay what they were: each child against its own arrival mid
    assert a3.half_spread_bps == pytest.approx(0.5 / 5_000.5 * 1e4) and a3.explicit_bps == pytest.approx(0.15 / 5_000.5 * 1e4)


@pytest.mark.parametrize("decisions", [None, DECISIONS])
def test_the_parts_add_up_in_every_summary(small_day: str, decisions: dict[int, Decision] | None) -> None:
    an = analyze(load_tape(small_day), REFERENCE, decisions)
    checked = 0
    for dimension in DIMENSIONS:
        for s in an.summary(dimension):
            if math.isfinite(s.shortfall_bps):
                assert sum(_parts(s)) == pytest.approx(s.shortfall_bps, abs=1e-9), (dimension, s.key)
                checked += 1
    assert checked >= 10


def test_the_printed_line_adds_up(small_day: str) -> None:
    out = subprocess.run([sys.executable, "-m", "trading", "report", "tca", "--journal", small_day, "--by", "account"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = 0
    for line in out.stdout.splitlines():
        m = re.search(r"\| IS (\S+) bps of paper = delay (\S+) spread (\S+) impact (\S+) timing (\S+) opp (\S+) "
                      r"fees (\S+) \|", line)
        assert m, line
        if m[1] == "n/a":
            continue
        total, *parts = (float(v) for v in m.groups())
        assert abs(total - sum(parts)) <= 0.0035, line          # six parts, each rounded to 0.0005
        rows += 1
    assert rows == 3
    # account 3 without a decision: P_d = the arrival mid 100.01 (no delay) and X = the 50 executed
    # plus the last child's unexecuted 10; paper 60 x 100.01 = 6,000.6: spread 0.50, opportunity
    # 10 x (100.02 - 100.01) = 0.10, fees 0.15, IS 0.75
    line = next(x for x in out.stdout.splitlines() if x.startswith("3:"))
    bps = [f"{v / 6_000.6 * 1e4:.3f}" for v in (0.75, 0.5, 0.1, 0.15)]
    assert (f"IS {bps[0]} bps of paper = delay 0.000 spread {bps[1]} impact 0.000 timing 0.000 opp {bps[2]} "
            f"fees {bps[3]}") in line
