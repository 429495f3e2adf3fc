"""The kept corpus (corpus/manifest.json): each frame decodes to its expected reason in the Python and
the C decoder, to the same message or the same refused template, and the corpus still matches the
frames tests/gateway/sbe_samples.py builds (so an encoder change cannot slip past it)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.orderentry import sbe_codec as s
from gateway.reasons import Reason
from tests.gateway import sbe_cffi, sbe_samples

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
IDS = [e["file"] for e in MANIFEST]


@pytest.mark.parametrize("entry", MANIFEST, ids=IDS)
def test_python_decoder_gives_the_expected_reason(entry: dict[str, str]) -> None:
    rc, _, _ = sbe_cffi.py_decode((CORPUS / entry["file"]).read_bytes())
    assert Reason(rc).name == entry["expect"], entry["why"]


@pytest.mark.parametrize("entry", MANIFEST, ids=IDS)
def test_c_decoder_gives_the_expected_reason_and_the_same_result(c_codec: None, entry: dict[str, str]) -> None:
    data = (CORPUS / entry["file"]).read_bytes()
    c_result = sbe_cffi.c_decode(data)
    assert Reason(c_result[0]).name == entry["expect"], entry["why"]
    assert c_result == sbe_cffi.py_decode(data)


def test_corpus_covers_every_codec_error_and_every_template() -> None:
    expected = {e["expect"] for e in MANIFEST}
    codec_errors = {r.name for r in Reason if 900 <= r <= 939}
    assert codec_errors <= expected
    good = [sbe_cffi.py_decode((CORPUS / e["file"]).read_bytes())[1] for e in MANIFEST if e["expect"] == "ENG_OK"]
    assert {type(m).TEMPLATE_ID for m in good} == set(s.TEMPLATES)


def test_corpus_files_match_the_frames_the_samples_build() -> None:
    built = {name: (expect, data) for name, expect, _, data in sbe_samples.corpus_frames()}
    assert sorted(built) == sorted(IDS), "manifest and builder list different files"
    for entry in MANIFEST:
        expect, data = built[entry["file"]]
        assert expect == entry["expect"], entry["file"]
        assert (CORPUS / entry["file"]).read_bytes() == data, f"{entry['file']} differs from what sbe_samples builds"
