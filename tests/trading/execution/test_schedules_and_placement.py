"""Each schedule against an independent computation of what it should want, and the placement
rule's cases."""
from __future__ import annotations

import numpy as np
import pytest

from trading.execution import placement
from trading.execution.almgren_chriss import ACModel, optimal_holdings
from trading.execution.profile import VolumeProfile
from trading.execution.schedules import IsSchedule, PovSchedule, TwapSchedule, VwapSchedule

S = 1_000_000_000


def test_twap_equal_slices_at_random_moments_inside_each_slice() -> None:
    a = TwapSchedule(1000, 0, 100 * S, 10, seed=5)
    b = TwapSchedule(1000, 0, 100 * S, 10, seed=5)
    c = TwapSchedule(1000, 0, 100 * S, 10, seed=6)
    assert np.array_equal(a.due_ns, b.due_ns) and not np.array_equal(a.due_ns, c.due_ns)
    for k, due in enumerate(a.due_ns):
        assert k * 10 * S <= due < (k + 1) * 10 * S          # inside its own slice
        assert a.target(int(due), 0) == pytest.approx(100 * (k + 1))
        assert a.target(int(due) - 1, 0) == pytest.approx(100 * k)
    assert a.target(100 * S, 0) == 1000


def test_vwap_follows_the_profile_and_replans_on_volume() -> None:
    prof = VolumeProfile(start_s=0.0, bucket_s=10.0, volumes=(100.0, 300.0, 600.0))
    sched = VwapSchedule(1000, 0, 30 * S, prof)
    # the market trades exactly the profile: the target is the profile's cumulative share
    for t_s, traded in ((5, 50), (10, 100), (20, 400), (25, 700)):
        assert sched.target(t_s * S, traded) == pytest.approx(1000 * traded / 1000)
    # twice the forecast volume so far: ahead of the static profile (v / (v + remaining))
    assert sched.target(10 * S, 200) == pytest.approx(1000 * 200 / (200 + 900))
    assert sched.target(10 * S, 200) > 100
    assert sched.target(30 * S, 0) == 1000


def test_pov_is_a_share_of_the_volume() -> None:
    s = PovSchedule(500, 0.1)
    assert s.target(0, 1234) == pytest.approx(123.4)
    assert s.target(0, 10 ** 6) == 500


def test_is_schedule_follows_the_closed_form_and_replans_from_what_is_left() -> None:
    sched = IsSchedule(1000, 0, 100 * S, 10, sigma=0.05, eta=0.01, gamma=0.0, eps=0.0, lam=1e-2)
    x = optimal_holdings(ACModel(X=1000, T=100.0, N=10, sigma=0.05, eta=0.01, lam=1e-2))
    for k in range(10):
        assert sched.target(k * 10 * S, 0) == pytest.approx(1000 - x[k])
    # behind schedule at the third boundary: the new trajectory starts from the 100 done
    assert sched.replan(30 * S, 100, None)
    x2 = optimal_holdings(ACModel(X=900, T=70.0, N=7, sigma=0.05, eta=0.01, lam=1e-2))
    assert sched.target(30 * S, 0) == pytest.approx(100)
    assert sched.target(50 * S, 0) == pytest.approx(100 + 900 - x2[2])
    assert not sched.replan(35 * S, 120, None)          # not at a new boundary: no re-solve


@pytest.mark.parametrize("behind, left, spread, queue, style", [
    (0.5, 0.5, 3, 1.0, placement.PASSIVE),
    (1.2, 0.5, 3, 1.0, placement.MID),
    (1.2, 0.5, 1, 1.0, placement.PASSIVE),               # no room inside a one-tick spread
    (0.2, 0.5, 3, 8.0, placement.MID),                   # a long queue at the touch
    (2.5, 0.5, 1, 1.0, placement.AGGRESSIVE),
    (0.1, 0.04, 1, 1.0, placement.AGGRESSIVE),           # the last 5 % of the horizon
])
def test_placement_rule(behind: float, left: float, spread: int, queue: float, style: str) -> None:
    assert placement.choose_style(behind, left, spread, queue) == style


def test_placement_prices_and_limit() -> None:
    assert placement.place(1, placement.PASSIVE, 100, 103, 1) == placement.Placement("passive", 100, "GTC")
    assert placement.place(1, placement.MID, 100, 103, 1) == placement.Placement("mid", 101, "GTC")
    assert placement.place(2, placement.MID, 100, 103, 1) == placement.Placement("mid", 102, "GTC")
    assert placement.place(1, placement.AGGRESSIVE, 100, 103, 1) == placement.Placement("aggressive", 103, "IOC")
    assert placement.place(2, placement.AGGRESSIVE, 100, 103, 1) == placement.Placement("aggressive", 100, "IOC")
    # a buy limited at 101 never crosses to 103: it rests at its limit
    assert placement.place(1, placement.AGGRESSIVE, 100, 103, 1, limit=101) == placement.Placement("aggressive", 101, "GTC")
    assert placement.place(1, placement.PASSIVE, None, 103, 1) is None
