"""Host tuning for the venue, after Red Hat's tuned: profiles are TOML data (tuning/profiles/),
one module per subsystem turns a section into Settings that can be audited, planned, applied,
verified and rolled back (tuning/runner.py), and ``python -m tuning`` is the operator's face.
The engine calls ``startup_warnings`` at start-up; nothing here runs on the hot path."""
from tuning.startup import startup_warnings

__all__ = ["startup_warnings"]
