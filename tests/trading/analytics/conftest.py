"""Shared fixtures: the LOBSTER samples (skipped with a reason when ../shared/data is absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

from trading.analytics.events import MarketEvents, load_lobster

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data"
GOOG = ("GOOG_2012-06-21_34200000_57600000_message_1.csv", "GOOG_2012-06-21_34200000_57600000_orderbook_1.csv")
AAPL = ("AAPL_2012-06-21_34200000_57600000_message_10_first999.csv",
        "AAPL_2012-06-21_34200000_57600000_orderbook_10_first999.csv")


def _load(pair: tuple[str, str]) -> MarketEvents:
    paths = [DATA / name for name in pair]
    if not all(p.exists() for p in paths):
        pytest.skip(f"LOBSTER sample data not found at {DATA} (a clone without ../shared/data)")
    return load_lobster(*paths)


@pytest.fixture(scope="session")
def goog() -> MarketEvents:
    return _load(GOOG)


@pytest.fixture(scope="session")
def aapl() -> MarketEvents:
    return _load(AAPL)
