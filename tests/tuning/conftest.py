"""Fixtures for the tuning tests: a fresh fake host tree and the test profile (tests/tuning/faketree.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.tuning.faketree import TEST_PROFILE, build_tree


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "host")


@pytest.fixture
def test_profile(tmp_path: Path) -> str:
    path = tmp_path / "test-profile.toml"
    path.write_text(TEST_PROFILE)
    return str(path)
