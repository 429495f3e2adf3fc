"""Attaching validates the region, and a second process's records show in this one's snapshots."""
from __future__ import annotations

import mmap
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from native._venue import ffi, lib

from gateway.latency import (HistogramSpec, LatencyRegion, LayoutError, NotPossibleHere,
                             RegionNotReady, STAGE_NAMES)
from gateway.latency.clock import init_clock


def _copy(region: LatencyRegion) -> bytearray:
    return bytearray(ffi.buffer(region.ptr, region.nbytes))


def _attach(buf: bytearray) -> LatencyRegion:
    mm = mmap.mmap(-1, len(buf))
    mm[:] = bytes(buf)
    return LatencyRegion(ffi.from_buffer(mm), len(buf), owner=mm)


def test_stage_region_names_its_histograms_after_the_order_path(stage_region):
    assert stage_region.names == STAGE_NAMES
    assert STAGE_NAMES[-1] == "end_to_end" and len(STAGE_NAMES) == lib.HDR_STAGE_COUNT


def test_attach_rejects_wrong_magic_version_and_truncation(stage_region):
    good = _copy(stage_region)
    assert _attach(good).names == stage_region.names

    zeroed = bytearray(len(good))
    with pytest.raises(RegionNotReady):
        _attach(zeroed)
    bad_magic = bytearray(good)
    bad_magic[0] ^= 0xFF
    with pytest.raises(LayoutError, match="EPROTO"):
        _attach(bad_magic)
    bad_version = bytearray(good)
    bad_version[8] += 1
    with pytest.raises(LayoutError, match="EPROTONOSUPPORT"):
        _attach(bad_version)
    with pytest.raises(LayoutError, match="ENOSPC"):
        _attach(good[: len(good) // 2])
    bad_params = bytearray(good)
    offset = ffi.offsetof("hdr_region_t", "params") + ffi.offsetof("hdr_params_t", "counts_len")
    bad_params[offset] ^= 0x01
    with pytest.raises(LayoutError, match="EPROTO"):
        _attach(bad_params)


def test_init_refuses_bad_parameters_and_names():
    with pytest.raises(LayoutError):
        HistogramSpec(lowest_discernible_value=0)
    with pytest.raises(LayoutError):
        HistogramSpec(significant_figures=6)
    with pytest.raises(LayoutError, match="EINVAL"):
        LatencyRegion.create_anonymous(names=("x" * 40,))
    with pytest.raises(LayoutError, match="EINVAL"):
        LatencyRegion.create_anonymous(names=tuple(f"h{i}" for i in range(17)))


def test_recorder_refuses_a_region_of_another_clock_domain(process_clock):
    other = "monotonic" if process_clock.source == "tsc" else "tsc"
    try:
        clock = init_clock(other)
    except NotPossibleHere:
        pytest.skip(f"this host has no {other} clock to build a mismatching region with")
    region = LatencyRegion.create_anonymous(names=("a",))
    init_clock(process_clock.source)
    with pytest.raises(NotPossibleHere, match="EXDEV"):
        region.recorder(0)
    assert clock.source == other


def test_records_of_another_process_appear_in_snapshots(tmp_path):
    path = tmp_path / "latency.region"
    region = LatencyRegion.create_file(path)
    child = textwrap.dedent(f"""
        import numpy as np
        from gateway.latency import LatencyRegion, adopt_clock
        writable = LatencyRegion.attach_file({str(path)!r}, writable=True)
        adopt_clock(writable.clock)
        writable.recorder("dequeue_to_matched").record_values(np.arange(1, 1001))
        print("recorded")
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "recorded" in done.stdout, done.stderr
    hist = region.snapshot().get("dequeue_to_matched")
    assert hist.total_count == 1000
    assert hist.percentiles_ns((100.0,))[100.0] == 1000
    assert LatencyRegion.attach_file(path).snapshot().get("dequeue_to_matched").total_count == 1000
