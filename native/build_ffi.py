"""Builds the one cffi API-mode extension, ``native._venue``, from the C sources in native/.

No C lives in Python strings here: the declarations cffi sees are cut out of the project's own
headers, between the marker comments ``/* CFFI-BEGIN */`` and ``/* CFFI-END */``, and every
``native/*.c`` file is compiled in. So a struct that Python uses is declared exactly once (in its
header), and because API mode checks fully declared structs against the compiler's layout, any
drift between the header and what Python believes fails the build instead of corrupting memory.

Header order: ``venue_layout.h`` (the one layout header every process maps) first, then the rest by
name. Environment switches, all off by default so a build is portable:
  VENUE_MARCH_NATIVE=1  add -march=native (only for a build that runs on the machine it was built on)
  VENUE_DEBUG=1         -O0 -g and the invariant checks compiled in
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from cffi import FFI

NATIVE_DIR = Path(__file__).resolve().parent
LAYOUT_HEADER = "venue_layout.h"
_SECTION = re.compile(r"/\* CFFI-BEGIN \*/(.*?)/\* CFFI-END \*/", re.S)


def _headers() -> list[Path]:
    headers = sorted(NATIVE_DIR.glob("*.h"), key=lambda p: (p.name != LAYOUT_HEADER, p.name))
    return [h for h in headers if "CFFI-BEGIN" in h.read_text()]


def cdef_text() -> str:
    """The declarations cffi parses: every marked section of every header, layout header first."""
    parts = []
    for header in _headers():
        sections = _SECTION.findall(header.read_text())
        if not sections:
            raise RuntimeError(f"{header.name}: CFFI-BEGIN marker without a matching CFFI-END")
        parts.append(f"/* from {header.name} */\n" + "\n".join(sections))
    return "\n".join(parts)


def _sources() -> list[str]:
    # Paths relative to the project root: setuptools insists on relative source paths.
    root = NATIVE_DIR.parent
    return [str(p.relative_to(root)) for p in sorted(NATIVE_DIR.glob("*.c"))]


def _compile_args() -> list[str]:
    args = ["-std=gnu11", "-fno-strict-aliasing", "-Wall", "-Wextra", "-Wno-unused-parameter",
            "-Wno-missing-field-initializers"]
    if os.environ.get("VENUE_DEBUG") == "1":
        args += ["-O0", "-g", "-DVENUE_DEBUG=1"]
    else:
        args += ["-O2"]
    if os.environ.get("VENUE_MARCH_NATIVE") == "1":
        args.append("-march=native")
    return args


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "native._venue",
    "\n".join(f'#include "{h.name}"' for h in _headers()),
    sources=_sources(),
    include_dirs=[str(NATIVE_DIR)],
    extra_compile_args=_compile_args(),
    libraries=["rt", "pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
