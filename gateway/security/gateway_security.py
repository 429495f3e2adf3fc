"""The gateway process's half of logon checks and intrusion detection: the C loop's
gw_security_t (native/gateway/gw_security.h) filled from the credentials file's sessions and
[security] section, the stored keys a changed file rotates, and the loop's events as typed
records for the admin endpoint (and through it the control plane's audit and alerts).

Memory: the struct and its arrays are allocated here, before the loop starts, and live as long
as this object; the loop alone writes them while it runs.

Replay across a restart: the loop refuses a hashed key's proof whose timestamp is not above the
last one it accepted for the session (gw_security.c), and that memory is this process's. So that a
proof captured before a restart (SIGKILL, `up` starting the gateway again) cannot be replayed once
into the new process while still inside proof_window_ms, every session starts with the process's
start time (CLOCK_REALTIME, the clock proofs are judged on) as its last accepted timestamp: a proof
stamped at or before this process started is refused as replayed (ENG_GW_CREDENTIALS_REPLAYED).
The skew rule this states: a client whose clock is d behind this host's cannot log on during the
first d after a gateway start (it is refused and its next proof, stamped later, passes); within
proof_window_ms that is the price of needing no store of seen proofs.
"""
from __future__ import annotations

import time
from typing import Any

import msgspec

from gateway.orderentry.config import RULE_ACTIONS, GatewayConfig
from gateway.security.session_keys import stored_key_of
from native._venue import ffi, lib

# GW_SEC_RULE_* + 1 and GW_SEC_EVT_* -> the names events carry
EVENT_KINDS = {1: "order_velocity", 2: "message_to_trade", 3: "cancel_burst", 4: "rejects",
               5: "sequence_abuse", lib.GW_SEC_EVT_SOURCE_LOCKED: "source_locked_out",
               lib.GW_SEC_EVT_SESSION_LOCKED: "session_locked_out",
               lib.GW_SEC_EVT_REPLAYED: "logon_replayed"}


class SecurityEvent(msgspec.Struct, frozen=True):
    """One detection by the gateway: what fired, for which session (0: none known) and peer,
    the count it reached against its limit, and the action taken (alert, throttle, disconnect,
    kill)."""
    kind: str
    session_id: int
    peer: str
    count: int
    limit: int
    action: str
    realtime_ns: int


def stored_keys(cfg: GatewayConfig) -> dict[int, bytes]:
    """session id -> StoredKey of every hashed session (the config was checked: they parse)."""
    return {s.session_id: stored_key_of(s.key_hash, s.session_id) for s in cfg.sessions if s.key_hash}


class GatewaySecurity:
    """gw_security_t for cfg; `.struct` goes to gw_config_t.security."""

    def __init__(self, cfg: GatewayConfig, started_ns: int | None = None) -> None:
        """started_ns: this gateway process's start on CLOCK_REALTIME (default: now); no proof
        stamped at or before it is accepted (top comment)."""
        started_ns = time.time_ns() if started_ns is None else started_ns
        self.struct = ffi.new("gw_security_t *")
        self._sessions = ffi.new("gw_sec_session_t[]", len(cfg.sessions))
        self._sources = ffi.new("gw_sec_source_t[]", lib.GW_SEC_SOURCES)
        s = self.struct
        s.sessions = self._sessions
        s.sources = self._sources
        lg = cfg.security.logon
        s.logon_max_failures_source = lg.max_failures_per_source
        s.logon_max_failures_session = lg.max_failures_per_session
        s.logon_window_ms = lg.window_ms
        s.lockout_ms = lg.lockout_ms
        s.proof_window_ms = lg.proof_window_ms
        for i, (_, rule) in enumerate(cfg.security.detectors.rules()):
            r = s.rules[i]
            r.limit = rule.limit
            r.window_ms = rule.window_ms
            r.action = RULE_ACTIONS.index(rule.action)
            r.throttle_ms = rule.throttle_ms
            r.min_count = rule.min_messages
        keys = stored_keys(cfg)
        for i, sess in enumerate(cfg.sessions):
            self._sessions[i].last_proof_ts_ns = started_ns
            if sess.session_id in keys:
                self._sessions[i].key_kind = lib.GW_KEY_HASHED
                ffi.memmove(self._sessions[i].stored_key, keys[sess.session_id], len(keys[sess.session_id]))

    @staticmethod
    def event(raw: Any) -> SecurityEvent:
        """A gw_sec_event_t as a SecurityEvent."""
        return SecurityEvent(kind=EVENT_KINDS.get(int(raw.kind), f"kind {int(raw.kind)}"),
                             session_id=int(raw.session_id),
                             peer=ffi.string(raw.peer).decode(errors="replace"),
                             count=int(raw.count), limit=int(raw.limit),
                             action=RULE_ACTIONS[raw.action] if raw.action < len(RULE_ACTIONS) else "alert",
                             realtime_ns=int(raw.realtime_ns))
