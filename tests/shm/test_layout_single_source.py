"""The shared layout has one source, native/layout/venue_layout.h: Python's sizes and offsets come from
cffi (which checks them against the compiler at build time), and no module in shm/ spells a
layout by hand (no struct format strings, no literal sizes or offsets in numpy dtypes)."""
from __future__ import annotations

import re
from pathlib import Path

from native._venue import ffi, lib
from shm.client import REPLY_DTYPE

SHM = Path(__file__).resolve().parents[2] / "shm"


def test_layout_constants_match_compiled_structs():
    assert ffi.sizeof("ring_seg_hdr_t") == lib.RING_SEG_HDR_BYTES
    assert ffi.sizeof("ring_record_hdr_t") == lib.RING_RECORD_HDR_BYTES
    assert ffi.offsetof("ring_spsc_ctl_t", "head") == lib.RING_CACHE_BLOCK
    assert ffi.sizeof("ring_control_t") + lib.RING_SEG_CTL_OFFSET <= lib.RING_SEG_DATA_OFFSET
    assert len(ffi.new("ring_control_t *").producers) == lib.RING_MAX_PRODUCERS
    assert REPLY_DTYPE.itemsize == ffi.sizeof("ring_reply_t")


def test_shm_modules_do_not_hand_write_layouts():
    offenders = []
    for path in SHM.glob("*.py"):
        text = path.read_text()
        if re.search(r"\bimport struct\b|struct\.(un)?pack", text):
            offenders.append(f"{path.name}: struct module")
        if re.search(r"itemsize\"?\s*[:=]\s*\d|offsets\"?\s*:\s*\[\s*\d|sizeof_[a-z]+\s*=\s*\d", text):
            offenders.append(f"{path.name}: literal size or offset in a dtype")
    assert not offenders, offenders
