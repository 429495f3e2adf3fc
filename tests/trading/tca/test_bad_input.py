"""Bad input, for every report verb of `python -m trading report`: a corrupt journal segment (one
flipped byte in the event or the command journal), a missing event segment, a period with no
data, an unknown instrument. Each is refused with a clear message and exit status 1, and no
report file is left behind: nothing partial passes for complete."""
from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pytest

from tests.trading.tca.conftest import small_day_commands
from tests.trading.tca.test_cli import REF_TOML
from trading.tca.cli import main
from trading.tca.journal_build import write_journal
from trading.tca.synthetic import synthetic_day

BANDS = '[[bands]]\nmeasure = "slippage_arrival_bps"\nscope = "venue"\nhigh = 50.0\n'
# verb, its arguments (OUT: where it would write), whether it writes under OUT
VERBS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("daily", ("--date", "2025-12-06", "--out", "OUT")),
    ("weekly", ("--date", "2025-12-01", "--out", "OUT")),
    ("tca", ("--by", "account")),
    ("flow", ("TEST", "--window", "1h")),
    ("rule605", ("--month", "2025-12", "--out", "OUT")),
    ("rule606", ("--out", "OUT")),
    ("rts22", ("--out", "OUT")),
    ("rts27", ("--out", "OUT")),
    ("rts28", ("--out", "OUT")),
    ("audit", ("--out", "OUT")),
    ("monitor", ("--bands", "BANDS")),
)


@pytest.fixture(scope="module")
def good_day(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("bad") / "journal"
    write_journal(str(d), small_day_commands())
    return str(d)


def _flip(path: str, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def _call(verb: str, args: tuple[str, ...], journal: str, tmp: Path,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    (tmp / "ref.toml").write_text(REF_TOML)
    (tmp / "bands.toml").write_text(BANDS)
    out = tmp / f"out-{verb}"
    argv = [verb, *[str(out) if a == "OUT" else str(tmp / "bands.toml") if a == "BANDS" else a for a in args],
            "--journal", journal, "--reference", str(tmp / "ref.toml")]
    capsys.readouterr()
    rc = main(argv)
    return rc, capsys.readouterr().err, out


def _nothing_written(out: Path) -> bool:
    return not out.exists() or (out.is_dir() and not os.listdir(out))


@pytest.mark.parametrize("kind", ["evt", "cmd"])
@pytest.mark.parametrize("verb,args", VERBS, ids=[v for v, _ in VERBS])
def test_corrupt_segment_is_refused_by_every_verb(good_day: str, kind: str, verb: str, args: tuple[str, ...],
                                                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jdir = str(tmp_path / "journal")
    shutil.copytree(good_day, jdir)
    seg = sorted(glob.glob(os.path.join(jdir, f"{kind}-*.jrnl")))[0]
    _flip(seg, 128 + 5 * 128 + 40)                  # one byte inside the 6th record's payload
    rc, err, out = _call(verb, args, jdir, tmp_path, capsys)
    assert rc == 1 and "cannot be read" in err, (verb, rc, err)
    assert _nothing_written(out), verb


def test_missing_event_segment_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jdir = tmp_path / "journal"
    write_journal(str(jdir), synthetic_day(3000, seed=2).commands, limits=(1 << 16, 4096, 16, 16),
                  segment_bytes=1 << 18)
    segs = sorted(glob.glob(str(jdir / "evt-*.jrnl")))
    assert len(segs) > 2
    os.unlink(segs[-1])                              # the day's last events are gone
    for verb, args in VERBS:
        if verb == "flow":
            continue                                  # synthetic symbols differ; the tape is what is checked
        rc, err, out = _call(verb, args, str(jdir), tmp_path, capsys)
        assert rc == 1 and "cannot be read" in err, (verb, rc, err)
        assert _nothing_written(out), verb


@pytest.mark.parametrize("verb,args", [
    ("daily", ("--date", "2025-12-07", "--out", "OUT")),
    ("weekly", ("--date", "2025-12-08", "--out", "OUT")),
    ("tca", ("--date", "2025-12-07",)),
    ("rule605", ("--month", "2025-11", "--out", "OUT")),
    *[(v, ("--date", "2025-12-07", "--out", "OUT")) for v in ("rule606", "rts22", "rts27", "rts28", "audit")]],
    ids=["daily", "weekly", "tca", "rule605", "rule606", "rts22", "rts27", "rts28", "audit"])
def test_period_with_no_data_is_refused(good_day: str, verb: str, args: tuple[str, ...], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rc, err, out = _call(verb, args, good_day, tmp_path, capsys)
    assert rc == 1 and ("no order" in err or "no covered order" in err), (verb, rc, err)
    assert _nothing_written(out), verb


def test_unknown_instrument_is_refused(good_day: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err, _ = _call("flow", ("NOPE", "--window", "1h"), good_day, tmp_path, capsys)
    assert rc == 1 and "unknown instrument 'NOPE'" in err and "TEST (1)" in err
