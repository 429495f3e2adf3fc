"""The dashboard's ASGI app (Starlette): the page and its assets, login, actions, and the
WebSocket that pushes panel states.

Push: one pusher task asks the Conflator every tick for the panels due (changed, and last pushed
at least 1/refresh_hz ago) and hands each browser its latest state per panel. Each browser has a
one-slot-per-panel mailbox drained by its own writer task: a slow browser gets fewer, newer
states and never holds up the others or the feed. Messages carry the hub's version; a browser
that reconnects sends the last version it saw and gets every panel newer than that (catch-up).

Security: the session cookie is HttpOnly and SameSite=Strict; requests that change something
must carry the X-Dashboard header (a cross-site form cannot set it) and, like the WebSocket,
an Origin (when sent) equal to this server's. Actions are a fixed list of control-plane commands,
run as the logged-in user (auth.py), so roles and the audit log are the control plane's.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.control.client import ControlError
from gateway.dashboard.auth import BrowserSession, LoginRefused, Sessions, Unavailable, cookie_name
from gateway.dashboard.conflate import Conflator, PanelState
from gateway.dashboard.reports import REPORT_CSP, ReportRefused, ReportsDir

log = logging.getLogger("gateway.dashboard")
STATIC = Path(__file__).resolve().parent / "static"
# The control-plane commands a browser may ask for (the control plane still decides who may).
ACTIONS = frozenset({"killswitch", "halt", "resume", "phase", "strategy.start", "strategy.stop",
                     "strategy.pause", "strategy.resume",
                     "sessions.disconnect", "alerts.ack", "parent.pause", "parent.resume", "parent.cancel"})
MAX_ACTION_ARGS = 8
MAX_BODY_BYTES = 4096
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
_json = msgspec.json.Encoder()


@dataclass(eq=False)          # hashed by identity: one per WebSocket
class Browser:
    """One WebSocket: its mailbox (latest message per panel) and the event that wakes its writer."""
    ws: WebSocket
    user: str
    mailbox: dict[str, bytes] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0


class Hub:
    """The browsers connected now and the pusher that feeds them from the Conflator."""

    def __init__(self, conflator: Conflator, refresh_hz: float) -> None:
        self.conflator = conflator
        self.tick_s = min(0.05, 0.5 / refresh_hz)
        self.browsers: set[Browser] = set()
        self.pushes = 0

    def count(self) -> int:
        return len(self.browsers)

    @staticmethod
    def message(name: str, p: PanelState, pushed_s: float) -> bytes:
        """pushed_s: this host's CLOCK_MONOTONIC when the pusher took the state (what the
        conflation rule spaces out, whatever the network or the browser do afterwards)."""
        return _json.encode({"type": "panel", "panel": name, "version": p.version, "pushed_s": pushed_s,
                             "state": p.state})

    def deliver(self, browser: Browser, panels: list[tuple[str, PanelState]]) -> None:
        for name, p in panels:
            browser.mailbox[name] = self.message(name, p, time.monotonic())
        if panels:
            browser.wake.set()

    async def pusher(self) -> None:
        while True:
            now = time.monotonic()
            due = self.conflator.due(now)
            if due:
                self.pushes += len(due)
                encoded = [(n, self.message(n, p, now)) for n, p in due]
                for b in list(self.browsers):
                    for name, msg in encoded:
                        b.mailbox[name] = msg
                    b.wake.set()
            await asyncio.sleep(self.tick_s)

    async def writer(self, b: Browser) -> None:
        while True:
            await b.wake.wait()
            b.wake.clear()
            batch, b.mailbox = b.mailbox, {}
            for msg in batch.values():
                await b.ws.send_text(msg.decode())
                b.sent += 1


def _same_origin(request_headers: Any, host: str | None) -> bool:
    origin = request_headers.get("origin")
    return origin is None or (host is not None and origin in (f"http://{host}", f"https://{host}"))


def _refused(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "code": code, "message": message}, status_code=status)


def _guarded(request: Request) -> JSONResponse | None:
    """A refusal for a request that changes something without the X-Dashboard header or from
    another origin; None when it may go on."""
    if request.headers.get("x-dashboard") != "1" or not _same_origin(request.headers, request.headers.get("host")):
        return _refused(403, "forbidden", "cross-site request refused (X-Dashboard header and same origin needed)")
    return None


async def _read_json(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    return data if isinstance(data, dict) else None


def _read_and_close(fd: int, size: int) -> bytes:
    try:
        chunks, left = [], size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _action_args_ok(args: Any) -> bool:
    # a whole number beyond 64 bits has no meaning to the venue, and the control client's msgpack
    # cannot send it (an OverflowError there was an HTTP 500)
    return (isinstance(args, dict) and len(args) <= MAX_ACTION_ARGS
            and all(isinstance(k, str) and len(k) <= 64 for k in args)
            and all(v is None or isinstance(v, (bool, float)) or (isinstance(v, int) and -2**63 <= v < 2**63)
                    or (isinstance(v, str) and len(v) <= 256) for v in args.values()))


class Routes:
    """The HTTP and WebSocket endpoints; one method each."""

    def __init__(self, conflator: Conflator, sessions: Sessions, refresh_hz: float, venue: str,
                 reports: ReportsDir) -> None:
        self.conflator = conflator
        self.reports = reports
        self.sessions = sessions
        self.refresh_hz = refresh_hz
        self.venue = venue
        self.cookie = cookie_name(venue)
        self.hub = Hub(conflator, refresh_hz)

    async def session_of(self, request: Request | WebSocket) -> BrowserSession | None:
        """The logged-in session of a request: in memory, or (after this process restarted) the
        cookie's session re-validated against the control plane. Raises Unavailable when that
        re-validation got no answer."""
        cookie = request.cookies.get(self.cookie)
        s = self.sessions.get(cookie)
        if s is None and self.sessions.restorable(cookie) is not None:
            s = await asyncio.to_thread(self.sessions.restore, cookie)
        return s

    async def session_or_refusal(self, request: Request) -> BrowserSession | JSONResponse:
        try:
            s = await self.session_of(request)
        except Unavailable as exc:
            return _refused(503, "unavailable", f"cannot check the session with the control plane now: {exc}")
        return s if s is not None else _refused(401, "unauthenticated", "not logged in")

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP,
                                                            "Cache-Control": "no-store"})

    async def login(self, request: Request) -> Response:
        bad = _guarded(request)
        if bad is not None:
            return bad
        data = await _read_json(request)
        if data is None or not isinstance(data.get("user"), str) or not isinstance(data.get("token"), str):
            return _refused(400, "bad_request", 'expected JSON {"user": NAME, "token": TOKEN}')
        peer = request.client.host if request.client else ""
        try:
            s = await asyncio.to_thread(self.sessions.login, data["user"], data["token"], peer)
        except LoginRefused as exc:
            return _refused(exc.status, exc.code, exc.message)
        resp = JSONResponse({"ok": True, "user": s.user, "role": s.role, "venue": self.venue})
        resp.set_cookie(self.cookie, s.cookie, httponly=True, samesite="strict", path="/")
        return resp

    async def logout(self, request: Request) -> Response:
        bad = _guarded(request)
        if bad is not None:
            return bad
        self.sessions.logout(request.cookies.get(self.cookie))
        resp = JSONResponse({"ok": True})
        resp.delete_cookie(self.cookie, path="/")
        return resp

    async def me(self, request: Request) -> Response:
        s = await self.session_or_refusal(request)
        if isinstance(s, JSONResponse):
            return s
        return JSONResponse({"ok": True, "user": s.user, "role": s.role, "venue": self.venue})

    async def report(self, request: Request) -> Response:
        """One TCA report file, read-only, to a logged-in user (reports.py says what is served)."""
        s = await self.session_or_refusal(request)
        if isinstance(s, JSONResponse):
            return s
        try:
            rep = self.reports.open(str(request.path_params["name"]))
        except ReportRefused as exc:
            return _refused(exc.status, exc.code, exc.message)
        body = await asyncio.to_thread(_read_and_close, rep.fd, rep.size)
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                   "Content-Disposition": f'inline; filename="{rep.name}"'}
        if rep.media_type.startswith("text/html"):
            headers["Content-Security-Policy"] = REPORT_CSP
        return Response(body, media_type=rep.media_type, headers=headers)

    async def action(self, request: Request) -> Response:
        bad = _guarded(request)
        if bad is not None:
            return bad
        s = await self.session_or_refusal(request)
        if isinstance(s, JSONResponse):
            return s
        data = await _read_json(request)
        command, args = (data or {}).get("command"), (data or {}).get("args", {})
        if command not in ACTIONS:
            return _refused(400, "bad_request", f"command: one of {', '.join(sorted(ACTIONS))}")
        if not _action_args_ok(args):
            return _refused(400, "bad_request", "args: at most 8 names with scalar values (whole numbers "
                                                "within 64 bits, text up to 256 characters)")
        try:
            reply = await asyncio.to_thread(s.call, command, args)
        except ControlError as exc:
            return _refused(503, exc.code, exc.message)
        status = 200 if reply.ok else {"forbidden": 403, "unauthenticated": 401, "bad_request": 400,
                                       "unavailable": 503, "engine_reject": 409}.get(reply.code, 400)
        return JSONResponse({"ok": reply.ok, "code": reply.code, "message": reply.message,
                             "data": reply.data}, status_code=status)

    async def websocket(self, ws: WebSocket) -> None:
        if not _same_origin(ws.headers, ws.headers.get("host")):
            await ws.close(code=4403)       # before accepting: the handshake is refused (HTTP 403)
            return
        try:
            s = await self.session_of(ws)
        except Unavailable:
            await ws.accept()
            await ws.close(code=1013)       # try again later: the page reconnects with back-off
            return
        await ws.accept()
        if s is None:
            await ws.close(code=4401)       # the page shows its login form on this code
            return
        since = await self._first_message(ws)
        if since is None:
            return
        browser = Browser(ws, s.user)
        # Join first, then catch up: a push in between is newer and wins by version in the page.
        self.hub.browsers.add(browser)
        await ws.send_text(_json.encode({"type": "hello", "user": s.user, "role": s.role, "venue": self.venue,
                                         "version": self.conflator.version,
                                         "refresh_hz": self.refresh_hz}).decode())
        self.hub.deliver(browser, self.conflator.since(since))
        writer = asyncio.create_task(self.hub.writer(browser))
        try:
            while len(await ws.receive_text()) <= 1024:   # the page sends nothing after its first message
                pass
        except WebSocketDisconnect:
            pass
        finally:
            self.hub.browsers.discard(browser)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    @staticmethod
    async def _first_message(ws: WebSocket) -> int | None:
        """The version the page saw last ({"since": N}); None (and the socket closed) if it does
        not say within 10 s or says something else."""
        try:
            first = await asyncio.wait_for(ws.receive_json(), 10)
        except (asyncio.TimeoutError, ValueError, KeyError, WebSocketDisconnect):
            await ws.close(code=4400)
            return None
        since = first.get("since", 0) if isinstance(first, dict) else 0
        return since if isinstance(since, int) and since >= 0 else 0


def create_app(conflator: Conflator, sessions: Sessions, refresh_hz: float, venue: str,
               reports: ReportsDir | None = None, on_shutdown: Any = None) -> Starlette:
    r = Routes(conflator, sessions, refresh_hz, venue, reports or ReportsDir(""))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(r.hub.pusher())
        try:
            yield
        finally:
            task.cancel()
            if on_shutdown is not None:
                on_shutdown()

    app = Starlette(routes=[Route("/", r.index), Route("/api/login", r.login, methods=["POST"]),
                            Route("/api/logout", r.logout, methods=["POST"]), Route("/api/me", r.me),
                            Route("/api/action", r.action, methods=["POST"]), WebSocketRoute("/ws", r.websocket),
                            Route("/reports/{name:path}", r.report),
                            Mount("/static", StaticFiles(directory=STATIC), name="static")],
                    lifespan=lifespan)
    app.state.hub = r.hub
    return app
