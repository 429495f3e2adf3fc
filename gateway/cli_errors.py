"""One line for every bad command-line argument of ``python -m gateway VERB``.

argparse answers a bad argument with its whole usage block and then the error; a person (or a
script reading stderr) needs the error, and where to look for more. ``install()``, called once by
the entry point before a verb parses its arguments, makes every parser of the process print
``prog: error: MESSAGE (see prog --help)`` as one line and exit 2, as argparse's own exit status
for usage errors. ``--help`` is unchanged.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn


def _one_line_error(self: argparse.ArgumentParser, message: str) -> NoReturn:
    text = " ".join(f"{self.prog}: error: {message}".split())
    self.exit(2, f"{text} (see {self.prog} --help)\n")


def install() -> None:
    """Every ArgumentParser of this process reports usage errors in one line (exit 2)."""
    argparse.ArgumentParser.error = _one_line_error  # type: ignore[method-assign]


def print_error(prog: str, message: str) -> int:
    """The same one line for an error a verb finds after parsing; returns 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2
