"""The set of segments one engine instance owns, and their names:

  venue-<name>-control     CONTROL: heartbeat, counters, producer table, engine doorbell
  venue-<name>-events      BROADCAST: every event the engine emits, in order
  venue-<name>-cmd-<k>     SPSC, producer slot k -> engine
  venue-<name>-reply-<k>   SPSC, engine -> producer slot k

The engine creates them all at start (Aeron's media driver does the same), so a client only
attaches; the producer table in the control segment hands out slots."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from native._venue import lib
from shm.errors import SegmentError
from shm.segment import (KIND_BROADCAST, KIND_CONTROL, KIND_SPSC, Segment, segment_path,
                         unlink_segment)
from shm.venue_lock import remove_stale_venue_locks

MAX_PRODUCERS = lib.RING_MAX_PRODUCERS


def control_path(name: str, directory: str | None = None) -> str:
    return segment_path(name, "control", directory)


def events_path(name: str, directory: str | None = None) -> str:
    return segment_path(name, "events", directory)


def cmd_path(name: str, slot: int, directory: str | None = None) -> str:
    return segment_path(name, f"cmd-{slot}", directory)


def reply_path(name: str, slot: int, directory: str | None = None) -> str:
    return segment_path(name, f"reply-{slot}", directory)


@dataclass
class EngineSegments:
    control: Segment
    events: Segment
    cmds: list[Segment] = field(default_factory=list)
    replies: list[Segment] = field(default_factory=list)

    def all(self) -> list[Segment]:
        return [self.control, self.events, *self.cmds, *self.replies]

    @classmethod
    def create(cls, name: str, producers: int, cmd_capacity: int, events_capacity: int,
               directory: str | None = None) -> "EngineSegments":
        """Creates every segment (replacing stale leftovers of a dead engine of the same name;
        a live one makes this raise SegmentExists). On failure, what was created is removed."""
        if not 1 <= producers <= MAX_PRODUCERS:
            raise ValueError(f"producers must be 1..{MAX_PRODUCERS}, got {producers}")
        made: list[Segment] = []
        try:
            control = Segment.create(control_path(name, directory), KIND_CONTROL)
            made.append(control)
            events = Segment.create(events_path(name, directory), KIND_BROADCAST, events_capacity)
            made.append(events)
            segs = cls(control, events)
            for k in range(producers):
                segs.cmds.append(Segment.create(cmd_path(name, k, directory), KIND_SPSC,
                                                cmd_capacity))
                made.append(segs.cmds[-1])
                segs.replies.append(Segment.create(reply_path(name, k, directory), KIND_SPSC,
                                                   cmd_capacity))
                made.append(segs.replies[-1])
            return segs
        except BaseException:
            for seg in made:
                seg.close(unlink=True)
            raise

    def close(self, unlink: bool = True) -> None:
        for seg in self.all():
            seg.close(unlink=unlink)


def engine_serving(name: str, directory: str | None = None, served_by: int | None = None) -> bool:
    """Whether engine `name` takes producers: its control segment attaches (heartbeat under 2 s
    old) and shows a producer count, which the runner publishes only when its loop starts, after
    every segment exists (runner_run). A process that starts an engine waits on this before
    attaching clients or gateways; False, not an error, while the engine is still starting.
    served_by: also require that process id to be the segment's creator (a restarted engine, not
    its predecessor's segment)."""
    try:
        seg = Segment.attach(control_path(name, directory), KIND_CONTROL, 0, 2_000_000_000)
    except SegmentError:
        return False
    try:
        if served_by is not None and int(seg.handle.hdr.creator_pid) != served_by:
            return False
        return bool(seg.control().producer_count > 0)
    finally:
        seg.detach()


def remove_leftovers(name: str, directory: str | None = None) -> list[str]:
    """Removes the segment files of engine `name` and its lock files that no live process holds
    (for tests and ops after a crash: a SIGKILLed engine or `up` leaves its lock file)."""
    paths = [control_path(name, directory), events_path(name, directory)]
    for k in range(MAX_PRODUCERS):
        paths += [cmd_path(name, k, directory), reply_path(name, k, directory)]
    removed = [p for p in paths if unlink_segment(p)]
    # The engine's and the gateways' latency regions (gateway/latency/venue.py): plain files that
    # their processes remove at exit, left behind only by a killed process.
    latency = os.path.dirname(control_path(name, directory))
    prefix = os.path.basename(segment_path(name, "latency-", directory))
    for entry in sorted(os.listdir(latency)):
        if entry.startswith(prefix):
            try:
                os.unlink(os.path.join(latency, entry))
                removed.append(os.path.join(latency, entry))
            except FileNotFoundError:
                pass
    return removed + remove_stale_venue_locks(name, directory)
