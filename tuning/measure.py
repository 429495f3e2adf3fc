"""The ``measure`` step: the project's own latency probes, run so an operator sees what tuning
bought on this host. TCP loopback ping-pong comes from native/bench/probe_tcp.c, the ring ping-pong from
shm.probe (owned by the shm package); a probe that cannot run here is reported as "unavailable"
with the reason, never replaced by a number. Percentiles are numpy's, over every round trip."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tuning.dma_latency import DEVICE, struct_value
from tuning.hostroot import HostRoot

TCP_PAYLOAD_BYTES = 64
TCP_WARMUP = 1000
TCP_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    samples: int
    p50_ns: float | None
    p99_ns: float | None
    p999_ns: float | None
    max_ns: float | None
    unavailable: str  # empty when the probe ran

    @classmethod
    def of(cls, probe: str, rtt_ns: np.ndarray) -> ProbeResult:
        p50, p99, p999 = np.percentile(rtt_ns, [50, 99, 99.9])
        return cls(probe, int(rtt_ns.size), float(p50), float(p99), float(p999),
                   float(rtt_ns.max()), "")

    @classmethod
    def missing(cls, probe: str, reason: str) -> ProbeResult:
        return cls(probe, 0, None, None, None, None, reason)

    def line(self) -> str:
        if self.unavailable:
            return f"{self.probe:<22} unavailable: {self.unavailable}"
        return (f"{self.probe:<22} n={self.samples:<7} P50 {self.p50_ns / 1e3:8.2f} us  "
                f"P99 {self.p99_ns / 1e3:8.2f} us  P99.9 {self.p999_ns / 1e3:8.2f} us  "
                f"max {self.max_ns / 1e3:9.2f} us")


def _check_rc(rc: int, what: str) -> None:
    # The one place a probe's -errno becomes an exception: invalid arguments are the caller's
    # mistake, a timeout is "try again", anything else is the host refusing.
    if rc == 0:
        return
    if rc == -22:
        raise ValueError(f"{what}: invalid argument (sample count, payload or CPU out of range)")
    raise OSError(-rc, f"{what}: {os.strerror(-rc)}")


def tcp_pingpong_ns(samples: int, cpus: tuple[int, int] | None = None,
                    payload_bytes: int = TCP_PAYLOAD_BYTES, warmup: int = TCP_WARMUP,
                    timeout_ms: int = TCP_TIMEOUT_MS) -> np.ndarray:
    """Round-trip times in ns of ``samples`` TCP loopback ping-pongs (client, echo pinned to
    ``cpus`` when given)."""
    from native._venue import ffi, lib

    rtt_ns = np.zeros(samples, dtype=np.uint64)
    client_cpu, server_cpu = cpus if cpus is not None else (-1, -1)
    rc = lib.probe_tcp_pingpong(ffi.cast("uint64_t *", rtt_ns.ctypes.data), samples, warmup,
                                payload_bytes, client_cpu, server_cpu, timeout_ms)
    _check_rc(rc, "probe_tcp_pingpong")
    return rtt_ns


def _ring_pingpong_ns(samples: int, cpus: tuple[int, int] | None) -> np.ndarray:
    from shm.probe import ring_pingpong_ns

    return np.asarray(ring_pingpong_ns(samples, cpus))


PROBES: dict[str, Callable[[int, tuple[int, int] | None], np.ndarray]] = {
    "tcp loopback ping-pong": lambda n, cpus: tcp_pingpong_ns(n, cpus),
    "ring ping-pong": _ring_pingpong_ns,
}


def run_probes(samples: int, cpus: tuple[int, int] | None = None) -> list[ProbeResult]:
    """Every probe once; an unimportable or failing probe is reported as unavailable."""
    results: list[ProbeResult] = []
    for name, probe in PROBES.items():
        try:
            results.append(ProbeResult.of(name, probe(samples, cpus)))
        except ImportError as exc:
            results.append(ProbeResult.missing(name, f"cannot import its module ({exc})"))
        except OSError as exc:
            results.append(ProbeResult.missing(name, f"failed on this host ({exc})"))
    return results


class HeldLatency:
    """Holds a cpu_dma_latency request for the duration of a with-block, in this process."""

    def __init__(self, host: HostRoot, value_us: int) -> None:
        self.host = host
        self.value_us = value_us
        self.fd = -1

    def __enter__(self) -> HeldLatency:
        self.fd = os.open(self.host.path(DEVICE), os.O_WRONLY)
        os.write(self.fd, struct_value(self.value_us))
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def dma_latency_effect(host: HostRoot, value_us: int, samples: int, rounds: int,
                       cpus: tuple[int, int] | None = None) -> tuple[ProbeResult, ProbeResult]:
    """TCP round trips without and with ``value_us`` held, interleaved over ``rounds`` so slow
    drift on a shared machine lands on both sides alike. Returns (without, with)."""
    without: list[np.ndarray] = []
    held: list[np.ndarray] = []
    for _ in range(rounds):
        without.append(tcp_pingpong_ns(samples, cpus))
        with HeldLatency(host, value_us):
            held.append(tcp_pingpong_ns(samples, cpus))
    return (ProbeResult.of("tcp, no latency limit", np.concatenate(without)),
            ProbeResult.of(f"tcp, dma_latency {value_us} us", np.concatenate(held)))
