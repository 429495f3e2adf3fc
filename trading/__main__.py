"""``python -m trading VERB ...``: one entry point for the trading side's tools.

Each verb lives in its own module, imported only when used; a module's ``main(argv) -> int`` parses
its own arguments (same shape as ``python -m gateway``).
"""
from __future__ import annotations

import sys

from gateway.verbs import dispatch

# verb -> (module, one-line description)
VERBS: dict[str, tuple[str, str]] = {
    "backtest": ("trading.replay.cli", "replay a historical day through the real engine with a strategy"),
    "strategy": ("trading.strategy.cli", "strategies live: 'strategy list', 'strategy run --venue NAME ...'"),
    "analyze": ("trading.analytics.cli", "order-flow analytics of a LOBSTER day: summary table and plots"),
    "monitor": ("trading.analytics.monitor", "streaming analytics beside a running engine, published on ZeroMQ"),
    "discovery": ("trading.analytics.discovery_live", "live information shares across venues from the "
                                                      "consolidator's quotes, published on ZeroMQ"),
    "report": ("trading.tca.cli", "transaction cost analysis, best-execution monitoring and regulatory "
                                  "reports from a venue journal ('report --help')"),
    "execution": ("trading.execution.cli", "execution algorithms: 'execution paper' (Almgren-Chriss example and "
                                           "frontier), 'execution impact --data DAY'"),
    "route": ("trading.routing.cli", "smart order routing: 'route flow' (a replayed day), 'route live', 'route show', 'route rerun'"),
    "mm": ("trading.marketmaking.cli", "market making: 'mm paper' (Avellaneda-Stoikov experiment), 'mm quote'"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("trading", VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
