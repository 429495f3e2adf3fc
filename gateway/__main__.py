"""``python -m gateway VERB ...``: one entry point for every venue process and tool.

Each verb lives in its own module, imported only when used, so that a broken or heavy module never
slows down or breaks the others. A module's ``main(argv) -> int`` parses its own arguments.
"""
from __future__ import annotations

import sys

from gateway.verbs import dispatch

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
    "dashboard": ("gateway.dashboard.process", "serve the live web dashboard of a running venue (up starts it)"),
    "sip": ("gateway.sip.process", "the consolidator: the venues' feeds in, the NBBO and protected quotes out (multi-venue config)"),
    "delay-line": ("gateway.venues.delay_line", "TCP proxy in front of a venue applying its latency profile (avg/P99) to the traffic routed to it"),
    "shell": ("gateway.control.shell", "operators' shell of the control plane (interactive, -c or -f script)"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("gateway", VERBS, argv)


if __name__ == "__main__":
    sys.exit(main())
