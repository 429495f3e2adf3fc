"""The clock says which source it uses, uses a calibrated invariant TSC where the CPU has one, and
its tick-to-ns conversion agrees with CLOCK_MONOTONIC."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.latency import NotPossibleHere, adopt_clock, current_clock, init_clock
from gateway.latency.clock import now_ticks, ticks_to_ns


def _cpuinfo_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def test_auto_picks_tsc_exactly_when_cpuid_and_cpuinfo_say_invariant():
    clock = init_clock("auto")
    flags = _cpuinfo_flags()
    assert clock.tsc_flags_cpuinfo == ({"constant_tsc", "nonstop_tsc"} <= flags)
    expected = "tsc" if clock.tsc_invariant_cpuid and clock.tsc_flags_cpuinfo else "monotonic"
    assert clock.source == expected
    shown = "tsc" if expected == "tsc" else "CLOCK_MONOTONIC"
    assert clock.description.startswith(f"clock: {shown}")


def test_monotonic_ticks_are_nanoseconds():
    clock = init_clock("monotonic")
    try:
        assert clock.ticks_per_ns == 1.0 and ticks_to_ns(123_456_789) == 123_456_789
        before = time.monotonic_ns()
        ticks = now_ticks()
        after = time.monotonic_ns()
        assert before <= ticks <= after
    finally:
        init_clock("auto")


def test_tsc_conversion_agrees_with_clock_monotonic():
    clock = init_clock("auto")
    if clock.source != "tsc":
        pytest.skip("no invariant TSC on this host: CLOCK_MONOTONIC is used, nothing to calibrate")
    assert 0.1 < clock.ticks_per_ns < 10.0
    t0, m0 = now_ticks(), time.monotonic_ns()
    deadline = m0 + 30_000_000
    while time.monotonic_ns() < deadline:   # a busy stretch both clocks measure
        pass
    t1, m1 = now_ticks(), time.monotonic_ns()
    assert abs(ticks_to_ns(t1 - t0) - (m1 - m0)) < 0.01 * (m1 - m0) + 50_000


def test_adopting_anothers_calibration_uses_its_factor():
    clock = init_clock("auto")
    adopted = adopt_clock(clock)
    assert (adopted.source, adopted.ns_mult, adopted.ns_shift) == \
        (clock.source, clock.ns_mult, clock.ns_shift)
    assert current_clock().ns_mult == clock.ns_mult


def test_forcing_tsc_without_an_invariant_one_is_refused():
    clock = init_clock("auto")
    if clock.source == "tsc":
        pytest.skip("this host has an invariant TSC: the refusal cannot happen here")
    with pytest.raises(NotPossibleHere):
        init_clock("tsc")
