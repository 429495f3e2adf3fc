"""The gateway's credentials file: TOML and JSON load into typed structs; every mistake is refused
with a message naming the file and the field."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.orderentry.config import ConfigError, load_config, parse_config

GOOD = {"firms": [{"firm_id": 1, "accounts": [1, 2]}],
        "sessions": [{"session_id": 7, "firm_id": 1, "key": "s3cret"}]}


def test_toml_file_loads_with_defaults(tmp_path: Path) -> None:
    p = tmp_path / "gw.toml"
    p.write_text('[[firms]]\nfirm_id = 1\naccounts = [1, 2]\n\n'
                 '[[sessions]]\nsession_id = 7\nfirm_id = 1\nkey = "s3cret"\n'
                 'throttle_msgs_per_s = 100\nthrottle_action = "disconnect"\n')
    cfg = load_config(p)
    s = cfg.sessions[0]
    assert (s.cancel_on_disconnect, s.throttle_msgs_per_s, s.throttle_action) == \
        (True, 100, "disconnect")


@pytest.mark.parametrize("patch,message", [
    ({"sessions": [{"session_id": "x", "firm_id": 1, "key": "k"}]}, "$.sessions[0].session_id"),
    ({"sessions": [{"session_id": 7, "firm_id": 9, "key": "k"}]}, "sessions[0].firm_id: no firm 9"),
    ({"sessions": [{"session_id": 7, "firm_id": 1, "key": ""}]}, "sessions[0].key"),
    ({"sessions": [{"session_id": 7, "firm_id": 1, "key": "k", "throttle_action": "nap"}]},
     "throttle_action"),
    ({"sessions": [{"session_id": 7, "firm_id": 1, "key": "k", "colour": 1}]}, "colour"),
    ({"firms": [{"firm_id": 1, "accounts": [1]}, {"firm_id": 2, "accounts": [1]}]},
     "account 1 already belongs to firm 1"),
    ({"sessions": []}, "at least one session"),
])
def test_bad_config_names_the_field(patch: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({**GOOD, **patch}, "gw.json")
    assert message in str(info.value) and "gw.json" in str(info.value)


def test_unreadable_or_malformed_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    assert load_config(good).sessions[0].session_id == 7
