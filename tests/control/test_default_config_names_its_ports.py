"""The embedded venue file says: for a second venue, copy it and change the name and the ports.
So it must name every port `up` checks (gateway/control/up.py ports_in_use); the gateway's admin
endpoint was missing, and a copy with every visible port changed was refused for 5720."""
from __future__ import annotations

import tomllib
from importlib import resources

from gateway.control.config import DEFAULT_CONFIG_NAME


def test_every_port_up_checks_is_written_in_the_default_file() -> None:
    raw = tomllib.loads(resources.files("gateway.control").joinpath(DEFAULT_CONFIG_NAME).read_text())
    for section, key in (("gateway", "listen"), ("gateway", "admin_endpoint"), ("control", "command_endpoint"),
                         ("control", "publish_endpoint"), ("dashboard", "listen")):
        assert key in raw.get(section, {}), f"[{section}] {key} is not in {DEFAULT_CONFIG_NAME}"
