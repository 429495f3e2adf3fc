"""`python -m trading report ...` end to end on the small day, and bad input: a period with no
data, an unknown instrument, a corrupt journal segment, bad arguments. Each gives one clear line,
a non-zero exit, and no file passed off as a complete report."""
from __future__ import annotations

import csv
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trading.tca.identifiers import lei_ok

REF_TOML = """
[venue]
name = "TESTVENUE"
mic = "XTST"
lei = "529900T8BM49AURSDO55"
price_scale = 10000
[fees]
taker_per_share = 0.003
maker_per_share = -0.002
auction_per_share = 0.001
[[instruments]]
id = 1
symbol = "TEST"
isin = "US0378331005"
[[accounts]]
id = 1
firm = "mmfirm"
strategy = "mm"
lei = "529900T8BM49AURSDO55"
decision_maker = "MM1"
[[accounts]]
id = 2
firm = "client"
strategy = "taker"
lei = "5493001KJTIIGC8Y1R12"
decision_maker = "TRADER2"
[[accounts]]
id = 3
firm = "client"
strategy = "algo"
lei = "5493001KJTIIGC8Y1R12"
decision_maker = "ALGO3"
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trading", "report", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def ref_file(tmp_path: Path) -> str:
    p = tmp_path / "ref.toml"
    p.write_text(REF_TOML)
    return str(p)


def test_daily_report_html_pdf_json(small_day: str, ref_file: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    r = run("daily", "--date", "2025-12-06", "--journal", small_day, "--reference", ref_file, "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = (out / "daily-2025-12-06.html").read_text()
    assert "Execution quality" in html and "data:image/png;base64," in html and "ok" in html
    assert (out / "daily-2025-12-06.pdf").read_bytes()[:5] == b"%PDF-"
    summary = json.loads((out / "daily-2025-12-06.json").read_text())
    # totals straight from the journal: 5 trades, 260 shares, 26,003.00 notional
    assert summary["totals"]["executions"] == 5 and summary["totals"]["shares"] == 260
    assert summary["totals"]["notional"] == pytest.approx(26_003.0)
    assert {q["name"] for q in summary["quality"]} >= {"fill rate, market orders", "price improvement",
                                                        "market impact", "implementation shortfall"}


def test_weekly_analysis(small_day: str, ref_file: str, tmp_path: Path) -> None:
    out = tmp_path / "weekly"
    r = run("weekly", "--date", "2025-12-01", "--journal", small_day, "--reference", ref_file, "--out", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "weekly-2025-12-01.json").read_text())
    assert [d["day"] for d in summary["days"]] == ["2025-12-06"] and summary["totals"]["executions"] == 5
    assert (out / "weekly-2025-12-01.pdf").stat().st_size > 10_000


def test_regulatory_outputs_validate_and_reconcile(small_day: str, ref_file: str, tmp_path: Path) -> None:
    r = run("rts22", "--journal", small_day, "--reference", ref_file, "--out", str(tmp_path / "rts22.csv"))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "rts22.csv")))
    assert len(rows) == 10 and sum(int(x["quantity"]) for x in rows) == 2 * 260
    assert all(lei_ok(x["buyer_id"]) and lei_ok(x["seller_id"]) for x in rows)
    r = run("rule605", "--month", "2025-12", "--journal", small_day, "--reference", ref_file,
            "--out", str(tmp_path / "605.csv"))
    assert r.returncode == 0, r.stderr
    lines = [x for x in open(tmp_path / "605.csv") if not x.startswith("#")]
    rows605 = list(csv.DictReader(lines))
    # covered: the 3 market orders and order 11 (marketable limit); 12 (near the quote: 2 ticks
    # below the bid, within $0.10) is covered too; the maker's quotes at or inside the spread
    assert sum(int(x["executed_shares"]) for x in rows605 if x["order_type"] == "MKT") == 200
    for name in ("rule606", "rts27", "rts28"):
        r = run(name, "--journal", small_day, "--reference", ref_file, "--out", str(tmp_path / f"{name}.csv"))
        assert r.returncode == 0, r.stderr
    assert "2024/790" in open(tmp_path / "rts28.csv").readline()
    r = run("audit", "--journal", small_day, "--reference", ref_file, "--out", str(tmp_path / "audit"))
    assert r.returncode == 0, r.stderr
    jl = [json.loads(x) for x in open(tmp_path / "audit" / "audit-trail.jsonl")]
    assert sum(1 for x in jl if x["event"] == "EXECUTED") == 10
    assert sum(x["qty"] for x in jl if x["event"] == "EXECUTED") == 520
    assert len(list(csv.DictReader(open(tmp_path / "audit" / "audit-trail.csv")))) == len(jl)


def test_rts22_with_missing_lei_is_refused_and_not_written(small_day: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(REF_TOML.replace('lei = "5493001KJTIIGC8Y1R12"', 'lei = "5493001KJTIIGC8Y1R13"', 1))
    out = tmp_path / "rts22.csv"
    r = run("rts22", "--journal", small_day, "--reference", str(bad), "--out", str(out))
    assert r.returncode == 1 and "not a valid LEI" in r.stderr and "report not written" in r.stderr
    assert not out.exists() and not glob.glob(str(out) + "*")


def test_flow_analyzer_from_the_shell(small_day: str, ref_file: str) -> None:
    r = run("flow", "TEST", "--window", "1h", "--journal", small_day, "--reference", ref_file)
    assert r.returncode == 0, r.stderr
    assert "10 orders" in r.stdout and "5 executions" in r.stdout and "fill rate, market orders" in r.stdout


def test_period_with_no_data(small_day: str, ref_file: str, tmp_path: Path) -> None:
    r = run("daily", "--date", "2025-12-07", "--journal", small_day, "--reference", ref_file, "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "no orders between" in r.stderr and "no report written" in r.stderr
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")


def test_unknown_instrument(small_day: str, ref_file: str) -> None:
    r = run("flow", "NOPE", "--journal", small_day, "--reference", ref_file)
    assert r.returncode == 1 and "unknown instrument 'NOPE'" in r.stderr and "TEST (1)" in r.stderr


def test_corrupt_journal_segment(small_day: str, ref_file: str, tmp_path: Path) -> None:
    seg = sorted(glob.glob(os.path.join(small_day, "evt-*.jrnl")))[0]
    with open(seg, "r+b") as f:          # one byte inside the 3rd event record's payload
        f.seek(128 + 2 * 128 + 40)
        b = f.read(1)
        f.seek(128 + 2 * 128 + 40)
        f.write(bytes([b[0] ^ 0xFF]))
    r = run("daily", "--date", "2025-12-06", "--journal", small_day, "--reference", ref_file, "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "journal cannot be read, nothing analysed" in r.stderr
    assert not (tmp_path / "o").exists()


def test_bad_arguments_one_line_exit_2(small_day: str, tmp_path: Path) -> None:
    for args in (["daily", "--date", "2025-13-01", "--out", "x"], ["flow", "TEST", "--window", "-5m"],
                 ["rule605", "--month", "2025-1", "--out", "x"], ["nosuch"]):
        r = run(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    r = run("tca", "--journal", str(tmp_path / "missing"))
    assert r.returncode == 1 and "no such journal directory" in r.stderr
    bad = tmp_path / "ref.toml"
    bad.write_text("[venue]\nmicc = 'X'\n")
    r = run("tca", "--journal", small_day, "--reference", str(bad))
    assert r.returncode == 1 and "unknown key 'micc'" in r.stderr


@pytest.mark.parametrize("text, words", [
    ("venue = 5", "[venue]: must be a table, got 5"),
    ("instruments = [1]", "instruments[0]: must be a table, got 1"),
    ("[fees]\ntaker_per_share = nan", "[fees].taker_per_share: must be a finite number, got nan"),
    ("[[instruments]]\nid = -5\nsymbol = 'A'", "instruments[0].id: must be 1..4294967295, got -5"),
    ("[[instruments]]\nid = 2\nsymbol = ''", "instruments[0].symbol: must not be empty"),
    ("[[instruments]]\nid = 1\nsymbol = 'A'\n[[instruments]]\nid = 1\nsymbol = 'B'",
     "instruments[1].id: 1 appears twice"),
    ("[[accounts]]\nid = -1", "accounts[0].id: must be 0..4294967295, got -1"),
], ids=["venue-not-table", "instrument-not-table", "nan-fee", "negative-id", "empty-symbol", "duplicate-id",
        "negative-account"])
def test_reference_data_of_the_wrong_shape_is_refused(text: str, words: str) -> None:
    """Each was a TypeError traceback (wrong shape) or silently accepted (NaN fee: every cost NaN;
    a duplicated id: the last one silently won)."""
    import tomllib

    from trading.tca.errors import TcaInputError
    from trading.tca.reference import parse_reference
    with pytest.raises(TcaInputError) as exc:
        parse_reference(tomllib.loads(text), "ref.toml")
    assert words in str(exc.value)


def test_unusable_outputs_and_intervals_exit_2_before_reading(small_day: str, ref_file: str, tmp_path: Path) -> None:
    """--out naming a file (or a folder under a file) was a FileExistsError/NotADirectoryError
    traceback after the analysis; --interval 0 spun a core, -1 and nan were a ValueError traceback;
    a binary --reference a UnicodeDecodeError traceback."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    common = ("--journal", small_day, "--reference", ref_file)
    for args, words in ((("daily", "--date", "2025-12-06", "--out", str(afile)), "exists and is not a directory"),
                        (("audit", "--out", str(afile / "sub")), "is not a directory"),
                        (("rts27", "--out", str(tmp_path)), "is a directory, not a file"),
                        (("monitor", "--bands", "b.toml", "--follow", "--interval", "0"), "seconds in (0, 3600]"),
                        (("monitor", "--bands", "b.toml", "--follow", "--interval", "nan"), "seconds in (0, 3600]")):
        r = run(*args, *common)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    binary = tmp_path / "ref.bin"
    binary.write_bytes(bytes(range(128, 256)))
    r = run("tca", "--journal", small_day, "--reference", str(binary))
    assert r.returncode == 1 and "not UTF-8 text" in r.stderr and "Traceback" not in r.stderr
    r = run("rule606", *common, "--out", str(tmp_path / "new" / "r606.csv"))
    assert r.returncode == 0 and (tmp_path / "new" / "r606.csv").exists(), r.stderr
