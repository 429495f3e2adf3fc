"""Errors of the market-making room.

ParameterError names the offending field, so a config file, a CLI ``--param k=v`` or the ops shell
can tell the user which value to fix. Every parameter is checked before a strategy sends anything:
a market maker that starts with a negative risk aversion or a zero tick never reaches the engine.
"""
from __future__ import annotations


class ParameterError(ValueError):
    """An impossible parameter: ``field`` is its name, ``value`` what was given, ``reason`` why."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")
