"""The order-entry gateway's credentials file: firms, their accounts, and the FIXP sessions that
may log in (session id, firm, key, cancel-on-disconnect, throttle); and, optionally, a TLS 1.3
listener beside the plain one ([tls]: its address, certificate, key, and the CA client
certificates are verified against). Plain TCP stays on --listen for co-located clients.

Owns loading and validating that file (TOML or JSON, chosen by the suffix) into typed msgspec
structs; every error names the file and the field. The C loop trusts what this module passed.
"""
from __future__ import annotations

import json
import os
import stat
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


class TlsListener(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The TLS 1.3 listener (python -m gateway keys tls makes the files). Relative paths are
    taken from the config file's directory."""
    listen: str                           # HOST:PORT (port 0: any free one)
    cert: str                             # PEM: the gateway's certificate (chain)
    key: str                              # PEM: its private key, readable by the owner only
    client_ca: str = ""                   # PEM: CAs a client certificate is verified against
    require_client_cert: bool = False     # True: no certificate signed by client_ca, no session


class GatewayConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    firms: list[Firm]
    sessions: list[Session]
    tls: TlsListener | None = None


def parse_listen(text: str, where: str) -> tuple[str, int]:
    """HOST:PORT into (host, port); ConfigError (or the caller's ValueError text) naming where."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{where}: use HOST:PORT, e.g. 127.0.0.1:9443, got {text!r}")
    try:
        n = int(port)
    except ValueError:
        raise ConfigError(f"{where}: port must be an integer, got {port!r}") from None
    if not 0 <= n <= 65535:
        raise ConfigError(f"{where}: port must be 0..65535, got {n}")
    return host, n


def _check_tls(tls: TlsListener, where: str) -> None:
    at = f"{where}: tls"
    parse_listen(tls.listen, f"{at}.listen")
    if tls.require_client_cert and not tls.client_ca:
        raise ConfigError(f"{at}.require_client_cert: needs tls.client_ca (the CA client "
                          f"certificates are verified against)")
    for name in ("cert", "key", "client_ca"):
        path = getattr(tls, name)
        if name == "client_ca" and not path:
            continue
        try:
            st = os.stat(path)
        except OSError as exc:
            raise ConfigError(f"{at}.{name}: cannot read {path} ({exc.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{at}.{name}: {path} is not a file")
        if name == "key" and st.st_mode & 0o077:
            raise ConfigError(f"{at}.key: {path} is readable by others (mode "
                              f"{stat.S_IMODE(st.st_mode):o}); chmod 600 it")


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
    if cfg.tls is not None:
        _check_tls(cfg.tls, where)


def parse_config(data: object, where: str = "config", base: Path | None = None) -> GatewayConfig:
    """Validates already-parsed TOML/JSON data (base: the directory relative TLS file paths are
    taken from). Raises ConfigError naming the field."""
    try:
        cfg = msgspec.convert(data, GatewayConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if cfg.tls is not None and base is not None:
        t = cfg.tls
        cfg = msgspec.structs.replace(cfg, tls=msgspec.structs.replace(
            t, cert=str(base / t.cert), key=str(base / t.key),
            client_ca=str(base / t.client_ca) if t.client_ca else ""))
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
    return parse_config(data, str(p), p.parent)
