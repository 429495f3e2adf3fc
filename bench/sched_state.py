"""Scheduling and idle state the latency benches set and report (bench/wire.py,
bench/marketdata.py): SCHED_FIFO for a process's threads, what /dev/cpu_dma_latency and the
cpuidle driver say (optionally holding a value for the run), and per-process run-queue waits and
switches from schedstat, so a bench can say why its tail is what it is on shared cores."""
from __future__ import annotations

import os
import struct

DMA_DEVICE = "/dev/cpu_dma_latency"
CPUIDLE_DRIVER = "/sys/devices/system/cpu/cpuidle/current_driver"


def set_fifo(pid: int, prio: int) -> None:
    """SCHED_FIFO at prio for every thread of pid (0: the calling thread only); 0: SCHED_OTHER."""
    tids = [0] if pid == 0 else [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    for tid in tids:
        if prio:
            os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(prio))
        else:
            os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))


def fifo_permitted() -> bool:
    try:
        set_fifo(0, 1)
    except OSError:
        return False
    set_fifo(0, 0)
    return True


def schedstat(pid: int) -> tuple[int, int]:
    """(ns runnable but waiting for a CPU, times switched in), summed over pid's threads."""
    delay = slices = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                fields = fh.read().split()
        except OSError:
            continue                    # the thread ended meanwhile
        delay += int(fields[1])
        slices += int(fields[2])
    return delay, slices


def steal_ticks() -> int:
    """Time the hypervisor ran something else while this VM wanted its CPUs (USER_HZ ticks)."""
    with open("/proc/stat") as fh:
        return int(fh.readline().split()[8])


def dma_state(hold_us: int | None = None) -> tuple[dict[str, object], int | None]:
    """The cpuidle driver and the effective /dev/cpu_dma_latency, after holding hold_us if asked.
    Returns (state, the fd that holds the request, to close at the end, or None). Raises OSError
    if hold_us cannot be held."""
    state: dict[str, object] = {}
    try:
        with open(CPUIDLE_DRIVER) as fh:
            state["cpuidle_driver"] = fh.read().strip()
    except OSError:
        state["cpuidle_driver"] = "unknown"
    fd = None
    if hold_us is not None:
        fd = os.open(DMA_DEVICE, os.O_WRONLY)
        os.write(fd, struct.pack("<i", hold_us))
    try:
        with open(DMA_DEVICE, "rb") as fh:
            state["cpu_dma_latency_us"] = struct.unpack("<i", fh.read(4))[0]
    except OSError as exc:
        state["cpu_dma_latency_us"] = f"unreadable ({exc.strerror})"
    state["held_by_bench_us"] = hold_us
    return state, fd
