"""A newcomer's first hour (issue #17), against ``python -m gateway up`` on its embedded default
configuration, exactly as the README says to start it:

- the README's "Trade against it from Python" example, run exactly as written (the code block is
  read from README.md), prints the fills, the cancel and the positions it promises;
- the default configuration trades: a newcomer's first few hundred crossing orders on account 1
  all fill (the old default killed the account on its first fill), and its limits still show:
  an order beyond account 1's position limit is rejected with POSITION_LIMIT.

The default venue has a fixed name and ports (main, 9000, 5710, 5711, 5720): when another venue
holds them on this host (a user's, another test run's), these tests skip and say so.
"""
from __future__ import annotations

import json
from decimal import Decimal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from gateway.client import Client, ExecType
from gateway.control.config import load_config
from gateway.control.up import ports_in_use
from gateway.reasons import Reason
from shm.engine_segments import remove_leftovers
from shm.venue_lock import VenueLocked, lock_venue
from gateway.launcher import stop, wait_for

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    """The first ```python block of the README's "Trade against it from Python" section."""
    section = README.read_text().split("## Trade against it from Python", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def default_venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    cfg = load_config()
    try:
        lock_venue(cfg.venue.name, "up").release()
    except VenueLocked as exc:
        pytest.skip(f"the default venue runs on this host already ({exc})")
    taken = ports_in_use(cfg)
    if taken:
        pytest.skip(f"the default venue's ports are taken on this host: {'; '.join(taken)}")
    tmp = tmp_path_factory.mktemp("default-venue")
    ready = tmp / "ready.json"
    log = tmp / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "up", "--no-mlock",
                                 "--ready-file", str(ready)], cwd=tmp, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        def started() -> bool:
            if proc.poll() is not None and "up: not starting:" in log.read_text():
                pytest.skip(f"the default venue was taken meanwhile: {log.read_text()}")
            return ready.exists()
        wait_for(started, "the default venue", 60.0, watch={"up": proc})
        yield {"ready": json.loads(ready.read_text()), "cwd": tmp, "log": log, "proc": proc}
    finally:
        stop(proc, 60)
        remove_leftovers(cfg.venue.name)


def test_the_readme_example_works_as_written(default_venue: dict[str, Any]) -> None:
    banner = default_venue["log"].read_text()
    assert "order entry (SBE/FIXP over TCP): 127.0.0.1:9000" in banner
    assert "session 101: firm 1 (alpha), accounts 1, 2" in banner
    assert "session keys: [[sessions]] key in " in banner and "default_venue.toml" in banner
    out = subprocess.run([sys.executable, "-c", readme_example()], cwd=default_venue["cwd"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4, out.stdout
    assert lines[0].startswith("NEW BUY 100 @ 99.50 (clOrdId 1,") and "leaves 100" in lines[0]
    assert lines[1].startswith("TRADE BUY 100 @ 99.50") and "filled 40 @ 99.50" in lines[1] \
        and "PARTIALLY_FILLED" in lines[1] and "leaves 60" in lines[1], lines[1]
    assert lines[2].startswith("CANCELED BUY 100 @ 99.50") and "leaves 0" in lines[2], lines[2]
    assert lines[3] == "{(1, 1): 40, (2, 1): -40}"


def test_the_default_config_trades_and_shows_its_limits(default_venue: dict[str, Any]) -> None:
    host, _, port = default_venue["ready"]["gateway"].rpartition(":")
    # Session 101's seqNums go on after the README example's connection.
    a = Client.connect(host, int(port), 101, 1, "alpha-key-101", next_seq_no=1000)  # account 1
    b = Client.connect(host, int(port), 201, 2, "beta-key-201")       # account 3
    try:
        fills = 0
        for i in range(100):
            maker_side, price = (a.buy, "100.00") if i % 2 == 0 else (a.sell, "100.00")
            taker = b.sell if i % 2 == 0 else b.buy
            mine = maker_side(1, 10, price, account_id=1, cl_ord_id=10_000 + i)
            r = a.wait_report(mine, timeout_s=10.0)
            assert r.exec_type == ExecType.NEW, a.describe(r)
            taker(1, 10, price, account_id=3, cl_ord_id=20_000 + i)
            r = a.wait_report(mine, "TRADE", timeout_s=10.0)
            assert r.last_qty == 10, a.describe(r)
            fills += 1
        assert fills == 100
        # The limit shows: beyond account 1's max_position (50,000) is refused.
        big = a.buy(1, 60_000, "100.00", account_id=1, cl_ord_id=30_000)
        r = a.wait_report(big, timeout_s=10.0)
        assert r.exec_type == ExecType.REJECTED and \
            r.reason_code == Reason.ENG_REJ_POSITION_LIMIT, a.describe(r)
        # ... and the account still trades afterwards (no kill switch engaged).
        last = a.buy(1, 10, "100.00", account_id=1, cl_ord_id=30_001)
        assert a.wait_report(last, timeout_s=10.0).exec_type == ExecType.NEW
        a.cancel_order(last)
        assert a.wait_report(last, "CANCELED", timeout_s=10.0).leaves_qty == 0
    finally:
        a.terminate()
        b.terminate()


def test_the_async_client_has_the_same_calls(default_venue: dict[str, Any]) -> None:
    """The README's flow with AsyncClient: decimal prices, wait_report, cancel by own id,
    positions, describe."""
    import asyncio

    from gateway.client import AsyncClient

    async def flow() -> list[str]:
        host, _, port = default_venue["ready"]["gateway"].rpartition(":")
        c = await AsyncClient.connect(host, int(port), 101, 1, "alpha-key-101",
                                      next_seq_no=5000)
        try:
            bid = await c.buy(1, 30, Decimal("98.25"), account_id=1, cl_ord_id=50_000)
            lines = [c.describe(await c.wait_report(bid))]
            await c.sell(1, 10, "98.25", account_id=2, cl_ord_id=50_001)
            lines.append(c.describe(await c.wait_report(bid, "TRADE")))
            await c.cancel_order(bid)
            lines.append(c.describe(await c.wait_report(bid, "CANCELED")))
            lines.append(repr(c.positions()))
            return lines
        finally:
            await c.terminate()

    lines = asyncio.run(flow())
    assert lines[0].startswith("NEW BUY 30 @ 98.25 (clOrdId 50000,"), lines
    assert "filled 10 @ 98.25" in lines[1] and "leaves 20" in lines[1], lines
    assert lines[2].startswith("CANCELED BUY 30 @ 98.25") and "leaves 0" in lines[2], lines
    assert lines[3] == "{(1, 1): 10, (2, 1): -10}", lines
