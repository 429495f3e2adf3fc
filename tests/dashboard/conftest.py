"""One venue (`python -m gateway up`, dashboard and order-flow monitor included) for every
dashboard test of a run."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.control.cp_venue import CpVenue, start_venue


@pytest.fixture(scope="session")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    # analytics on: the strategies panel shows the live order-flow monitor's regime and toxicity
    gen = start_venue(tmp_path_factory.mktemp("dash"), analytics=True)
    v = next(gen)
    assert v.ready.get("dashboard"), v.output()
    try:
        yield v
    finally:
        gen.close()
