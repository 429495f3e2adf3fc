"""The two ways of summing a dimension (trading/tca/grouping.py) agree: per (account, instrument)
atom first, then per group (the whole-day path of strategy, account, instrument and venue), and
per group straight from the orders (the path of a masked subset, here every order)."""
from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from tests.trading.tca.conftest import REFERENCE
from trading.tca.analysis import analyze, summarize
from trading.tca.grouping import ATOM_DIMENSIONS
from trading.tca.journal_build import write_journal
from trading.tca.reference import Reference
from trading.tca.synthetic import synthetic_day
from trading.tca.tape import load_tape


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _check(jdir: str, ref: Reference) -> None:
    an = analyze(load_tape(jdir), ref)
    every = np.ones(len(an.tape.orders), bool)
    for dim in ATOM_DIMENSIONS:
        fast, direct = summarize(an, dim), summarize(an, dim, order_mask=every)
        assert [s.key for s in fast] == [s.key for s in direct]
        for f, d in zip(fast, direct):
            bad = {k: (v, asdict(d)[k]) for k, v in asdict(f).items() if not _same(v, asdict(d)[k])}
            assert not bad, (dim, f.key, bad)


def test_atom_path_equals_direct_path_small_day(small_day: str) -> None:
    _check(small_day, REFERENCE)


def test_atom_path_equals_direct_path_synthetic_day(tmp_path: Path) -> None:
    day = synthetic_day(2000, seed=11)
    write_journal(str(tmp_path / "j"), day.commands, limits=(1 << 16, 4096, 16, 16))
    _check(str(tmp_path / "j"), Reference(venue_name="SYNTH", venue_mic="XSYN"))


def test_unknown_dimension_is_refused(small_day: str) -> None:
    an = analyze(load_tape(small_day), REFERENCE)
    with pytest.raises(KeyError, match="unknown dimension"):
        summarize(an, "desk")
