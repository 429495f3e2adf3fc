"""Interval snapshots: snapshot N minus N-1 holds exactly the values recorded in between."""
from __future__ import annotations

import numpy as np
import pytest

from gateway.latency import LatencyRegion, LayoutError, Run

from tests.latency.conftest import lognormal_ns


def test_difference_of_snapshots_is_the_values_recorded_between(rng, stage_region):
    rec = stage_region.recorder("end_to_end")
    batches = [lognormal_ns(rng, 5000, m, 0.7) for m in (1000, 5000, 20000)]
    snaps = [stage_region.snapshot()]
    for batch in batches:
        rec.record_values(batch)
        snaps.append(stage_region.snapshot())
    run = Run.from_cumulative(snaps)
    for interval, batch in zip(run.intervals[1:], batches):
        hist = interval.get("end_to_end")
        expected = stage_region.spec.new_hdr()
        for v in batch.tolist():
            expected.record_value(v)
        assert np.array_equal(hist.counts, np.ctypeslib.as_array(expected.counts).astype(np.int64))
    assert run.total().get("end_to_end").total_count == sum(b.size for b in batches)
    assert run.intervals[0].get("end_to_end").total_count == 0


def test_counts_going_down_means_reinitialized_and_is_an_error(stage_region):
    stage_region.recorder(0).record_values([10, 20, 30])
    later = stage_region.snapshot()
    fresh = LatencyRegion.create_anonymous().snapshot()
    with pytest.raises(LayoutError, match="re-initialized"):
        fresh.minus(later)
