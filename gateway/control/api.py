"""The control-plane API server: a ZeroMQ ROUTER for commands and a PUB for status, alerts,
metrics and audit records (wire format: protocol.py).

Per request, in this order: decode (bad_request), authenticate the user's token with
hmac.compare_digest (unauthenticated), look the command up (unknown_command), check the role
(forbidden: a viewer asking for a write), check argument names (bad_request), then run it
(service.ControlService). Every write command, accepted or refused, and every refused request of
any kind is appended to the audit log before the reply is sent, and published on the "audit" topic.
"""
from __future__ import annotations

import hmac
import logging
import traceback
from typing import Any

import msgspec
import zmq

from gateway.control import protocol
from gateway.control.audit import AuditLog
from gateway.control.config import User
from gateway.control.service import CommandError, ControlService

log = logging.getLogger("gateway.control.api")
_DUMMY_TOKEN = "x" * 32       # compared against when the user is unknown: same work either way


class ApiServer:
    def __init__(self, users: list[User], audit: AuditLog, command_endpoint: str, publish_endpoint: str,
                 context: zmq.Context | None = None) -> None:
        self.users = {u.name: u for u in users}
        self.audit_log = audit
        self.service: ControlService | None = None
        ctx = context or zmq.Context.instance()
        self.router = ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.pub = ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.setsockopt(zmq.SNDHWM, 10000)
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

    def publish(self, topic: bytes, body: Any) -> None:
        try:
            self.pub.send_multipart([topic, protocol.encode(body)], zmq.NOBLOCK)
        except zmq.Again:
            pass   # PUB drops for slow subscribers by design; the log and the API stay authoritative

    def audit(self, user: str, role: str, command: str, args: Any, ok: bool, code: str, message: str = "") -> None:
        entry = self.audit_log.record(user, role, command, args, ok, code, message)
        self.publish(protocol.TOPIC_AUDIT, entry)

    def serve(self, timeout_ms: int) -> int:
        """Answer the requests that are waiting (waiting up to timeout_ms for the first)."""
        handled = 0
        if not self.router.poll(timeout_ms):
            return 0
        while True:
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return handled
            reply = self.handle(frames[-1])
            # Envelope: identity (+ the empty delimiter of REQ/DEALER clients) is echoed back.
            self.router.send_multipart([*frames[:-1], protocol.encode(reply)])
            handled += 1

    def handle(self, body: bytes) -> protocol.Reply:
        self.requests += 1
        try:
            req = protocol.decode_request(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return self._refuse(0, "", "", "?", {}, protocol.CODE_BAD_REQUEST, f"undecodable request: {exc}")
        user = self.users.get(req.user)
        expected = user.token if user is not None else _DUMMY_TOKEN
        token_ok = hmac.compare_digest(req.token.encode(), expected.encode())
        if user is None or not token_ok:
            return self._refuse(req.request_id, req.user, "", req.command, req.args,
                                protocol.CODE_UNAUTHENTICATED, "unknown user or wrong token")
        role = user.role
        entry = protocol.COMMANDS.get(req.command)
        if entry is None:
            return self._refuse(req.request_id, user.name, role, req.command, req.args,
                                protocol.CODE_UNKNOWN_COMMAND,
                                f"unknown command {req.command!r}; commands: {', '.join(sorted(protocol.COMMANDS))}")
        write = entry[0] == protocol.WRITE
        if write and role != protocol.ROLE_OPERATOR:
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_FORBIDDEN,
                                f"{req.command!r} changes the venue: operators only (you are a {role})")
        required = protocol.required_args(req.command)
        allowed = set(required) | set(protocol.optional_args(req.command))
        missing = [a for a in required if a not in req.args]
        extra = sorted(a for a in req.args if a not in allowed)
        if missing or extra:
            problem = (f"missing argument(s) {', '.join(missing)}" if missing else
                       f"unexpected argument(s) {', '.join(extra)}")
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_BAD_REQUEST,
                                f"{req.command}: {problem}; arguments: {' '.join(entry[1]) or '(none)'}")
        if self.service is None:
            return self._refuse(req.request_id, user.name, role, req.command, req.args, protocol.CODE_UNAVAILABLE,
                                "the service is starting")
        try:
            data = self.service.handle(req.command, dict(req.args), user.name, role)
        except CommandError as exc:
            reply = protocol.Reply(req.request_id, False, exc.code, exc.message)
        except TypeError as exc:      # an argument of the wrong shape reached a handler
            reply = protocol.Reply(req.request_id, False, protocol.CODE_BAD_REQUEST, f"{req.command}: {exc}")
        except Exception as exc:      # a bug: answer, log, keep serving
            log.error("internal error in %s: %s", req.command, traceback.format_exc())
            reply = protocol.Reply(req.request_id, False, protocol.CODE_INTERNAL, f"{type(exc).__name__}: {exc}")
        else:
            reply = protocol.Reply(req.request_id, True, protocol.CODE_OK, "", data)
        if not reply.ok:
            self.refused += 1
        if write or not reply.ok:
            self.audit(user.name, role, req.command, req.args, reply.ok, reply.code, reply.message)
        return reply

    def _refuse(self, request_id: int, user: str, role: str, command: str, args: Any, code: str,
                message: str) -> protocol.Reply:
        self.refused += 1
        self.audit(user, role, command, args, False, code, message)
        return protocol.Reply(request_id, False, code, message)

    def close(self) -> None:
        self.router.close(0)
        self.pub.close(0)
