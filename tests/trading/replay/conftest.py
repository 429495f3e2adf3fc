"""Where the LOBSTER samples are: <repo>/../shared/data (a clone without it skips the tests that
need them, saying why); VENUE_DATA_DIR names another folder holding the same files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
AAPL = "AAPL_2012-06-21_34200000_57600000_message_10_first999.csv"
GOOG = "GOOG_2012-06-21_34200000_57600000_message_1.csv"


def data_dir() -> Path:
    return Path(os.environ.get("VENUE_DATA_DIR") or REPO.parent / "shared" / "data")


def sample(name: str) -> Path:
    """The path of one LOBSTER sample, or a skip naming where it was looked for."""
    path = data_dir() / name
    if not path.is_file():
        pytest.skip(f"LOBSTER sample {name} not in {data_dir()} (set VENUE_DATA_DIR or place ../shared/data)")
    return path
