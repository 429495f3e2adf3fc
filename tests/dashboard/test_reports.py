"""The TCA reports directory (gateway/dashboard/reports.py): what the builder writes is listed and
opened; every other name, a symbolic link out of the directory, a subdirectory or a FIFO is refused
without being read."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.dashboard.reports import ReportRefused, ReportsDir


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    d = tmp_path / "reports"
    d.mkdir()
    for name in ("daily-2025-12-06.html", "daily-2025-12-06.pdf", "daily-2025-12-06.json",
                 "daily-2025-12-07.html", "weekly-2025-12-01.pdf", "notes.txt", "daily-2025-12-08.html.tmp.12"):
        (d / name).write_text(f"<p>{name}</p>")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", d / "daily-2025-12-09.html")      # a planted link
    (d / "daily-2025-12-10.json").mkdir()                                  # not a file
    os.mkfifo(d / "daily-2025-12-11.pdf")                                  # would block a reader
    return d


def test_listing_has_the_reports_newest_first_and_nothing_else(reports: Path) -> None:
    got = ReportsDir(str(reports)).listing()
    assert got["configured"] and got["dir"] == str(reports.resolve())
    assert [(r["kind"], r["date"]) for r in got["reports"]] == [
        ("daily", "2025-12-07"), ("daily", "2025-12-06"), ("weekly", "2025-12-01")]
    assert got["reports"][1]["files"] == {f: f"daily-2025-12-06.{f}" for f in ("html", "json", "pdf")}


def test_open_serves_a_report_and_refuses_everything_else(reports: Path) -> None:
    rd = ReportsDir(str(reports))
    rep = rd.open("daily-2025-12-06.html")
    try:
        assert os.read(rep.fd, 100) == b"<p>daily-2025-12-06.html</p>" and rep.media_type.startswith("text/html")
    finally:
        os.close(rep.fd)
    assert rd.open("weekly-2025-12-01.pdf").media_type == "application/pdf"
    for bad in ("../secret.txt", "..", "notes.txt", "/etc/passwd", "daily-2025-12-06.html/..",
                "sub/daily-2025-12-06.html", "daily-2025-12-06.html\0", "%2e%2e%2fsecret.txt",
                "daily-2025-12-08.html.tmp.12", "DAILY-2025-12-06.HTML", ""):
        with pytest.raises(ReportRefused) as exc:
            rd.open(bad)
        assert exc.value.code == "bad_name", bad
    for refused in ("daily-2025-12-09.html", "daily-2025-12-10.json", "daily-2025-12-11.pdf"):
        with pytest.raises(ReportRefused) as exc:
            rd.open(refused)
        assert exc.value.code == "not_served", refused
    with pytest.raises(ReportRefused) as exc:
        rd.open("daily-2030-01-01.html")
    assert exc.value.status == 404 and exc.value.code == "not_found"


def test_no_directory_and_a_missing_one_say_so(tmp_path: Path) -> None:
    none = ReportsDir("")
    assert none.listing()["configured"] is False and "reports_dir" in none.listing()["hint"]
    with pytest.raises(ReportRefused) as exc:
        none.open("daily-2025-12-06.html")
    assert exc.value.code == "not_configured"
    missing = ReportsDir(str(tmp_path / "nope")).listing()
    assert missing["reports"] == [] and "cannot read" in missing["error"]
