"""The tests' historical import path for the venue launcher's waits: gateway.launcher is the one
place they live (wait_for, stop, output), shared with the demo and the benchmarks. New code
imports gateway.launcher directly."""
from __future__ import annotations

from gateway.launcher import DEADLINE_S, LaunchError, output, stop, wait_for

__all__ = ["DEADLINE_S", "LaunchError", "output", "stop", "wait_for"]
