"""The ops shell's `strategy list / params / start / stop` (gateway/control/shell_commands.py ->
the control plane -> trading/strategy/manager.py): parsing, and end to end on a real venue
(`python -m gateway up`): a strategy starts in its own process under a configured account, shows
in the list, and stops with its orders cancelled; bad input is refused with a reason."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gateway.control.client import ControlError
from gateway.control.shell_commands import UsageError, parse
from tests.control.cp_venue import CpVenue, start_venue, wait_for


@pytest.mark.parametrize("line, wire, args", [
    ("strategy", "strategy.list", {}),
    ("strategy list", "strategy.list", {}),
    ("strategy params quote", "strategy.params", {"strategy": "quote"}),
    ("strategy start quote 1 ACME size=10,interval_ms=20", "strategy.start",
     {"strategy": "quote", "account": 1, "instrument": "ACME", "params": "size=10,interval_ms=20"}),
    ("strategy start my.mod.Cls 2 ACME", "strategy.start", {"strategy": "my.mod.Cls", "account": 2, "instrument": "ACME"}),
    ("strategy stop 3", "strategy.stop", {"id": 3}),
])
def test_strategy_commands_parse(line, wire, args):
    cmd = parse(line)
    assert cmd is not None and (cmd.wire, cmd.args) == (wire, args)
    assert cmd.write == (wire in ("strategy.start", "strategy.stop"))


@pytest.mark.parametrize("line, message", [
    ("strategy start quote 1 ACME size", "params are k=v"),
    ("strategy stop x", "strategy id"),
    ("strategy start 'a b' 1 ACME", "not a strategy name"),
])
def test_strategy_commands_refuse_bad_input(line, message):
    with pytest.raises(UsageError, match=message):
        parse(line)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    yield from start_venue(Path(tmp_path_factory.mktemp("stratvenue")))


def test_strategy_start_list_stop_on_a_running_venue(venue):
    ctl = venue.control()
    assert ctl.call("strategy.params", strategy="quote")["defaults"]["size"] == 100
    started = ctl.call("strategy.start", strategy="quote", account=1, instrument="ACME", params="size=10,interval_ms=20")
    assert started["state"] == "running" and started["account"] == 1
    with pytest.raises(ControlError, match="already runs strategy"):
        ctl.call("strategy.start", strategy="noop", account=1, instrument="ACME")
    with pytest.raises(ControlError, match="unknown account"):
        ctl.call("strategy.start", strategy="quote", account=99, instrument="ACME")
    with pytest.raises(ControlError, match="has no parameter"):
        ctl.call("strategy.start", strategy="quote", account=2, instrument="ACME", params="colour=red")
    wait_for(lambda: ctl.call("strategy.list")[0]["uptime_s"] > 0.5, "the strategy running a while")
    stopped = ctl.call("strategy.stop", id=started["id"])
    assert stopped["state"] == "exited 0", stopped
    assert "TouchQuoter on instrument 1 account 1" in stopped["last_output"]
    assert ctl.call("orders", account=1) == []
    with pytest.raises(ControlError, match="no strategy 42"):
        ctl.call("strategy.stop", id=42)
