"""Self-help (Rule 611(b)(1)): a venue whose order entry does not answer is not protected.

Rule 611 lets a trading center trade through the quotes of a venue that is failing to respond. The
consolidator watches each lit venue's order-entry point (its delay line, port_base + 1): every
PROBE_INTERVAL_S it opens a TCP connection there and closes it. A venue whose port refuses or does
not accept within PROBE_TIMEOUT_S is declared unreachable: its quotes stay in the published NBBO
(they are still displayed) but leave the protected away quotes sent to the other venues, until a
probe succeeds again. Every change is logged.
"""
from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass, field

log = logging.getLogger("gateway.sip")

PROBE_INTERVAL_S = 0.2
PROBE_TIMEOUT_S = 0.2


@dataclass
class AccessProbe:
    endpoints: dict[str, tuple[str, int]]           # venue -> its order-entry (host, port)
    unreachable: set[str] = field(default_factory=set)
    next_probe: float = 0.0
    declared: int = 0

    def poll(self) -> bool:
        """Probes every venue when due; True if the set of unreachable venues changed."""
        if time.monotonic() < self.next_probe:
            return False
        self.next_probe = time.monotonic() + PROBE_INTERVAL_S
        changed = False
        for venue, address in self.endpoints.items():
            ok, why = _answers(address)
            if not ok and venue not in self.unreachable:
                self.unreachable.add(venue)
                self.declared += 1
                changed = True
                log.warning("sip: self-help against %s: order entry %s:%d %s; its quotes are not "
                            "protected until it answers", venue, address[0], address[1], why)
            elif ok and venue in self.unreachable:
                self.unreachable.discard(venue)
                changed = True
                log.warning("sip: %s answers again: its quotes are protected", venue)
        return changed


def _answers(address: tuple[str, int]) -> tuple[bool, str]:
    try:
        with socket.create_connection(address, timeout=PROBE_TIMEOUT_S):
            return True, ""
    except OSError as exc:
        return False, exc.strerror or type(exc).__name__
