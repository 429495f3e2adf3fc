"""The measure step's probes: TCP loopback ping-pong from native/bench/probe_tcp.c returns one
positive round trip per sample; the ring probe is reported, or reported unavailable with why."""
from __future__ import annotations

import pytest

from tuning.measure import run_probes, tcp_pingpong_ns

native = pytest.importorskip("native._venue", reason="the native extension is not built "
                             "(pip install -e . --no-build-isolation)")


def test_tcp_pingpong_returns_one_positive_rtt_per_sample() -> None:
    rtt_ns = tcp_pingpong_ns(500, warmup=50)
    assert rtt_ns.shape == (500,)
    assert (rtt_ns > 0).all()


def test_tcp_pingpong_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="invalid argument"):
        tcp_pingpong_ns(10, payload_bytes=0)
    with pytest.raises(ValueError, match="invalid argument"):
        tcp_pingpong_ns(10, cpus=(0, 100000))


def test_every_probe_reports_figures_or_why_not() -> None:
    results = {r.probe: r for r in run_probes(300)}
    assert results["tcp loopback ping-pong"].samples == 300
    ring = results["ring ping-pong"]
    assert ring.samples == 300 or ring.unavailable
