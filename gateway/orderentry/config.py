"""The order-entry gateway's credentials file: firms, their accounts, the FIXP sessions that
may log in (session id, firm, key or key hash, cancel-on-disconnect, throttle), the logon
lockout and intrusion-detection thresholds ([security]; native/gateway/gw_security.h), and,
optionally, a TLS 1.3 listener beside the plain one ([tls]: its address, certificate, key,
and the CA client certificates are verified against). Plain TCP stays on --listen for
co-located clients.

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

from gateway.security.credentials import CredentialError
from gateway.security.session_keys import stored_key_of
from gateway.small_files import NotASmallFile, read_small_file

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
    key: str = ""                         # a plain key (co-located tests and demos), or:
    key_hash: str = ""                    # its salted scrypt hash (keys hash-session-key); one of the two
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


class LogonPolicy(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Failed logons (Negotiate/Establish refused for their credentials) locked out per source
    address and per session: max_failures_* within window_ms lock it for lockout_ms (0: off)."""
    max_failures_per_source: int = 0
    max_failures_per_session: int = 0
    window_ms: int = 60_000
    lockout_ms: int = 300_000
    proof_window_ms: int = 30_000       # a hashed key's logon proof: timestamp this close to our clock


RULE_ACTIONS = ("alert", "throttle", "disconnect", "kill")     # = GW_SEC_ACT_* order


class Rule(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One detector: fires when its count in a window of window_ms passes limit (0: off); then
    alert, throttle (application messages refused for throttle_ms), disconnect, or kill
    (disconnect, and the control plane engages the kill switch of the session's firm's accounts).
    message_to_trade: limit is messages per fill, judged once min_messages arrived in the window."""
    limit: int = 0
    window_ms: int = 1000
    action: Literal["alert", "throttle", "disconnect", "kill"] = "alert"
    throttle_ms: int = 1000
    min_messages: int = 0


class Detectors(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    order_velocity: Rule = Rule()       # new orders per window
    message_to_trade: Rule = Rule()     # application messages per fill
    cancel_burst: Rule = Rule()         # cancel requests per window
    rejects: Rule = Rule()              # rejects sent to the session per window
    sequence_abuse: Rule = Rule()       # seqNum gaps and duplicates, retransmit requests per window

    def rules(self) -> list[tuple[str, Rule]]:
        """In GW_SEC_RULE_* order."""
        return [("order_velocity", self.order_velocity), ("message_to_trade", self.message_to_trade),
                ("cancel_burst", self.cancel_burst), ("rejects", self.rejects),
                ("sequence_abuse", self.sequence_abuse)]


class Security(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    logon: LogonPolicy = LogonPolicy()
    detectors: Detectors = Detectors()


class GatewayConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    firms: list[Firm]
    sessions: list[Session]
    tls: TlsListener | None = None
    security: Security = Security()


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
        if bool(s.key) == bool(s.key_hash):
            raise ConfigError(f"{at}.key: give key or key_hash (its salted hash: python -m gateway keys "
                              f"hash-session-key --session {s.session_id}), one of the two")
        if s.key and not 1 <= len(s.key.encode()) <= KEY_MAX_BYTES:
            raise ConfigError(f"{at}.key: must be 1..{KEY_MAX_BYTES} bytes")
        if s.key_hash:
            try:
                stored_key_of(s.key_hash, s.session_id)
            except CredentialError as exc:
                raise ConfigError(f"{at}.key_hash: {exc}") from None
        if not 0 <= s.throttle_msgs_per_s < 2**32:
            raise ConfigError(f"{at}.throttle_msgs_per_s: must be 0 (off) or a positive rate")
    if cfg.tls is not None:
        _check_tls(cfg.tls, where)
    _check_security(cfg.security, where)


def _check_security(sec: Security, where: str) -> None:
    lg = sec.logon
    for name in ("max_failures_per_source", "max_failures_per_session"):
        if not 0 <= getattr(lg, name) < 2**32:
            raise ConfigError(f"{where}: security.logon.{name}: must be 0 (off) .. {2**32 - 1}")
    for name in ("window_ms", "lockout_ms", "proof_window_ms"):
        if not 1 <= getattr(lg, name) <= 86_400_000:
            raise ConfigError(f"{where}: security.logon.{name}: must be 1..86400000 ms")
    for name, r in sec.detectors.rules():
        at = f"{where}: security.detectors.{name}"
        if not 0 <= r.limit < 2**32 or not 0 <= r.min_messages < 2**32:
            raise ConfigError(f"{at}: limit and min_messages must be 0..{2**32 - 1}")
        if not 1 <= r.window_ms <= 86_400_000 or not 1 <= r.throttle_ms <= 86_400_000:
            raise ConfigError(f"{at}: window_ms and throttle_ms must be 1..86400000")


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
        text = read_small_file(p)
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except NotASmallFile as exc:
        raise ConfigError(f"{p}: {exc}") from None
    try:
        data = tomllib.loads(text.decode()) if p.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}") \
            from None
    return parse_config(data, str(p), p.parent)
