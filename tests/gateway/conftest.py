"""Fixtures of the gateway tests: the C codec through native._venue, skipped with the reason when absent."""
from __future__ import annotations

import pytest

from tests.gateway import sbe_cffi


@pytest.fixture
def c_codec() -> None:
    if not sbe_cffi.HAVE_C:
        pytest.skip(sbe_cffi.WHY_NO_C)
