"""Conflation: a burst of 100,000 updates a second reaches a browser as at most refresh_hz
updates per panel per second, each the latest state, and a reconnecting browser catches up."""
from __future__ import annotations

import pytest

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
