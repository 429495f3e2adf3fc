"""Exceptions of the market-data package and the one function mapping md_status_t codes to them.

Three kinds stay apart: ``MalformedError`` (the bytes are wrong), ``NotAvailableError`` (a
well-formed request this server cannot serve: not retained, not yet published) and ``BookError``
(the feed contradicts the book: resync from a snapshot). Messages name the code and the context.
"""
from __future__ import annotations

from native._venue import ffi, lib


class MarketDataError(Exception):
    """Base of every market-data error; ``code`` is the md_status_t value."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class MalformedError(MarketDataError, ValueError):
    """A packet, message, request or response whose bytes are wrong."""


class NotAvailableError(MarketDataError, LookupError):
    """A recovery request that is well formed but asks for something the server does not hold."""


class BookError(MarketDataError):
    """The feed contradicts the rebuilt book (or a book is full): resync from a snapshot."""


class RecoveryError(MarketDataError, ConnectionError):
    """The recovery server could not be reached or broke off an answer."""


_NAMES = {int(v): str(n) for v, n in ffi.typeof("md_status_t").elements.items()}


def status_name(code: int) -> str:
    return _NAMES.get(code, f"md_status {code}")


def check(code: int, context: str) -> int:
    """Returns code if it is >= 0, else raises the exception its md_status_t stands for."""
    if code >= 0:
        return code
    text = f"{context}: {status_name(code)}"
    if code in (lib.MD_E_NOT_RETAINED, lib.MD_E_NOT_YET):
        raise NotAvailableError(text, code)
    if code in (lib.MD_E_BOOK, lib.MD_E_CAPACITY):
        raise BookError(text, code)
    if code == lib.MD_E_NOMEM or code < -2100:
        raise MemoryError(text)
    if code == lib.MD_E_BUFFER_SMALL:
        raise ValueError(text)
    raise MalformedError(text, code)
