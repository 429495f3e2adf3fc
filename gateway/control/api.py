"""The control-plane API server: a ZeroMQ ROUTER for commands and a PUB for status, alerts,
metrics and audit records (wire format: protocol.py).

Per request, in this order: bound the message (at most MAX_FRAMES frames, the body at most
protocol.MAX_REQUEST_BYTES, else bad_request without decoding it), decode into the typed Request
(bad_request; the types bound nesting, so no input recurses), check the request's proof against
the user's stored key (unauthenticated; gateway/security/credentials.py: the token never travels
and the config holds only its salted scrypt hash), refuse a timestamp outside the replay window or
a nonce seen in it (replayed), look the command up (unknown_command), check the user's roles
against the permission matrix and a trader's account against its firm (forbidden;
gateway/security/roles.py), check argument names (bad_request), then run it
(service.ControlService; users.list and audit.verify are answered here). Every write command, accepted or refused, and every refused request of
any kind is appended to the audit log before the reply is sent, and published on the "audit" topic.

Nothing a peer sends ends the service: any exception while answering is answered ("internal") and
audited. Refusals are cheap: their audit lines are summarised (audit.py) and fsync'ed lazily, and
anonymous ones (undecodable, unauthenticated) past REFUSALS_AUDITED_PER_S per peer address are
counted and written as one summary line a second.
One serve() pass answers at most REQUESTS_PER_PASS requests, so a flood cannot starve the event
pump, and ROUTER fair-queues connections, so a flooding peer gets its share and no more. Frames
over HARD_MAX_FRAME_BYTES end the sender's connection inside libzmq, and at most MAX_CONNECTIONS
peers are connected to each socket (gateway/security/zmq_guard.py; the publish socket also caps
each subscriber's subscriptions).
"""
from __future__ import annotations

import base64
import collections
import logging
import os
import time
import traceback
from typing import Any

import zmq

from gateway.control import protocol
from gateway.control.audit import AuditLog, summarise_text
from gateway.control.config import User
from gateway.control.service import CommandError, ControlService
from gateway.security import audit_chain, curve, roles
from gateway.security.curve import ZapHandler
from gateway.security.credentials import (REPLAY_WINDOW_S, SCRYPT_N, SCRYPT_P, SCRYPT_R, TokenHash,
                                          auth_message, check_proof, decoy_salt, parse_token_hash)
from gateway.security.lockout import LogonLockout
from gateway.security.zmq_guard import ZmqConnectionGuard

log = logging.getLogger("gateway.control.api")
_DECOY_KEY = bytes(32)        # checked against when the user is unknown: same work either way
SECURITY_VERBS = frozenset({"users.list", "audit.verify"})    # answered here, not by the service
_MAX_NONCES = 1 << 20

MAX_FRAMES = 4                          # identity, delimiter, body (+1 spare); more: refused
HARD_MAX_FRAME_BYTES = 1 << 20          # ZMQ_MAXMSGSIZE: a larger frame ends the connection
COMMAND_RCVHWM = 64                     # requests queued per connection inside libzmq
REQUESTS_PER_PASS = 256
REFUSALS_AUDITED_PER_S = 20             # per peer address; beyond: one summary line per second
MAX_CONNECTIONS = 256                   # per socket (command, publish)
_MAX_TRACKED_PEERS = 4096


class _PeerRefusals:
    """Refusals of one peer address in the current one-second window."""
    __slots__ = ("window", "audited", "suppressed", "codes")

    def __init__(self, window: float) -> None:
        self.window = window
        self.audited = 0
        self.suppressed = 0
        self.codes: dict[str, int] = {}


class ApiServer:
    def __init__(self, users: list[User], audit: AuditLog, command_endpoint: str, publish_endpoint: str,
                 context: zmq.Context | None = None,  # type: ignore[type-arg]
                 firm_accounts: dict[int, frozenset[int]] | None = None,
                 curve_secret_key: str = "", curve_clients: str = "",
                 lockout: LogonLockout | None = None) -> None:
        """curve_secret_key + curve_clients: both sockets serve CurveZMQ and admit only the clients
        whose public keys are in that directory; each refusal is audited. lockout: failed logons
        locked out per peer address and per user (gateway/security/lockout.py)."""
        self.lockout = lockout
        self.users: dict[str, User] = {}
        self._hashes: dict[str, TokenHash] = {}
        self._stored_keys: dict[str, bytes] = {}
        self.set_users(users)
        self.firm_accounts = firm_accounts or {}
        self._decoy_secret = os.urandom(32)
        self._nonces: collections.OrderedDict[tuple[str, str], int] = collections.OrderedDict()
        self.audit_log = audit
        self.service: ControlService | None = None
        ctx = context or zmq.Context.instance()
        self.router = ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.MAXMSGSIZE, HARD_MAX_FRAME_BYTES)
        self.router.setsockopt(zmq.RCVHWM, COMMAND_RCVHWM)
        self.pub = ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.setsockopt(zmq.SNDHWM, 10000)
        ZmqConnectionGuard.configure_publisher(self.pub)
        self.zap: ZapHandler | None = None
        if curve_secret_key:
            curve.make_server(self.router, curve_secret_key)
            curve.make_server(self.pub, curve_secret_key)
            self.zap = ZapHandler(ctx, curve_clients)
        self.command_guard = ZmqConnectionGuard(self.router, max_inbound_bytes=None,
                                                max_connections=MAX_CONNECTIONS)
        self.publish_guard = ZmqConnectionGuard(self.pub, max_connections=MAX_CONNECTIONS)
        try:
            self.router.bind(command_endpoint)
            self.pub.bind(publish_endpoint)
        except zmq.ZMQError as exc:
            self.close()
            raise OSError(f"cannot bind control endpoints {command_endpoint} / {publish_endpoint}: {exc}") from None
        self.command_endpoint = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        self.publish_endpoint = self.pub.getsockopt_string(zmq.LAST_ENDPOINT)
        self.requests = 0
        self.refused = 0
        self._refusals: dict[str, _PeerRefusals] = {}

    def publish(self, topic: bytes, body: Any) -> None:
        self._guard_publisher()
        try:
            self.pub.send_multipart([topic, protocol.encode(body)], zmq.NOBLOCK)
        except zmq.Again:
            pass   # PUB drops for slow subscribers by design; the log and the API stay authoritative

    def _guard_publisher(self) -> None:
        for peer, why in self.publish_guard.check():
            self._audit_safely("", "", "publish.connection", {}, False, protocol.CODE_BAD_REQUEST,
                               f"publish subscriber cut: {why}", peer, publish=False)

    def audit(self, user: str, role: str, command: str, args: Any, ok: bool, code: str, message: str = "",
              peer: str = "") -> None:
        entry = self.audit_log.record(user, role, command, args, ok, code, message, peer)
        self.publish(protocol.TOPIC_AUDIT, entry)

    def _audit_safely(self, user: str, role: str, command: str, args: Any, ok: bool, code: str,
                      message: str, peer: str, publish: bool = True) -> None:
        """audit() that never raises (a full disk must not end the service; it is logged)."""
        try:
            if publish:
                self.audit(user, role, command, args, ok, code, message, peer)
            else:
                self.audit_log.record(user, role, command, args, ok, code, message, peer)
        except Exception as exc:
            log.error("audit record failed (%s %s): %r", command[:64], code, exc)

    def serve(self, timeout_ms: int) -> int:
        """Answer the requests that are waiting (waiting up to timeout_ms for the first), at most
        REQUESTS_PER_PASS of them."""
        handled = 0
        for peer, why in self.command_guard.check():
            self._audit_safely("", "", "command.connection", {}, False, protocol.CODE_BAD_REQUEST,
                               f"command connection cut: {why}", peer)
        if self.zap is not None:
            for peer, key, why in self.zap.denials():
                self._audit_safely("", "", "curve.handshake", {"client_key": key}, False,
                                   protocol.CODE_UNAUTHENTICATED, f"CurveZMQ client refused: {why}", peer)
        for guard in (self.command_guard, self.publish_guard):
            for why in guard.handshake_failures():
                self._audit_safely("", "", "curve.handshake", {}, False, protocol.CODE_UNAUTHENTICATED,
                                   f"handshake failed on {guard.endpoint or 'an endpoint'}: {why}", "")
        self._guard_publisher()
        if self.router.poll(timeout_ms):
            while handled < REQUESTS_PER_PASS:
                got = self._receive()
                if got is None:
                    break
                envelope, body, peer, frames = got
                try:
                    reply = self._answer(body, peer, frames)
                except Exception as exc:        # a bug in the answering itself: answer and audit
                    log.error("internal error answering a request: %s", traceback.format_exc())
                    self.refused += 1
                    reply = protocol.Reply(0, False, protocol.CODE_INTERNAL, f"{type(exc).__name__}: {exc}")
                    self._audit_safely("", "", "?", {}, False, protocol.CODE_INTERNAL, reply.message, peer)
                try:
                    # Envelope: identity (+ the empty delimiter of REQ/DEALER clients) is echoed back.
                    self.router.send_multipart([*envelope, protocol.encode(reply)], zmq.NOBLOCK)
                except zmq.ZMQError as exc:     # peer gone or not reading: ROUTER drops, we go on
                    log.warning("reply not sent: %s", exc)
                handled += 1
        self._flush_refusal_summaries(time.monotonic())
        try:
            self.audit_log.sync_if_due()
        except OSError as exc:
            log.error("audit log fsync failed: %r", exc)
        return handled

    def _receive(self) -> tuple[list[bytes], bytes, str, int] | None:
        """(envelope, body, peer address, frame count) of the next message, None when none waits.
        Frames past MAX_FRAMES are read and dropped (counted), never kept."""
        try:
            first = self.router.recv(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return None
        kept: list[zmq.Frame] = [first]
        count = 1
        while self.router.getsockopt(zmq.RCVMORE):
            frame = self.router.recv(copy=False)
            count += 1
            if len(kept) < MAX_FRAMES:
                kept.append(frame)
        last = kept[-1]
        try:
            peer = str(last.get("Peer-Address"))
        except (zmq.ZMQError, UnicodeDecodeError):
            peer = ""
        if count > MAX_FRAMES:
            return [kept[0].bytes], b"", peer, count
        return [f.bytes for f in kept[:-1]], last.bytes, peer, count

    def _answer(self, body: bytes, peer: str, frames: int) -> protocol.Reply:
        if frames > MAX_FRAMES:
            return self._refuse(0, "", "", "?", {}, protocol.CODE_BAD_REQUEST,
                                f"request of {frames} frames: at most {MAX_FRAMES} (envelope and body)", peer)
        if frames < 2:
            return self._refuse(0, "", "", "?", {}, protocol.CODE_BAD_REQUEST, "request without a body", peer)
        if len(body) > protocol.MAX_REQUEST_BYTES:
            return self._refuse(0, "", "", "?", {}, protocol.CODE_BAD_REQUEST,
                                f"request of {len(body)} bytes: at most {protocol.MAX_REQUEST_BYTES}", peer)
        return self.handle(body, peer)

    def handle(self, body: bytes, peer: str = "") -> protocol.Reply:
        self.requests += 1
        try:
            req = protocol.decode_request(body)
        except Exception as exc:        # DecodeError, ValidationError, or anything else msgspec raises
            return self._refuse(protocol.salvage_request_id(body), "", "", "?", {}, protocol.CODE_BAD_REQUEST,
                                f"undecodable request: {summarise_text(str(exc))}", peer)
        if req.command == protocol.AUTH_SALT:
            return self._salt(req)
        if self.lockout is not None:
            locked = self.lockout.locked(peer, req.user, time.monotonic())
            if locked is not None:     # refused unchecked: guessing on costs one dict lookup
                return self._refuse(req.request_id, req.user, "", req.command, req.args,
                                    protocol.CODE_UNAUTHENTICATED,
                                    f"locked out ({locked}) after repeated failed logons", peer)
        user = self.users.get(req.user)
        stored = self._stored_keys.get(req.user, _DECOY_KEY)
        message = auth_message(req.request_id, req.user, req.command, dict(req.args), req.ts_ns, req.nonce)
        proof_ok = check_proof(stored, message, req.proof)     # same work for an unknown user
        if user is None or not proof_ok:
            self._logon_failed(peer, req.user if user is not None else None)
            return self._refuse(req.request_id, req.user, "", req.command, req.args,
                                protocol.CODE_UNAUTHENTICATED, "unknown user or wrong credentials", peer)
        role = user.role
        now_ns = time.time_ns()
        if abs(now_ns - req.ts_ns) > REPLAY_WINDOW_S * 1e9:
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_REPLAYED,
                                f"request timestamp {(req.ts_ns - now_ns) / 1e9:+.1f} s from the service's "
                                f"clock: outside the {REPLAY_WINDOW_S:.0f} s window", peer)
        if not self._fresh_nonce(user.name, req.nonce, now_ns):
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_REPLAYED,
                                "this request (its nonce) was seen before", peer)
        entry = protocol.COMMANDS.get(req.command)
        if entry is None:
            return self._refuse(req.request_id, user.name, role, req.command, req.args,
                                protocol.CODE_UNKNOWN_COMMAND,
                                f"unknown command {summarise_text(req.command, 64)!r}; "
                                f"commands: {', '.join(sorted(protocol.COMMANDS))}", peer)
        write = entry[0] == protocol.WRITE
        allowed, own_only = roles.grants(user.all_roles(), req.command)
        if not allowed:
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_FORBIDDEN,
                                f"{req.command!r} is not allowed to your role(s) {', '.join(user.all_roles())}",
                                peer)
        if own_only and "account" in protocol.required_args(req.command) + protocol.optional_args(req.command):
            account = req.args.get("account")
            mine = self.firm_accounts.get(user.firm_id if user.firm_id is not None else -1, frozenset())
            if isinstance(account, str) and account.isdigit():
                account = int(account)
            if not isinstance(account, int) or isinstance(account, bool) or account not in mine:
                return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_FORBIDDEN,
                                    f"{req.command!r}: a trader names one of its firm's accounts "
                                    f"({', '.join(map(str, sorted(mine))) or 'none'})", peer)
        required = protocol.required_args(req.command)
        known_args = set(required) | set(protocol.optional_args(req.command))
        missing = [a for a in required if a not in req.args]
        extra = sorted(summarise_text(a, 64) for a in req.args if a not in known_args)
        if missing or extra:
            problem = (f"missing argument(s) {', '.join(missing)}" if missing else
                       f"unexpected argument(s) {', '.join(extra[:8])}")
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_BAD_REQUEST,
                                f"{req.command}: {problem}; arguments: {' '.join(entry[1]) or '(none)'}", peer)
        if self.service is None and req.command not in SECURITY_VERBS:
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_UNAVAILABLE,
                                "the service is starting", peer)
        try:
            if req.command in SECURITY_VERBS:
                data = self._security_verb(req.command)
            else:
                assert self.service is not None
                data = self.service.handle(req.command, dict(req.args), user.name, role)
        except CommandError as exc:
            reply = protocol.Reply(req.request_id, False, exc.code, exc.message)
        except (TypeError, ValueError) as exc:   # an argument of the wrong shape or value reached a handler
            reply = protocol.Reply(req.request_id, False, protocol.CODE_BAD_REQUEST,
                                   f"{req.command}: {summarise_text(str(exc))}")
        except Exception as exc:      # a bug: answer, log, audit, keep serving
            log.error("internal error in %s: %s", req.command, traceback.format_exc())
            reply = protocol.Reply(req.request_id, False, protocol.CODE_INTERNAL,
                                   f"{type(exc).__name__}: {summarise_text(str(exc))}")
        else:
            reply = protocol.Reply(req.request_id, True, protocol.CODE_OK, "", data)
        if not reply.ok:
            self.refused += 1
        if write or not reply.ok:
            self._audit_safely(user.name, role, req.command, req.args, reply.ok, reply.code, reply.message, peer)
        return reply

    def _salt(self, req: protocol.Request) -> protocol.Reply:
        """The user's salt and scrypt parameters (a decoy, stable per name, for an unknown user)."""
        known = self._hashes.get(req.user)
        if known is not None:
            salt, n, r, p = known.salt, known.n, known.r, known.p
        else:
            salt, n, r, p = decoy_salt(self._decoy_secret, req.user), SCRYPT_N, SCRYPT_R, SCRYPT_P
        return protocol.Reply(req.request_id, True, protocol.CODE_OK, "",
                              {"salt": base64.b64encode(salt).decode(), "n": n, "r": r, "p": p})

    def _fresh_nonce(self, user: str, nonce: str, now_ns: int) -> bool:
        """False when (user, nonce) was seen within the replay window; else remembers it."""
        if not nonce:
            return False
        horizon = now_ns - int(2 * REPLAY_WINDOW_S * 1e9)
        while self._nonces and (next(iter(self._nonces.values())) < horizon
                                or len(self._nonces) >= _MAX_NONCES):
            self._nonces.popitem(last=False)
        key = (user, nonce)
        if key in self._nonces:
            return False
        self._nonces[key] = now_ns
        return True

    def set_users(self, users: list[User]) -> None:
        """Installs a user table (start-up, and each rotation: the old credentials stop working now)."""
        self.users = {u.name: u for u in users}
        self._hashes = {u.name: parse_token_hash(u.token_hash) for u in users}
        self._stored_keys = {name: h.stored_key for name, h in self._hashes.items()}

    def _security_verb(self, command: str) -> Any:
        if command == "users.list":
            return [{"name": u.name, "roles": list(u.all_roles()), "firm_id": u.firm_id}
                    for u in self.users.values()]
        if command == "audit.verify":
            records, findings = audit_chain.verify(self.audit_log.path)
            return {"path": str(self.audit_log.path), "records": records, "whole": not findings,
                    "findings": [str(f) for f in findings[:100]]}
        raise CommandError(protocol.CODE_UNKNOWN_COMMAND, f"no handler for {command!r}")

    def _logon_failed(self, peer: str, user: str | None) -> None:
        """Counts a failed logon; a lockout it starts is audited and alerted (an intrusion)."""
        if self.lockout is None:
            return
        for kind in self.lockout.failed(peer, user, time.monotonic()):
            what = f"user {user}" if kind == "user_locked_out" else f"source {peer}"
            text = (f"control API: {what} locked out for {self.lockout.lockout_s:.0f} s after repeated "
                    f"failed logons")
            event = {"kind": kind, "user": user or "", "peer": peer}
            self._audit_safely("system", "system", "intrusion", event, True, protocol.CODE_OK, text, peer)
            if self.service is not None:
                self.service.alert("breach", "intrusion", text, detection=kind, user=user or "", peer=peer)

    def _refuse(self, request_id: int, user: str, role: str, command: str, args: Any, code: str,
                message: str, peer: str = "") -> protocol.Reply:
        self.refused += 1
        # An authenticated user's refusal (role known) is always written; anonymous ones are
        # summarised past REFUSALS_AUDITED_PER_S per peer.
        if role or self._count_refusal(peer, code):
            self._audit_safely(user, role, command, args, False, code, message, peer)
        return protocol.Reply(request_id, False, code, message)

    def _count_refusal(self, peer: str, code: str) -> bool:
        """True when this refusal gets its own audit line; else it is counted for the summary."""
        now = time.monotonic()
        state = self._refusals.get(peer)
        if state is None or now - state.window >= 1.0:
            if state is not None and state.suppressed:
                self._write_summary(peer, state)
            if state is None and len(self._refusals) >= _MAX_TRACKED_PEERS:
                self._flush_refusal_summaries(now, everything=True)
            state = self._refusals[peer] = _PeerRefusals(now)
        if state.audited < REFUSALS_AUDITED_PER_S:
            state.audited += 1
            return True
        state.suppressed += 1
        state.codes[code] = state.codes.get(code, 0) + 1
        return False

    def _write_summary(self, peer: str, state: _PeerRefusals) -> None:
        codes = ", ".join(f"{n} {c}" for c, n in sorted(state.codes.items()))
        self._audit_safely("", "", "refusals.summary", {"suppressed": state.suppressed, "codes": dict(state.codes)},
                           False, protocol.CODE_BAD_REQUEST,
                           f"{state.suppressed} more refused requests from {peer or 'unknown peer'} within one "
                           f"second ({codes}); over {REFUSALS_AUDITED_PER_S}/s they are summarised", peer)
        state.suppressed = 0
        state.codes = {}

    def _flush_refusal_summaries(self, now: float, everything: bool = False) -> None:
        for peer, state in list(self._refusals.items()):
            if everything or now - state.window >= 1.0:
                if state.suppressed:
                    self._write_summary(peer, state)
                del self._refusals[peer]

    def close(self) -> None:
        if self.zap is not None:
            self.zap.close()
        self.command_guard.close()
        self.publish_guard.close()
        self.router.close(0)
        self.pub.close(0)
