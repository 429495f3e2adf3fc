"""One venue (`python -m gateway up`, dashboard and order-flow monitor included) for every
dashboard test of a run, with a reports directory holding a real daily TCA report."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.control.cp_venue import CpVenue, start_venue

REPORT_DAY = "2025-12-06"        # the day of tests/trading/tca's small journal


@pytest.fixture(scope="session")
def reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m trading report daily` on the TCA tests' small day (built through the real
    engine): daily-2025-12-06.html/.pdf/.json, as an operator would have them."""
    from tests.trading.tca.conftest import small_day_commands
    from trading.tca.journal_build import write_journal
    tmp = tmp_path_factory.mktemp("reports")
    write_journal(str(tmp / "journal"), small_day_commands())
    out = tmp / "reports"
    r = subprocess.run([sys.executable, "-m", "trading", "report", "daily", "--date", REPORT_DAY,
                        "--journal", str(tmp / "journal"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="session")
def venue(tmp_path_factory: pytest.TempPathFactory, reports_dir: Path) -> Iterator[CpVenue]:
    # analytics on: the strategies panel shows the live order-flow monitor's regime and toxicity;
    # the [dashboard] table is appended after the config's users (TOML: any table may follow)
    gen = start_venue(tmp_path_factory.mktemp("dash"), analytics=True,
                      extra_users=f'\n[dashboard]\nreports_dir = "{reports_dir}"\n')
    v = next(gen)
    assert v.ready.get("dashboard"), v.output()
    try:
        yield v
    finally:
        gen.close()
