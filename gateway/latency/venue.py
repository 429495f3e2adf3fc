"""The latency regions of a running venue: one per process, found by the venue's (engine's) name.

  <dir>/venue-<name>-latency-engine     the engine process's region
  <dir>/venue-<name>-latency-gw-<slot>  each gateway's region (its producer slot on the engine)

Every region is a whole order-path region (HDR_STAGE_COUNT histograms, venue_layout.h Section 5),
and each process records only the stages it owns (the engine enqueue_to_dequeue,
dequeue_to_matched and matched_to_published; a gateway the other four), so each histogram keeps one
writer. The venue's figures are the regions added up stage by stage (snapshot_venue), which also
adds several gateways together. Every process converts ticks with the engine's calibration: the
engine chooses the clock, gateways adopt it from the engine's region before stamping.

Owns the naming, creation and removal of these files and the hdr_hist_t handles the C loops
record through; the recording itself is C's (runner_loop.c, gw_*.c).
"""
from __future__ import annotations

import os
from pathlib import Path

from native._venue import ffi, lib
from shm.segment import segment_path

from gateway.latency.clock import ClockInfo, adopt_clock, init_clock
from gateway.latency.errors import LayoutError, check_rc
from gateway.latency.region import LatencyRegion
from gateway.latency.snapshot import Snapshot

ENGINE_ROLE = "latency-engine"
GATEWAY_ROLE_PREFIX = "latency-gw-"


def engine_region_path(venue: str, directory: str | None = None) -> Path:
    return Path(segment_path(venue, ENGINE_ROLE, directory))


def gateway_region_path(venue: str, slot: int, directory: str | None = None) -> Path:
    return Path(segment_path(venue, f"{GATEWAY_ROLE_PREFIX}{slot}", directory))


def region_paths(venue: str, directory: str | None = None) -> list[Path]:
    """The venue's region files that exist now: the engine's first, then the gateways' by slot."""
    engine = engine_region_path(venue, directory)
    prefix = gateway_region_path(venue, 0, directory).name[:-1]
    gateways = sorted((p for p in engine.parent.glob(f"{prefix}*")
                       if p.name[len(prefix):].isdigit()),
                      key=lambda p: int(p.name[len(prefix):]))
    return ([engine] if engine.exists() else []) + gateways


def remove_engine_region(venue: str, directory: str | None = None) -> None:
    """Removes a leftover engine region (an engine starting without latency calls this, so that
    no gateway adopts the clock of a dead engine and stamps commands nobody records)."""
    engine_region_path(venue, directory).unlink(missing_ok=True)


class ProcessLatency:
    """This process's region plus the writer handles (hdr_hist_t[HDR_STAGE_COUNT]) a C loop takes
    as its `latency` config. The file is removed by close(); the handles are valid until then."""

    def __init__(self, region: LatencyRegion, path: Path) -> None:
        self.region = region
        self.path = path
        self.hists = ffi.new("hdr_hist_t[]", lib.HDR_STAGE_COUNT)
        for i in range(lib.HDR_STAGE_COUNT):
            check_rc(lib.hdr_region_hist(region.ptr, i, ffi.addressof(self.hists, i)),
                     f"hdr_region_hist({i})")

    @property
    def clock(self) -> ClockInfo:
        return self.region.clock

    @classmethod
    def _create(cls, path: Path, clock: ClockInfo | None) -> ProcessLatency:
        # The name belongs to this process (the engine's segments or the gateway's producer slot
        # were taken first, so a live owner would have refused us): a file there is a leftover.
        path.unlink(missing_ok=True)
        return cls(LatencyRegion.create_file(path, clock=clock), path)

    @classmethod
    def for_engine(cls, venue: str, directory: str | None = None,
                   clock: str = "auto") -> ProcessLatency:
        """Chooses and calibrates this process's clock (TSC where invariant, else
        CLOCK_MONOTONIC) and creates the engine's region with it. Call before any thread starts."""
        init_clock(clock)
        return cls._create(engine_region_path(venue, directory), None)

    @classmethod
    def for_gateway(cls, venue: str, slot: int,
                    directory: str | None = None) -> ProcessLatency | None:
        """Adopts the engine's clock from its region and creates this gateway's region; None when
        the engine records no latency (no region: it runs with --no-latency)."""
        engine_path = engine_region_path(venue, directory)
        if not engine_path.exists():
            return None
        engine_region = LatencyRegion.attach_file(engine_path)
        clock = adopt_clock(engine_region.clock)
        return cls._create(gateway_region_path(venue, slot, directory), clock)

    def close(self) -> None:
        """Removes the file (processes that attached keep their mapping)."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def snapshot_venue(venue: str, directory: str | None = None) -> Snapshot:
    """The venue's histograms now: every region of the venue snapshotted and added up stage by
    stage. Raises LayoutError when the venue has no region (not running, or no latency)."""
    paths = region_paths(venue, directory)
    if not paths:
        raise LayoutError(f"venue {venue!r}: no latency region under "
                          f"{engine_region_path(venue, directory).parent} (not running, or "
                          "started with --no-latency)")
    total: Snapshot | None = None
    for path in paths:
        try:
            snap = LatencyRegion.attach_file(path).snapshot()
        except FileNotFoundError:
            continue                # its process stopped since the listing
        total = snap if total is None else total.plus(snap)
    if total is None:
        raise LayoutError(f"venue {venue!r}: its latency regions went away (venue stopped)")
    return total
