"""backtest's summary of a two-instrument run: the headline fills are the primary instrument's,
like the volume, position and P&L beside them; each instrument's row counts its own fills, and the
rows add up to every fill of the run. Before, the headline printed every instrument's fills beside
the primary instrument's volume (a GOOG maker hedging in AAPL: 'fills 66 volume 3226', of which 8
fills and 654 shares were AAPL's and not in that volume)."""
from __future__ import annotations

from pathlib import Path

from tests.trading.replay.two_instruments import write_pair
from trading.marketmaking.strategy import MarketMakingStrategy
from trading.replay.history import build_history
from trading.replay.lobster import load_lobster
from trading.replay.multi import run_multi_replay
from trading.replay.results import summarize, terminal_summary
from trading.replay.runtime import ReplayConfig

MM = {"model": "as", "gamma": "0.05", "A": "2.0", "k": "60.0", "max_inventory": "500", "quote_size": "100",
      "tau_s": "30", "hedge_threshold": "200", "hedge_instrument": "2", "hedge_ratio": "2"}


def test_headline_and_rows_count_their_own_instrument_s_fills(tmp_path: Path) -> None:
    x, y = write_pair(tmp_path, steps=800)
    result = run_multi_replay([build_history(load_lobster(x)), build_history(load_lobster(y))],
                              MarketMakingStrategy(**MM), ReplayConfig(compute="none"))
    assert result.error is None, result.error
    own = {1: [f for f in result.fills if f.instrument_id in (0, 1)], 2: [f for f in result.fills if f.instrument_id == 2]}
    assert own[1] and own[2], "the maker should trade x and hedge in y"
    s = summarize(result)
    assert s["fills"] == len(own[1]) and s["volume"] == sum(f.qty for f in own[1])
    assert s["fills_all_instruments"] == len(result.fills)
    for k in (1, 2):
        row = s["instruments"][str(k)]
        assert row["fills"] == len(own[k]) and row["volume"] == sum(f.qty for f in own[k])
    text = terminal_summary(result)
    assert f"instrument 1 (X):  fills {len(own[1])}  volume {s['volume']}" in text
    assert f"(all instruments: {len(result.fills)} fills)" in text
