"""``python -m gateway VERB ...``: one entry point for every venue process and tool.

Each verb lives in its own module, imported only when used, so that a broken or heavy module never
slows down or breaks the others. A module's ``main(argv) -> int`` parses its own arguments.
"""
from __future__ import annotations

import importlib
import sys

from gateway.cli_errors import install as install_one_line_errors

# verb -> (module, one-line description)
VERBS: dict[str, tuple[str, str]] = {
    "engine": ("gateway.enginehost.process", "run the matching engine as its own pinned process"),
    "dropcopy": ("gateway.enginehost.dropcopy", "stream every execution report from the event journal to a file and ZeroMQ"),
    "journal": ("gateway.enginehost.journal", "journal tools: 'journal verify' replays a journal from scratch"),
    "gateway": ("gateway.orderentry.process", "run the SBE/FIXP order-entry gateway (TCP) in front of an engine"),
    "report": ("gateway.latency.report", "latency report (percentiles, .hlog, charts, JSON) of a live venue or a run"),
    "demo": ("gateway.demo.run", "run the demo venue on embedded defaults and print its report"),
    "md": ("gateway.marketdata.cli", "market data: 'md publish' (ITCH/MoldUDP64 feed) or 'md ladder' (live depth)"),
    "up": ("gateway.control.up", "start engine, control plane and gateway from one venue config"),
    "control": ("gateway.control.process", "run the control-plane service (API, risk, breakers) for an engine"),
    "audit": ("gateway.security.audit_cli", "audit log tools: 'audit verify LOG' names each edited, removed or reordered record"),
    "keys": ("gateway.security.keys_cli", "credentials and keys: 'keys hash-token' (token_hash config line), 'keys curve' (CurveZMQ key pair)"),
    "shell": ("gateway.control.shell", "operators' shell of the control plane (interactive, -c or -f script)"),
}


def _usage() -> str:
    lines = ["usage: python -m gateway VERB [options]", "", "verbs:"]
    width = max((len(v) for v in VERBS), default=0)
    lines += [f"  {verb:<{width}}  {desc}" for verb, (_, desc) in sorted(VERBS.items())]
    lines.append("")
    lines.append("Run 'python -m gateway VERB --help' for a verb's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        print(f"gateway: unknown verb {verb!r} (one of: {', '.join(sorted(VERBS))}; "
              "python -m gateway --help)", file=sys.stderr)
        return 2
    install_one_line_errors()
    module = importlib.import_module(VERBS[verb][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
