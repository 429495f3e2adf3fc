"""Fixtures that run every engine scenario on both implementations: the Python oracle ("oracle")
and the C engine through native.engine ("c"), which skips with the import error until it builds.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.oracle import OracleEngine

EngineFactory = Callable[..., Any]


def _c_engine_class() -> Any:
    try:
        from native.engine import Engine
    except ImportError as exc:  # the C engine is built by another step; say why we skip
        pytest.skip(f"C engine not importable yet (native.engine): {exc}")
    return Engine


@pytest.fixture(params=["oracle", "c"])
def make_engine(request: pytest.FixtureRequest) -> EngineFactory:
    """make_engine(max_orders=1000, max_levels=1000, max_instruments=4, max_accounts=8)."""
    engine_class = OracleEngine if request.param == "oracle" else _c_engine_class()

    def make(max_orders: int = 1000, max_levels: int = 1000, max_instruments: int = 4,
             max_accounts: int = 8) -> Any:
        return engine_class(max_orders=max_orders, max_levels=max_levels,
                            max_instruments=max_instruments, max_accounts=max_accounts)

    return make


@pytest.fixture
def c_engine_class() -> Any:
    return _c_engine_class()
