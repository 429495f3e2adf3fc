"""The order-entry gateway's credentials file: firms, their accounts, and the FIXP sessions that
may log in (session id, firm, key, cancel-on-disconnect, throttle).

Owns loading and validating that file (TOML or JSON, chosen by the suffix) into typed msgspec
structs; every error names the file and the field. The C loop trusts what this module passed.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

import msgspec

KEY_MAX_BYTES = 64      # = GW_KEY_MAX in native/gateway/gw_server.h


# eng_cmd_hdr_t.session holds a session's index + 1 in 15 bits (ENG_SESSION_TAG_INDEX_MASK).
MAX_SESSIONS = 0x7FFF - 1


class ConfigError(ValueError):
    """The credentials file is missing, unreadable or invalid; the message names the field."""


class Firm(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    firm_id: int
    accounts: list[int]
    name: str = ""


class Session(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: int
    firm_id: int
    key: str
    cancel_on_disconnect: bool = True
    throttle_msgs_per_s: int = 0          # 0: no throttle
    throttle_action: Literal["reject", "disconnect"] = "reject"


class GatewayConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    firms: list[Firm]
    sessions: list[Session]


def check(cfg: GatewayConfig, where: str) -> None:
    """Raises ConfigError naming the first bad field of cfg (`where` prefixes the message)."""
    firm_ids: set[int] = set()
    account_owner: dict[int, int] = {}
    for i, f in enumerate(cfg.firms):
        at = f"{where}: firms[{i}]"
        if not 0 < f.firm_id < 2**32:
            raise ConfigError(f"{at}.firm_id: must be 1..{2**32 - 1}, got {f.firm_id}")
        if f.firm_id in firm_ids:
            raise ConfigError(f"{at}.firm_id: firm {f.firm_id} is defined twice")
        firm_ids.add(f.firm_id)
        for a in f.accounts:
            if not 0 <= a < 2**32 - 1:
                raise ConfigError(f"{at}.accounts: account {a} is outside 0..{2**32 - 2}")
            if a in account_owner:
                raise ConfigError(f"{at}.accounts: account {a} already belongs to firm "
                                  f"{account_owner[a]}")
            account_owner[a] = f.firm_id
    session_ids: set[int] = set()
    if not cfg.sessions:
        raise ConfigError(f"{where}: sessions: at least one session is needed")
    if len(cfg.sessions) > MAX_SESSIONS:
        raise ConfigError(f"{where}: sessions: at most {MAX_SESSIONS} (each engine command "
                          f"carries its session's index in 15 bits), got {len(cfg.sessions)}")
    for i, s in enumerate(cfg.sessions):
        at = f"{where}: sessions[{i}]"
        if not 0 < s.session_id < 2**64:
            raise ConfigError(f"{at}.session_id: must be 1..{2**64 - 1}, got {s.session_id}")
        if s.session_id in session_ids:
            raise ConfigError(f"{at}.session_id: session {s.session_id} is defined twice")
        session_ids.add(s.session_id)
        if s.firm_id not in firm_ids:
            raise ConfigError(f"{at}.firm_id: no firm {s.firm_id} in firms")
        if not 1 <= len(s.key.encode()) <= KEY_MAX_BYTES:
            raise ConfigError(f"{at}.key: must be 1..{KEY_MAX_BYTES} bytes")
        if not 0 <= s.throttle_msgs_per_s < 2**32:
            raise ConfigError(f"{at}.throttle_msgs_per_s: must be 0 (off) or a positive rate")


def parse_config(data: object, where: str = "config") -> GatewayConfig:
    """Validates already-parsed TOML/JSON data. Raises ConfigError naming the field."""
    try:
        cfg = msgspec.convert(data, GatewayConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    check(cfg, where)
    return cfg


def load_config(path: str | Path) -> GatewayConfig:
    """Reads a .toml or .json credentials file. Raises ConfigError."""
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text.decode()) if p.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}") \
            from None
    return parse_config(data, str(p))
