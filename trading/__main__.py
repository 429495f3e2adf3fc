"""``python -m trading VERB ...``: one entry point for the trading side's tools.

Each verb lives in its own module, imported only when used; a module's ``main(argv) -> int`` parses
its own arguments (same shape as ``python -m gateway``).
"""
from __future__ import annotations

import importlib
import sys

# verb -> (module, one-line description)
VERBS: dict[str, tuple[str, str]] = {
    "backtest": ("trading.replay.cli", "replay a historical day through the real engine with a strategy"),
    "strategy": ("trading.strategy.cli", "strategies live: 'strategy list', 'strategy run --venue NAME ...'"),
    "analyze": ("trading.analytics.cli", "order-flow analytics of a LOBSTER day: summary table and plots"),
    "monitor": ("trading.analytics.monitor", "streaming analytics beside a running engine, published on ZeroMQ"),
    "report": ("trading.tca.cli", "transaction cost analysis, best-execution monitoring and regulatory "
                                  "reports from a venue journal ('report --help')"),
    "mm": ("trading.marketmaking.cli", "market making: 'mm paper' (Avellaneda-Stoikov experiment), 'mm quote'"),
}


def _usage() -> str:
    lines = ["usage: python -m trading VERB [options]", "", "verbs:"]
    width = max((len(v) for v in VERBS), default=0)
    lines += [f"  {verb:<{width}}  {desc}" for verb, (_, desc) in sorted(VERBS.items())]
    lines.append("")
    lines.append("Run 'python -m trading VERB --help' for a verb's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        print(f"trading: unknown verb {verb!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(VERBS[verb][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
