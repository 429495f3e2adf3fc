"""Builds the one cffi API-mode extension, ``native._venue``, from the C sources in native/.

No C lives in Python strings here: the declarations cffi sees are cut out of the project's own
headers, between the marker comments ``/* CFFI-BEGIN */`` and ``/* CFFI-END */``, and every ``.c``
file under a component folder of native/ (``COMPONENTS``; not ``tests``, whose harnesses are
standalone) is compiled in. So a struct that Python uses is declared exactly once (in its header), and because API mode checks fully declared structs against the compiler's layout, any
drift between the header and what Python believes fails the build instead of corrupting memory.

Header order is the explicit list ``CDEF_HEADERS``: the layout header every process maps first,
then each component after the ones whose types it uses. A header with a CFFI section that is not in
the list fails the build, so a new one cannot be skipped silently.

Environment switches, off by default so a build is portable:
  VENUE_MARCH_NATIVE=1  add -march=native (only for a build that runs on the machine it was built on)
  VENUE_NO_OPENSSL=1    build without libssl even where its headers are (the gateway's TLS
                        listener is then refused at start-up with the reason)
(Sanitizer builds of the C are the tests' own: tests/gateway/test_gw_c_sanitized.py and the fuzz
harnesses in native/tests/; the engine's invariants are checked at run time by eng_check().)
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from cffi import FFI

NATIVE_DIR = Path(__file__).resolve().parent
# Component folders, in dependency order; every C source and header of the extension lives in one.
COMPONENTS = ("layout", "ring", "matching", "journal", "hdr", "runner", "md", "gateway", "bench", "replay", "tca")
# Headers whose CFFI sections cffi parses, in this order (a header's declarations may use the types
# of the headers before it).
CDEF_HEADERS = (
    "layout/venue_layout.h",
    "ring/ring_segment.h", "ring/ring_spsc.h", "ring/ring_bcast.h", "ring/ring_wait.h",
    "matching/eng_engine.h", "matching/eng_diag.h", "matching/eng_snapshot.h",
    "journal/jrnl_crc.h", "journal/jrnl_durable.h", "journal/jrnl_log.h", "journal/jrnl_segment.h", "journal/jrnl_cursor.h", "journal/jrnl_prune.h",
    "journal/jrnl_drop.h",
    "journal/jrnl_replay.h", "journal/jrnl_snapshot.h", "journal/jrnl_snapfile.h",
    "hdr/hdr_clock.h", "hdr/hdr_recorder.h",
    "runner/runner_setup.h", "runner/runner_client.h", "runner/runner_loop.h",
    "md/md_feed.h", "md/md_book.h", "md/md_encode.h", "md/md_xdp.h", "md/md_pub.h", "md/md_sub.h", "md/md_subrx.h",
    "gateway/sbe_codec.h", "gateway/gw_security.h", "gateway/gw_admin.h", "gateway/gw_server.h",
    "bench/eng_perf.h", "bench/gw_loadgen.h", "bench/gw_sec_bench.h", "bench/hdr_bench.h", "bench/md_probe.h",
    "bench/probe_tcp.h", "bench/ring_probe.h", "bench/ring_stress.h", "bench/tls_client.h",
    "replay/rpl_router.h", "replay/rpl_view.h", "replay/rpl_orders.h", "replay/rpl_ledger.h", "replay/rpl_loop.h",
    "tca/tca_bbo.h",
)
_SECTION = re.compile(r"/\* CFFI-BEGIN \*/(.*?)/\* CFFI-END \*/", re.S)


def _headers() -> list[Path]:
    listed = [NATIVE_DIR / h for h in CDEF_HEADERS]
    marked = {h for c in COMPONENTS for h in (NATIVE_DIR / c).glob("*.h") if "CFFI-BEGIN" in h.read_text()}
    unlisted = sorted(str(h.relative_to(NATIVE_DIR)) for h in marked - set(listed))
    missing = [str(h.relative_to(NATIVE_DIR)) for h in listed if h not in marked]
    if unlisted or missing:
        raise RuntimeError(f"CDEF_HEADERS out of date: unlisted {unlisted}, listed without a CFFI section {missing}")
    return listed


def include_dirs() -> list[str]:
    """Every component folder: sources include each other's headers by bare name."""
    return [str(NATIVE_DIR / c) for c in COMPONENTS]


def cdef_text() -> str:
    """The declarations cffi parses: every marked section of every header, in CDEF_HEADERS order."""
    parts = []
    for header in _headers():
        sections = _SECTION.findall(header.read_text())
        if not sections:
            raise RuntimeError(f"{header.name}: CFFI-BEGIN marker without a matching CFFI-END")
        parts.append(f"/* from {header.relative_to(NATIVE_DIR)} */\n" + "\n".join(sections))
    return "\n".join(parts)


def sources() -> list[str]:
    """Every C source of the extension, relative to the project root (setuptools insists on
    relative source paths)."""
    root = NATIVE_DIR.parent
    return [str(p.relative_to(root)) for c in COMPONENTS for p in sorted((NATIVE_DIR / c).glob("*.c"))]


def _compile_args() -> list[str]:
    args = ["-std=gnu11", "-fno-strict-aliasing", "-Wall", "-Wextra", "-Wno-unused-parameter",
            "-Wno-missing-field-initializers", "-O2",
            # no fused multiply-add (with -march=native): replay/rpl_ledger.c repeats Python's float
            # operations one by one, to the bit
            "-ffp-contract=off"]
    if os.environ.get("VENUE_MARCH_NATIVE") == "1":
        args.append("-march=native")
    return args


def openssl_found() -> bool:
    """libssl's headers and library are here: the gateway's TLS listener (gw_tls.c) is built with
    them; without, it is built without TLS and says so when a TLS listener is asked for.
    VENUE_NO_OPENSSL=1 builds without TLS, as on a machine that lacks libssl."""
    if os.environ.get("VENUE_NO_OPENSSL") == "1":
        return False
    import ctypes.util
    heads = any(Path(d, "openssl", "ssl.h").is_file() for d in ("/usr/include", "/usr/local/include"))
    return heads and bool(ctypes.util.find_library("ssl")) and bool(ctypes.util.find_library("crypto"))


# libcrypto (OpenSSL): the gateway's session-key proofs (gateway/gw_security.c: HMAC-SHA256, SHA-256);
# libssl: its TLS listener (gw_tls.c) and the benches' TLS client, where found.
LIBRARIES = ["rt", "pthread", "crypto"] + (["ssl"] if openssl_found() else [])

ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "native._venue",
    "\n".join(f'#include "{h.name}"' for h in _headers()),
    sources=sources(),
    include_dirs=include_dirs(),
    extra_compile_args=_compile_args(),
    libraries=LIBRARIES,
    define_macros=[("GW_WITH_OPENSSL", "1")] if openssl_found() else [],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
