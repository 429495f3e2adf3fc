"""Errors of the smart order router: each names what was refused and why."""
from __future__ import annotations


class RoutingError(ValueError):
    """A parent order, venue description, strategy name or plan the router cannot act on."""
