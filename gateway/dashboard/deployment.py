"""The index page of a multi-venue deployment (``python -m gateway up --config MULTI.toml``):
one page listing every venue with a link to its own dashboard, its processes' state and its
market-data feed's audience, and the consolidator's NBBO with each venue's protected quote.

    python -m gateway dashboard --deployment FILE [--listen HOST:PORT] [--port-file F]

FILE is what the multi-venue ``up`` writes into its run directory (gateway/venues/up.py,
``deployment.json``): the venues (id, type, instruments, the URL of the dashboard each venue's
``up`` runs, its run directory), the consolidator's publish endpoint, the instruments and the
price scale.

Choice (issue #26 point 4): one dashboard per venue, as each venue is a whole single venue (its own
engine, control plane, users and audit log: a login is a venue's), plus this index for the
deployment. Each venue's dashboard sets a cookie named after its venue, so the logins of several
venues on one host do not overwrite one another.

The index changes nothing and shows what is not a venue's secret: where the venues' dashboards
are, whether their processes run, how many subscribers their public feeds have, and the
consolidated quote (public market data). It therefore asks for no login; every panel with firms'
orders, positions or actions is behind the venue dashboards' control-plane logins. The page polls
``/api/deployment`` once a second (a handful of venues: no push needed); the NBBO is read by a
thread subscribed to the consolidator (gateway/sip/subscriber.py).
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import psutil
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.dashboard.market_data import STATS_FILE, market_data_health
from gateway.small_files import NotASmallFile, read_small_text

log = logging.getLogger("gateway.dashboard")
STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


class DeploymentError(Exception):
    """The deployment file is missing or not what the multi-venue up writes."""


def load_deployment(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_small_text(path))      # a small regular file: not /dev/zero, not a FIFO
    except OSError as exc:
        raise DeploymentError(f"{path}: {exc.strerror}") from None
    except NotASmallFile as exc:
        raise DeploymentError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise DeploymentError(f"{path}: not JSON ({exc})") from None
    if not (isinstance(data, dict) and isinstance(data.get("venues"), list) and isinstance(data.get("sip"), str)
            and all(isinstance(v, dict) and isinstance(v.get("id"), str) for v in data["venues"])):
        raise DeploymentError(f"{path}: expected {{\"venues\": [{{\"id\": ...}}, ...], \"sip\": ENDPOINT, ...}} "
                              "(written by up --config MULTI.toml)")
    return data


class NbboFeed:
    """The latest NBBO update per instrument, from the consolidator's feed (its own thread)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.latest: dict[int, dict[str, Any]] = {}
        self.lost = 0
        self.stats: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deployment-nbbo", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import msgspec
        from gateway.sip.subscriber import SipSubscriber
        sub = SipSubscriber(self.endpoint)
        try:
            while not self._stop.is_set():
                updates = sub.poll(0.2)
                with self._lock:
                    for u in updates:
                        self.latest[u.instrument_id] = msgspec.to_builtins(u)
                    self.lost = sub.lost
                    self.stats = msgspec.to_builtins(sub.stats) if sub.stats is not None else None
        finally:
            sub.close()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"latest": {str(k): v for k, v in sorted(self.latest.items())}, "lost": self.lost,
                    "stats": self.stats}


def _processes(run_dir: str | None) -> dict[str, Any]:
    """The venue's processes as its up wrote them (processes.json), each alive or not."""
    if not run_dir:
        return {}
    try:
        pids = json.loads((Path(run_dir) / "processes.json").read_text()).get("pids", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(name): {"pid": pid, "alive": isinstance(pid, int) and psutil.pid_exists(pid)}
            for name, pid in pids.items()}


class DeploymentIndex:
    def __init__(self, path: Path, nbbo: NbboFeed) -> None:
        self.path = path
        self.nbbo = nbbo

    def state(self) -> dict[str, Any]:
        try:
            dep = load_deployment(self.path)
        except DeploymentError as exc:
            return {"ok": False, "error": str(exc)}
        venues = []
        for v in dep["venues"]:
            run_dir = v.get("run_dir")
            venues.append({**{k: v.get(k) for k in ("id", "type", "engine", "instruments", "dashboard",
                                                     "order_entry", "md_zmq", "md_recovery")},
                           "processes": _processes(run_dir),
                           "market_data": market_data_health(Path(run_dir) / STATS_FILE if run_dir else None)})
        return {"ok": True, "name": dep.get("name"), "price_scale": dep.get("price_scale", 10_000),
                "instruments": dep.get("instruments", []), "venues": venues, "sip": dep["sip"],
                "nbbo": self.nbbo.snapshot()}


def create_index_app(index: DeploymentIndex, on_shutdown: Any = None) -> Starlette:
    import contextlib
    from typing import AsyncIterator

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "deployment.html", headers={"Content-Security-Policy": CSP,
                                                                 "Cache-Control": "no-store"})

    async def api(request: Request) -> Response:
        return JSONResponse(index.state(), headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if on_shutdown is not None:
                on_shutdown()

    return Starlette(routes=[Route("/", page), Route("/api/deployment", api),
                             Mount("/static", StaticFiles(directory=STATIC), name="static")], lifespan=lifespan)
