"""The gateway process's admin thread: serves gateway/gw_admin.py requests on a ZeroMQ REP socket
and relays each to the C loop through the gw_admin_t mailbox (native/gateway/gw_admin.h).

Encryption and client admission (optional): started with a CurveZMQ key pair and a directory of
admitted client public keys (--admin-curve-secret, --admin-curve-clients), the socket serves CURVE
(gateway/security/curve.py): a client must know the server's public key and hold an admitted key
pair, or its handshake is refused (each refusal logged by the ZAP handler). ``up`` makes both per
run in its private run directory, so that only its control plane can reach the endpoint.

Authentication: started with a token (the gateway's --admin-token-file, which ``up`` gives the
gateway and the control plane in its private run directory), every request must carry it; others
are answered "unauthenticated" and logged. The control plane checks the operator's role
(gateway/security/roles.py) and audits the call before it relays it here.

The C loop runs on the process's main thread with the GIL released (cffi), so this thread runs
beside it. Invariant: at most one mailbox request is outstanding; a request the loop has not
answered within ANSWER_DEADLINE_S (loop not started, stopped, or stalled) is answered
"unavailable", and later requests are refused the same way until the loop answers it, so the
requester never rewrites a request the loop may be reading.
"""
from __future__ import annotations

import hmac
import os
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import msgspec
import zmq

from gateway.orderentry.admin import SESSION_STATES, AdminReply, AdminRequest, truncate_reason
from gateway.security import curve
from gateway.security.gateway_security import GatewaySecurity
from gateway.security.key_rotation import KeyRotation
from native._venue import ffi, lib

ANSWER_DEADLINE_S = 2.0
MAX_REQUEST_BYTES = 4096        # an AdminRequest is well under 1 KiB (reason <= 128 bytes kept)
_MAILBOX_POLL_S = 0.0002        # the loop answers within one pass; this only bounds CPU use
_SOCKET_POLL_MS = 100           # how often the thread checks for stop while idle


def previous_admin_token(path: str) -> str:
    """The token a previous run of the gateway left in path ("" when there is none): read before
    new_admin_token replaces it, so a request that still carries it (read by a client just before
    this run wrote its own) is told apart from a wrong token."""
    try:
        return Path(path).read_text().strip()[:128]
    except (OSError, UnicodeDecodeError):
        return ""


def new_admin_token(path: str) -> str:
    """A fresh random admin token, written to path with mode 0600 from its creation."""
    token = secrets.token_hex(32)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    os.replace(tmp, path)
    return token


class AdminServer:
    """Binds `endpoint` at construction (raises zmq.ZMQError for a bad or busy endpoint)."""

    def __init__(self, endpoint: str, session_capacity: int, log: TextIO = sys.stderr, token: str = "",
                 curve_secret: str | None = None, curve_clients: str | None = None,
                 rotation: KeyRotation | None = None, previous_token: str = "") -> None:
        """token: when not empty, every request must carry it (else "unauthenticated", logged).
        previous_token: the token of this gateway's previous run (previous_admin_token): a request
        carrying it is refused all the same, but said to be stale rather than wrong (a client
        that read the token file just before this run wrote it; its next call reads the new one).
        curve_secret, curve_clients: both or neither; serve CURVE with this key pair (NAME.key_secret)
        to the clients whose public keys (*.key) are in that directory. Raises curve.CurveError for
        an unusable key file or directory, zmq.ZMQError for a bad or busy endpoint. rotation: the
        credentials file to watch for changed session keys (installed through the mailbox)."""
        if (curve_secret is None) != (curve_clients is None):
            raise curve.CurveError("the admin endpoint's CurveZMQ needs both the server key pair and "
                                   "the admitted clients' directory")
        self._token = token.encode()
        self._previous_token = previous_token.encode() if previous_token != token else b""
        self.refused = 0
        self.stale = 0
        self._log = log
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.REP)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.MAXMSGSIZE, MAX_REQUEST_BYTES)   # larger: libzmq drops the sender
        self.zap: curve.ZapHandler | None = None
        try:
            if curve_secret is not None and curve_clients is not None:
                self.zap = curve.ZapHandler(self._ctx, curve_clients, log=self._log_line)
                curve.make_server(self._sock, curve_secret)
            self._sock.bind(endpoint)
        except (zmq.ZMQError, curve.CurveError):
            if self.zap is not None:
                self.zap.close()
            self._sock.close(linger=0)
            self._ctx.term()
            raise
        self.endpoint: str = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.mailbox = ffi.new("gw_admin_t *")
        self._rows = ffi.new("gw_admin_session_t[]", max(1, session_capacity))
        self.mailbox.sessions = self._rows
        self.mailbox.capacity = session_capacity
        self._events = ffi.new("gw_sec_event_t[]", lib.GW_SEC_EVENT_CAP)
        self.mailbox.events = self._events
        self.mailbox.event_capacity = lib.GW_SEC_EVENT_CAP
        self._rotation = rotation
        self._outstanding = 0
        self._loop_stopped = threading.Event()
        self._stop = threading.Event()
        self._enc = msgspec.msgpack.Encoder()
        self._dec = msgspec.msgpack.Decoder(AdminRequest)
        self._thread = threading.Thread(target=self._serve, name="gw-admin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def loop_stopped(self) -> None:
        """The C loop returned: pending and later requests are answered "unavailable"."""
        self._loop_stopped.set()

    def _log_line(self, line: str) -> None:
        print(f"gateway: admin endpoint: {line}", file=self._log, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self.zap is not None:
            self.zap.close()
        self._sock.close(linger=0)
        self._ctx.term()

    # ---- the thread ------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                self._serve_one()
            except Exception as exc:    # never let one request end the admin thread
                print(f"gateway: admin endpoint: {exc!r}", file=self._log, flush=True)

    def _serve_one(self) -> None:
        if self._rotation is not None:
            for session_id, key in self._rotation.changed_keys(time.monotonic()):
                err = self._ask(lib.GW_ADMIN_OP_SET_KEY, session_id, key)
                what = err.message if err else ("installed" if self.mailbox.result == lib.GW_ADMIN_OK
                                                else "refused by the loop")
                self._log_line(f"session {session_id}: rotated key {what}")
        if not self._sock.poll(_SOCKET_POLL_MS, zmq.POLLIN):
            return
        # Every frame of the request is read before the reply (REP refuses to send otherwise);
        # only the first is kept, a request of more frames is refused.
        raw = self._sock.recv()
        frames = 1
        while self._sock.getsockopt(zmq.RCVMORE):
            self._sock.recv(copy=False)
            frames += 1
        if frames != 1:
            reply = AdminReply(ok=False, code="bad_request",
                               message=f"request of {frames} frames: send one msgpack frame")
        else:
            try:
                reply = self._handle(raw)
            except Exception as exc:    # a bug in one answer: the endpoint goes on serving
                reply = AdminReply(ok=False, code="unavailable", message=f"internal error: {exc!r}")
        self._sock.send(self._enc.encode(reply))

    def _handle(self, raw: bytes) -> AdminReply:
        try:
            req = self._dec.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return AdminReply(ok=False, code="bad_request", message=f"undecodable request: {str(exc)[:200]}")
        if self._token and not hmac.compare_digest(req.token.encode(), self._token):
            if self._previous_token and hmac.compare_digest(req.token.encode(), self._previous_token):
                self.stale += 1
                if self.stale <= 10:
                    print(f"gateway: admin request {req.op[:32]!r} carried the token of this gateway's "
                          f"previous run (the client read the token file before this run wrote it): "
                          f"answered unauthenticated; its next call reads the new token",
                          file=self._log, flush=True)
                return AdminReply(ok=False, code="unauthenticated",
                                  message="the token of the gateway's previous run: read the token file again")
            self.refused += 1
            if self.refused <= 100 or self.refused % 1000 == 0:     # logged, not a disk filler
                print(f"gateway: admin request {req.op[:32]!r} refused: no or wrong admin token "
                      f"({self.refused} refused)", file=self._log, flush=True)
            return AdminReply(ok=False, code="unauthenticated", message="no or wrong admin token")
        if req.op == "sessions":
            err = self._ask(lib.GW_ADMIN_OP_SNAPSHOT, 0, b"")
            return err or AdminReply(ok=True, code="ok", data=self._table())
        if req.op == "disconnect":
            if req.session_id is None or req.session_id < 0 or req.session_id >= 1 << 64:
                return AdminReply(ok=False, code="bad_request",
                                  message="disconnect needs session_id, an unsigned 64-bit int")
            err = self._ask(lib.GW_ADMIN_OP_DISCONNECT, req.session_id, truncate_reason(req.reason))
            if err:
                return err
            m = self.mailbox
            if m.result == lib.GW_ADMIN_UNKNOWN_SESSION:
                return AdminReply(ok=False, code="unknown_session",
                                  message=f"no configured session {req.session_id}")
            print(f"gateway: admin disconnect of session {req.session_id} "
                  f"({'was connected' if m.was_connected else 'not connected'}): {req.reason!r}",
                  file=self._log, flush=True)
            return AdminReply(ok=True, code="ok",
                              data={"session_id": req.session_id,
                                    "was_connected": bool(m.was_connected),
                                    "orders_cancelling": int(m.orders_cancelling)})
        if req.op == "security_events":
            return self._security_events(req.cursor)
        return AdminReply(ok=False, code="bad_request",
                          message=f"unknown op {req.op!r}: use 'sessions', 'disconnect' or 'security_events'")

    def _security_events(self, cursor: int) -> AdminReply:
        self.mailbox.event_cursor = cursor
        err = self._ask(lib.GW_ADMIN_OP_SECURITY_EVENTS, 0, b"")
        if err:
            return err
        m = self.mailbox
        events = [msgspec.structs.asdict(GatewaySecurity.event(self._events[i])) for i in range(m.event_count)]
        nxt = int(m.event_cursor)
        return AdminReply(ok=True, code="ok",
                          data={"events": events, "next": nxt, "lost": max(0, nxt - len(events) - cursor)})

    def _ask(self, op: int, session_id: int, reason: bytes) -> AdminReply | None:
        """Puts one request in the mailbox and waits for the loop's answer; None when answered."""
        m = self.mailbox
        if self._outstanding and not lib.gw_admin_done(m, self._outstanding):
            if self._loop_stopped.is_set():
                return AdminReply(ok=False, code="unavailable", message="the gateway loop stopped")
            return AdminReply(ok=False, code="unavailable",
                              message="the gateway loop has not answered an earlier request")
        m.op = op
        m.session_id = session_id
        m.reason_len = len(reason)
        ffi.memmove(m.reason, reason, len(reason))
        self._outstanding = lib.gw_admin_submit(m)
        end = time.monotonic() + ANSWER_DEADLINE_S
        while not lib.gw_admin_done(m, self._outstanding):
            if self._loop_stopped.is_set():
                return AdminReply(ok=False, code="unavailable", message="the gateway loop stopped")
            if time.monotonic() > end:
                return AdminReply(ok=False, code="unavailable",
                                  message=f"the gateway loop did not answer within "
                                          f"{ANSWER_DEADLINE_S} s")
            time.sleep(_MAILBOX_POLL_S)
        if m.result == lib.GW_ADMIN_BAD_OP:
            return AdminReply(ok=False, code="bad_request", message=f"op {op} refused by the loop")
        return None

    def _table(self) -> list[dict[str, Any]]:
        rows = []
        for i in range(self.mailbox.session_count):
            r = self._rows[i]
            peer = ffi.string(r.peer).decode(errors="replace")
            rows.append({"session_id": int(r.session_id), "firm_id": int(r.firm_id),
                         "connected": r.state != lib.GW_ADMIN_SESSION_DISCONNECTED,
                         "state": SESSION_STATES[r.state], "peer": peer or None,
                         "in_seq": int(r.in_seq), "out_seq": int(r.out_seq),
                         "cancel_on_disconnect": bool(r.cancel_on_disconnect),
                         "orders_live": int(r.orders_live)})
        return rows
