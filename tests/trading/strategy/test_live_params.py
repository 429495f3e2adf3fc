"""Changing a running strategy's parameters (trading/strategy/live_params.py): what may change
(only a class's live_params, converted by the class), the stdin line format, and the runner-side
application (params and ctx.params updated, on_params called, each change reported). The paths
through the control plane and the shell, for both ways a strategy runs, are in
test_shell_strategy_commands.py."""
from __future__ import annotations

import io
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from trading.strategy.api import ParamError, Strategy
from trading.strategy.context import Context
from trading.strategy.examples import TouchQuoter
from trading.strategy.live_params import (
    Control,
    ParamInbox,
    apply_queued,
    checked_change,
    decode_line,
    encode_line,
)


def test_only_live_params_change_and_the_class_converts_them() -> None:
    assert checked_change(TouchQuoter, {"size": "10"}, {"size": "20", "max_position": "300"}) == \
        {"size": 20, "max_position": 300}
    for change, message in (({"interval_ms": "5"}, "interval_ms cannot change while it runs"),
                            ({"colour": "red"}, "has no parameter 'colour'"),
                            ({"size": "big"}, "'big' is not a whole number"),
                            ({}, "no parameters given")):
        with pytest.raises(ParamError, match=message):
            checked_change(TouchQuoter, {}, change)


def test_the_quoting_strategy_refuses_values_it_could_not_run_with() -> None:
    """qa6: `strategy set 1 size=99999999999999999999999` (with max_position raised as far) was
    accepted and the running strategy exited 1 at its next tick (ValueError: qty above the
    context's max_order_qty); `size=-5` was accepted too, and `strategy start quote 1 ACME
    interval_ms=0` started a process that died in on_start (timer interval must be positive)."""
    huge = str(10 ** 23)
    for change, message in (({"size": huge, "max_position": huge}, r"'size': must be 1\.\.4611686018427387904"),
                            ({"size": "0"}, r"'size': must be 1\.\."), ({"size": "-5"}, "got -5"),
                            ({"max_position": "-1"}, r"'max_position': must be 0\.\.")):
        with pytest.raises(ParamError, match=message):
            checked_change(TouchQuoter, {}, change)
    for start in ({"interval_ms": "0"}, {"interval_ms": huge}, {"size": "-1"}):
        with pytest.raises(ParamError):
            TouchQuoter(**start)           # the manager builds the class before it starts a process
    assert TouchQuoter(size="1", max_position="0", interval_ms="1").params["size"] == 1


def test_stdin_lines_round_trip_and_bad_lines_are_refused() -> None:
    line = encode_line({"size": "20", "max_position": "300"})
    assert line == "params size=20,max_position=300\n"
    assert decode_line(line) == {"size": "20", "max_position": "300"}
    assert (decode_line("pause\n"), decode_line(" resume ")) == ("pause", "resume")
    for bad in ("size=20", "params size", "params =3", "pause now"):
        with pytest.raises(ParamError):
            decode_line(bad)
    with pytest.raises(ParamError, match="cannot hold"):
        encode_line({"size": "1,max_position=9"})


class Sizes(Strategy):
    defaults: ClassVar[Mapping[str, Any]] = {"size": 1, "window": 10}
    live_params = frozenset({"size"})

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seen: list[dict[str, Any]] = []

    def on_params(self, ctx: Context, changed: Mapping[str, Any]) -> None:
        self.seen.append(dict(changed))


def test_queued_changes_apply_in_order_and_a_refused_one_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    strategy = Sizes()
    ctx_params = dict(strategy.params)
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def invoke(name: str, *args: Any) -> None:
        calls.append((name, args))
        getattr(strategy, name)(None, *args)

    paused: list[bool] = []
    queue: deque[Control] = deque([{"size": "5"}, {"window": "3"}, "pause", {"size": "7"}, "resume"])
    apply_queued(queue, strategy, ctx_params, invoke, paused.append)
    assert not queue and strategy.params["size"] == ctx_params["size"] == 7 and strategy.params["window"] == 10
    assert strategy.seen == [{"size": 5}, {"size": 7}] and paused == [True, False]
    out = capsys.readouterr().out.splitlines()
    refused = ("strategy: params refused: Sizes: window cannot change while it runs (stop and start it again); "
               "changeable live: size")
    assert out == ["strategy: params applied: size=5", refused, "strategy: paused", "strategy: params applied: size=7",
                   "strategy: resumed"]


def test_the_inbox_reads_a_stream_in_a_thread() -> None:
    inbox = ParamInbox(io.StringIO("params size=3\n\nnonsense\nparams size=4\n"))
    deadline = time.monotonic() + 10
    while len(inbox.queue) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(inbox.queue) == [{"size": "3"}, {"size": "4"}]


def test_the_market_maker_changes_its_quoting_parameters_live_and_refuses_what_it_could_not_apply() -> None:
    from trading.marketmaking.strategy import MarketMakingStrategy
    assert checked_change(MarketMakingStrategy, {}, {"gamma": "0.5", "quote_size": "200", "max_inventory": "2000"}) \
        == {"gamma": 0.5, "quote_size": 200, "max_inventory": 2000}
    for change, message in (({"gamma": "-1"}, "gamma=-1.0: must be > 0"),
                            ({"quote_size": "0"}, "quote_size"),
                            ({"toxicity_widen": "0.99", "toxicity_pull": "0.5"}, "toxicity"),
                            ({"latency_us": "-5"}, "latency_us"),
                            ({"lot": "200"}, "lot cannot change while it runs"),
                            ({"tiers": "3"}, "tiers cannot change while it runs")):
        with pytest.raises(ParamError, match=message):
            checked_change(MarketMakingStrategy, {}, change)


def test_a_start_is_refused_for_values_the_strategy_could_not_run_with(tmp_path) -> None:
    """qa6: `strategy start mm 1 ACME quote_size=99999999999999999999` started a process that died
    at once (ParameterError: not a whole number of lots); a live change had the check, a start not."""
    from trading.strategy.manager import StrategyManager
    manager = StrategyManager("novenue", tmp_path)
    for spec, params, message in (("mm", {"quote_size": "99999999999999999999"}, "whole number of lots"),
                                  ("mm", {"gamma": "-1"}, "gamma=-1.0: must be > 0"),
                                  ("quote", {"interval_ms": "0"}, "'interval_ms': must be 1..")):
        with pytest.raises(ParamError, match=message):
            manager.start(spec, 1, 1, params)
    assert manager.running == {} and list(tmp_path.iterdir()) == []      # no process, no log
