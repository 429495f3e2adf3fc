"""Children of a supervisor stop when the supervisor dies, however it dies.

``up`` (and the multi-venue ``up``) stop their processes in order on SIGINT/SIGTERM. A SIGKILL of
``up`` runs none of that: without this, its engine, control plane, gateway and monitor went on
with init as their parent, holding the venue's ports and shared memory, and the next ``up`` of the
same config was refused. Linux's parent-death signal (prctl PR_SET_PDEATHSIG, kept across exec)
sends each child SIGTERM, its own clean stop (the engine syncs its journal, the gateway ends every
session with Terminate 964), the moment the supervisor is gone.

The hook runs in the child between fork and exec (subprocess's preexec_fn): it only calls prctl,
resolved once at import, and getppid. The signal is tied to the thread that forked, so the
supervisors start children from their main thread only. If the supervisor died before prctl took
effect, the child is already orphaned and exits at once instead of running unsupervised.
"""
from __future__ import annotations

import ctypes
import os
import signal
from typing import Callable

_PR_SET_PDEATHSIG = 1                     # <linux/prctl.h>
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_prctl.restype = ctypes.c_int


def stop_with_parent(then: Callable[[], None] | None = None) -> Callable[[], None]:
    """A preexec_fn: SIGTERM to the child when the process calling this (its parent) dies; then
    `then` (e.g. CPU pinning). Call it in the parent, so the parent's pid is taken before fork."""
    parent = os.getpid()

    def hook() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:        # the supervisor died before the signal was armed
            os._exit(1)
        if then is not None:
            then()
    return hook
