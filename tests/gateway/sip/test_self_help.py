"""Self-help: a venue whose order entry stops accepting connections leaves the protected away
quotes of the others (not the published NBBO), and comes back when it answers again."""
from __future__ import annotations

import socket

from gateway.sip.consolidator import Consolidator, VenueQuote
from gateway.sip.self_help import AccessProbe


def test_an_unreachable_venue_is_not_protected_elsewhere():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    probe = AccessProbe({"LITA": ("127.0.0.1", port)})
    assert not probe.poll() and probe.unreachable == set()
    c = Consolidator(["LITA", "LITB"])
    c.update(1, VenueQuote("LITA", 999_000, 100, 1_000_000, 300))
    c.update(1, VenueQuote("LITB", 998_000, 100, 1_000_200, 1000))
    assert c.away(1, "LITB").ask == 1_000_000
    server.close()                                   # LITA's order entry is gone
    probe.next_probe = 0.0
    assert probe.poll() and probe.unreachable == {"LITA"} and probe.declared == 1
    c.unreachable = set(probe.unreachable)
    assert c.away(1, "LITB").ask is None and c.away(1, "LITB").bid is None
    assert c.nbbo(1).ask == 1_000_000                # still displayed: the NBBO shows it
    server = socket.create_server(("127.0.0.1", port))   # it answers again
    probe.next_probe = 0.0
    assert probe.poll() and probe.unreachable == set()
    server.close()
