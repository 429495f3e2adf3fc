"""What can be wrong with the input of an analysis, as exceptions with a message a person can act on.

Every entry point (loader, analyzer, report generators, CLI) raises one of these instead of
producing a partial result: a report is either complete for its period or not written at all.
"""
from __future__ import annotations


class TcaInputError(ValueError):
    """The input cannot give a complete analysis; the message says which input and why."""


class NoData(TcaInputError):
    """The journal holds no orders (or no executions, where they are needed) in the period asked."""


class UnknownInstrument(TcaInputError):
    """An instrument symbol or id that neither the journal nor the reference data knows."""


class CorruptJournal(TcaInputError):
    """A journal segment fails its checks (checksum, sequence, header): nothing was analysed."""
