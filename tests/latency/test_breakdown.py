"""The per-stage breakdown names the stage that dominates each part of the distribution."""
from __future__ import annotations

import numpy as np

from gateway.latency import HistogramSpec, LatencyHistogram
from gateway.latency.breakdown import stage_breakdown


def _hist(name: str, values: list[int]) -> LatencyHistogram:
    hdr = HistogramSpec().new_hdr()
    for v in values:
        hdr.record_value(v)
    return LatencyHistogram.from_hdr(name, hdr)


def test_a_rare_stall_makes_a_fast_stage_dominate_the_tail_only():
    steady = _hist("matching", [900] * 1000)                    # always 900 ns
    stalls = _hist("ring", [100] * 995 + [50_000] * 5)          # usually 100 ns, 0.5% at 50 µs
    e2e = _hist("end_to_end", [1000] * 995 + [50_900] * 5)
    result = stage_breakdown([steady, stalls], e2e, (50.0, 99.0, 99.9, 100.0))
    assert result.dominant() == {"P50": "matching", "P99": "matching", "P99.9": "ring",
                                 "max": "ring"}
    p999 = result.rows[2]
    assert p999.end_to_end_ns == e2e.percentiles_ns((99.9,))[99.9]
    shares = {s.stage: s.share for s in p999.stages}
    assert np.isclose(sum(shares.values()), 1.0) and shares["ring"] > 0.9


def test_stages_without_records_are_never_dominant():
    idle = LatencyHistogram.empty("idle", HistogramSpec())
    busy = _hist("busy", [10, 20, 30])
    result = stage_breakdown([idle, busy], None)
    assert set(result.dominant().values()) == {"busy"}
    assert all(row.end_to_end_ns is None for row in result.rows)
