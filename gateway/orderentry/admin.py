"""Session admin of a running gateway process: list its sessions, disconnect one, collect its
intrusion-detection events.

The gateway (``python -m gateway gateway --admin ENDPOINT``) binds a ZeroMQ REP socket served by
gateway/gw_admin_server.py; this module is the wire format both ends share and the client an
operator tool or the control plane uses::

    with GatewayAdmin("tcp://127.0.0.1:5720") as adm:
        for row in adm.sessions():
            print(row["session_id"], row["state"], row["peer"], row["orders_live"])
        adm.disconnect(101, "operator alice: runaway algo")

Wire: REQ/REP, one msgpack-encoded AdminRequest per AdminReply. Every failure is a
GatewayAdminError with a code from ERROR_CODES, never a hang: a request without a reply within
timeout_s raises code "timeout" and the socket is rebuilt, so the next call works when the gateway
is back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import zmq

from gateway.security import curve

ERROR_CODES = ("unknown_session", "bad_request", "timeout", "unavailable", "unauthenticated")
REASON_MAX_BYTES = 128          # the Terminate message's reason field (gw_admin.h GW_ADMIN_REASON_MAX)
SESSION_STATES = ("disconnected", "negotiated", "established")   # GW_ADMIN_SESSION_* order


class AdminRequest(msgspec.Struct, forbid_unknown_fields=True):
    op: Annotated[str, msgspec.Meta(max_length=32)]    # "sessions" or "disconnect"
    session_id: int | None = None       # disconnect: the configured session id
    reason: Annotated[str, msgspec.Meta(max_length=1024)] = ""   # disconnect: Terminate text (<= 128 bytes kept)
    token: Annotated[str, msgspec.Meta(max_length=128)] = ""     # the gateway's admin token, when it has one
    cursor: Annotated[int, msgspec.Meta(ge=0)] = 0     # security_events: the first event wanted


class AdminReply(msgspec.Struct):
    ok: bool
    code: str                           # "ok" or one of ERROR_CODES
    message: str = ""
    data: Any = None


class GatewayAdminError(Exception):
    """A refused or unanswered admin request; .code is one of ERROR_CODES."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def truncate_reason(reason: str) -> bytes:
    """The reason as UTF-8, cut to REASON_MAX_BYTES without splitting a character."""
    raw = reason.encode()
    if len(raw) <= REASON_MAX_BYTES:
        return raw
    return raw[:REASON_MAX_BYTES].decode(errors="ignore").encode()


class GatewayAdmin:
    """Client of one gateway's admin endpoint. Not thread safe: one instance per thread."""

    def __init__(self, endpoint: str, timeout_s: float = 2.0,
                 context: zmq.Context | None = None,  # type: ignore[type-arg]
                 token: str = "", token_file: str | None = None,
                 curve_server_key: str | None = None, curve_client_secret: str | None = None) -> None:
        """token (or token_file, read at each call so a restarted gateway's new token is used):
        the gateway's admin token (its --admin-token-file). curve_server_key (the gateway's public
        key file, NAME.key) and curve_client_secret (this client's NAME.key_secret): both for a
        gateway serving CurveZMQ (--admin-curve-secret), read each time the socket is built."""
        if (curve_server_key is None) != (curve_client_secret is None):
            raise ValueError("curve_server_key and curve_client_secret: give both or neither")
        if not isinstance(endpoint, str) or "://" not in endpoint:
            raise ValueError(f"endpoint {endpoint!r}: use a ZeroMQ endpoint such as "
                             "tcp://127.0.0.1:5720")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._token = token
        self._token_file = token_file
        self._curve = (curve_server_key, curve_client_secret) if curve_server_key and curve_client_secret else None
        self._ctx = context or zmq.Context.instance()
        self._enc = msgspec.msgpack.Encoder()
        self._dec = msgspec.msgpack.Decoder(AdminReply)
        self._sock: zmq.Socket | None = None  # type: ignore[type-arg]

    def _socket(self) -> zmq.Socket:  # type: ignore[type-arg]
        if self._sock is None:
            s = self._ctx.socket(zmq.REQ)
            s.setsockopt(zmq.LINGER, 0)
            if self._curve is not None:
                try:
                    curve.make_client(s, *self._curve)
                except curve.CurveError as exc:
                    s.close(linger=0)
                    raise GatewayAdminError("unavailable", f"admin CurveZMQ keys: {exc}") from None
            s.connect(self.endpoint)
            self._sock = s
        return self._sock

    def _drop_socket(self) -> None:
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def _call(self, req: AdminRequest) -> Any:
        if self._token_file:
            try:
                req.token = Path(self._token_file).read_text().strip()
            except OSError as exc:
                raise GatewayAdminError("unavailable", f"admin token {self._token_file}: "
                                                       f"{exc.strerror or exc}") from None
        else:
            req.token = self._token
        sock = self._socket()
        sock.send(self._enc.encode(req))
        if not sock.poll(int(self.timeout_s * 1000), zmq.POLLIN):
            # A REQ socket that got no reply cannot send again: rebuild it for the next call.
            self._drop_socket()
            raise GatewayAdminError("timeout", f"no reply from {self.endpoint} within "
                                               f"{self.timeout_s} s (is the gateway running?)")
        try:
            reply = self._dec.decode(sock.recv())
        except msgspec.DecodeError as exc:
            self._drop_socket()
            raise GatewayAdminError("bad_request", f"undecodable reply: {exc}") from None
        if not reply.ok:
            raise GatewayAdminError(reply.code, reply.message)
        return reply.data

    def sessions(self) -> list[dict[str, Any]]:
        """Every configured session: session_id, firm_id, connected, state, peer, in_seq, out_seq,
        cancel_on_disconnect, orders_live (see /work/notes/gw_admin.md, README)."""
        return list(self._call(AdminRequest(op="sessions")))

    def disconnect(self, session_id: int, reason: str) -> dict[str, Any]:
        """Terminates the session's connection with ENG_GW_ADMIN_DISCONNECT and `reason` as the
        Terminate text; cancel-on-disconnect applies. Returns {session_id, was_connected,
        orders_cancelling}; a session that is not connected is not an error."""
        if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id < 0:
            raise ValueError(f"session_id must be a non-negative int, got {session_id!r}")
        if not isinstance(reason, str):
            raise ValueError(f"reason must be a str, got {type(reason).__name__}")
        return dict(self._call(AdminRequest(op="disconnect", session_id=session_id,
                                            reason=reason)))

    def security_events(self, cursor: int = 0) -> dict[str, Any]:
        """The gateway's intrusion-detection events from cursor on: {"events": [SecurityEvent as a
        dict...], "next": the cursor to ask with next time, "lost": events overwritten before
        they were collected}."""
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise ValueError(f"cursor must be a non-negative int, got {cursor!r}")
        return dict(self._call(AdminRequest(op="security_events", cursor=cursor)))

    def close(self) -> None:
        self._drop_socket()

    def __enter__(self) -> "GatewayAdmin":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
