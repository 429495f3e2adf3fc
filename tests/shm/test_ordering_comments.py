"""Source lint over every C file of native/ (STYLE.md: an ordered access with no stated partner is
assumed to be a bug):

- each acquire, release, acq_rel or seq_cst access and each fence carries a comment naming its
  partner ("pairs with ..." or "partner"), within the few lines above it;
- each function a partner comment names as ``name()`` exists in native/, so a comment cannot
  keep pointing at a function that was renamed or removed.

Relaxed accesses need no partner (they order nothing)."""
from __future__ import annotations

import re
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[2] / "native"
ORDERED = re.compile(r"RING_ACQUIRE|RING_RELEASE|RING_SEQ_CST|"
                     r"memory_order_(acquire|release|acq_rel|seq_cst|consume)|"
                     r"__ATOMIC_(ACQUIRE|RELEASE|ACQ_REL|SEQ_CST|CONSUME)|"
                     r"atomic_thread_fence|atomic_signal_fence|ring_fence_seq_cst\(\)")
PARTNER = re.compile(r"pairs\s+(\*\s+)?with|partner", re.I)
PARTNER_TEXT = re.compile(r"(?:[Pp]airs\s+(?:\*\s+)?with|[Pp]artner)((?:.|\n){0,300}?)(?:\*/|$)")
CALLED = re.compile(r"\b([a-z_][a-z0-9_]*)\(\)")
DEFINED = re.compile(r"^[A-Za-z_][\w \*]*?\b([a-z_][a-z0-9_]*)\s*\([^;{]*?\)\s*\{", re.M)
MACRO = re.compile(r"#define\s+([a-z_][a-z0-9_]*)\(")


def _sources() -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(NATIVE.rglob("*.[ch]"))}


def _uses_atomics(text: str) -> bool:
    return "atomic" in text or "RING_ACQUIRE" in text or "RING_RELEASE" in text


def test_the_lint_covers_every_c_file_that_uses_atomics():
    covered = [p for p, text in _sources().items() if _uses_atomics(text)]
    names = {p.relative_to(NATIVE).as_posix() for p in covered}
    # the files the lint was first written for, and those it missed before it scanned everything
    for must in ("ring/ring_spsc.c", "runner/runner_loop.c", "journal/jrnl_replay.c",
                 "gateway/gw_waker.c", "gateway/gw_admin.c", "journal/jrnl_spare.c"):
        assert must in names, must


def test_every_ordered_access_names_its_partner():
    missing = []
    for path, text in _sources().items():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not ORDERED.search(line) or line.lstrip().startswith(("#define", "*", "/*", "//")):
                continue
            window = "\n".join(lines[max(0, i - 6):i + 1])
            if not PARTNER.search(window):
                missing.append(f"{path.relative_to(NATIVE)}:{i + 1}: {line.strip()}")
    assert not missing, "ordered accesses without a named partner:\n" + "\n".join(missing)


def test_partner_comments_name_functions_that_exist():
    sources = _sources()
    everything = "\n".join(sources.values())
    defined = set(DEFINED.findall(everything)) | set(MACRO.findall(everything))
    stale = []
    for path, text in sources.items():
        for m in PARTNER_TEXT.finditer(text):
            for name in CALLED.findall(m.group(1)):
                if name not in defined:
                    line = text[:m.start()].count("\n") + 1
                    stale.append(f"{path.relative_to(NATIVE)}:{line}: {name}()")
    assert not stale, "partner comments naming functions that do not exist:\n" + "\n".join(stale)
