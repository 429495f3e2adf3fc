"""Source lint: every acquire, release or fence in the ring and runner C code carries a comment
naming its partner ("pairs with ..."), within the few lines above it (STYLE.md: an ordered access
with no stated partner is assumed to be a bug)."""
from __future__ import annotations

import re
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[2] / "native"
ORDERED = re.compile(r"RING_ACQUIRE|RING_RELEASE|RING_SEQ_CST|memory_order_acq_rel|"
                     r"atomic_thread_fence|ring_fence_seq_cst\(\)")
PARTNER = re.compile(r"pairs\s+(\*\s+)?with|partner", re.I)


def test_every_ordered_access_names_its_partner():
    missing = []
    for path in sorted(NATIVE.glob("ring/*.c")) + sorted(NATIVE.glob("runner/*.c")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not ORDERED.search(line) or line.lstrip().startswith(("#define", "*", "/*")):
                continue
            window = "\n".join(lines[max(0, i - 6):i + 1])
            if not PARTNER.search(window):
                missing.append(f"{path.name}:{i + 1}: {line.strip()}")
    assert not missing, "ordered accesses without a named partner:\n" + "\n".join(missing)
