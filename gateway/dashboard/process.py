"""``python -m gateway dashboard``: the live web dashboard of a running venue (``up`` starts it).

    python -m gateway dashboard [--config FILE] [--listen HOST:PORT] [--control-endpoints-file F]
                                [--processes-file F] [--port-file F] [--refresh-hz N]
                                [--session-key-file F] [--reports-dir DIR]
    python -m gateway dashboard --deployment FILE [--listen HOST:PORT] [--port-file F]

Serves the page, its assets (installed with the package: nothing is fetched at run time) and the
WebSocket on HOST:PORT (port 0: any free one; the port chosen is written to --port-file once the
socket listens). It reads the venue (feeds.py) in a thread of its own; it never writes to the
engine's memory, and a change a logged-in operator asks for goes to the control plane. Exit
status: 0 after SIGTERM/SIGINT, 2 for bad arguments or config, 1 when the address cannot be bound.

--session-key-file (``up`` passes one in its private run directory): the key that seals the login
cookies (session_cookie.py), created on first use; a dashboard restarted with the same file keeps
its browsers logged in. Without it the key is in memory and logins end with the process.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

from gateway.cli_paths import output_file
from gateway.control.config import ConfigError, listen_ok, load_config


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway dashboard",
                                description="Serve the venue's live web dashboard.")
    p.add_argument("--config", default=None, help="venue config (TOML); default: the embedded one")
    p.add_argument("--listen", default=None, type=_listen, metavar="HOST:PORT",
                   help="where to serve (port 0: any free port); default: the config's [dashboard] listen")
    p.add_argument("--control-endpoints-file", default=None,
                   help="the control plane's endpoints file (up's run dir control.json); default: "
                        "the config's [control] endpoints")
    p.add_argument("--processes-file", default=None, help="pids of the venue's processes (written by up)")
    p.add_argument("--port-file", type=_port_file, default=None, help="write the port served once listening")
    p.add_argument("--refresh-hz", type=float, default=None,
                   help="most updates per second per panel (default: the config's [dashboard] refresh_hz)")
    p.add_argument("--session-key-file", default=None, metavar="FILE",
                   help="key sealing the login cookies (created 0600 if missing); logins survive a "
                        "restart with the same file (default: a key in memory)")
    p.add_argument("--deployment", default=None, metavar="FILE",
                   help="serve the index page of a multi-venue deployment instead (the deployment.json "
                        "that up --config MULTI.toml writes; see gateway/dashboard/deployment.py)")
    p.add_argument("--reports-dir", default=None, metavar="DIR",
                   help="the TCA reports to link and serve read-only (default: the config's "
                        "[dashboard] reports_dir)")
    return p


def _listen(text: str) -> str:
    if not listen_ok(text):
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (port 0..65535), got {text!r}")
    return text


def _bind(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def _session_key(key_file: str | None) -> tuple[bytes, Any]:
    """The cookie key (from the file, created if missing; else random, in memory) and the
    revocation list kept beside it. Raises KeyFileError for an unusable file."""
    from gateway.dashboard.session_cookie import Revoked, load_or_create_key
    if not key_file:
        return secrets.token_bytes(32), Revoked(None)
    path = Path(key_file)
    return load_or_create_key(path), Revoked(path.with_name(path.name + ".revoked"))


def _port_file(text: str) -> str:
    return str(output_file(text))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=os.environ.get("VENUE_LOG", "WARNING"))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.reports_dir and os.path.exists(args.reports_dir) and not os.path.isdir(args.reports_dir):
        # (a folder that does not exist yet is fine: the reports panel says so until TCA writes one)
        parser.error(f"--reports-dir {args.reports_dir!r} exists and is not a directory")
    if args.deployment:
        return main_deployment(args)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 2
    refresh_hz = args.refresh_hz if args.refresh_hz is not None else cfg.dashboard.refresh_hz
    if not 0.1 <= refresh_hz <= 30:
        print(f"dashboard: --refresh-hz must be 0.1..30, got {refresh_hz}", file=sys.stderr)
        return 2
    listen = args.listen or cfg.dashboard.listen or "127.0.0.1:0"
    try:
        import uvicorn  # noqa: F401  (installed? the server itself starts in _serve)
        from gateway.dashboard.app import create_app
        from gateway.dashboard.auth import Sessions
        from gateway.dashboard.conflate import Conflator
        from gateway.dashboard.feeds import Feeds
        from gateway.dashboard.reports import ReportsDir
        from gateway.dashboard.security_report import SecurityReporter
    except ImportError as exc:
        print(f"dashboard: not installed: {exc} (pip install -e . installs starlette and uvicorn)",
              file=sys.stderr)
        return 1
    from gateway.dashboard.session_cookie import CookieSealer, KeyFileError
    try:                    # a bad argument (exit 2) before a busy port (exit 1): it is said first
        key, revoked = _session_key(args.session_key_file)
    except KeyFileError as exc:
        print(f"dashboard: --session-key-file: {exc}", file=sys.stderr)
        return 2
    try:
        sock = _bind(listen)
    except OSError as exc:
        print(f"dashboard: cannot listen on {listen}: {exc.strerror}", file=sys.stderr)
        return 1
    hub = Conflator(refresh_hz)
    reports = ReportsDir(args.reports_dir if args.reports_dir is not None else cfg.dashboard.reports_dir)

    def command_endpoint() -> str | None:
        if args.control_endpoints_file:
            try:
                return str(json.loads(Path(args.control_endpoints_file).read_text())["command"])
            except (OSError, ValueError, KeyError):
                return None
        return cfg.control.command_endpoint

    reporter = SecurityReporter(args.control_endpoints_file)
    guard = _login_guard(cfg, args.config, reporter)
    sessions = Sessions(command_endpoint, CookieSealer(key), revoked, guard.check)
    holder: dict[str, int] = {}
    feeds = Feeds(cfg, hub, args.control_endpoints_file, args.processes_file, sessions.reader,
                  lambda: holder["app"].state.hub.count() if "app" in holder else 0,  # type: ignore[attr-defined]
                  reports)
    app = create_app(hub, sessions, refresh_hz, cfg.venue.name, reports,
                     on_shutdown=lambda: (feeds.close(), sessions.close(), reporter.close()))
    holder["app"] = app  # type: ignore[assignment]
    feeds.start()
    _serve(app, sock, args.port_file, f"{cfg.venue.name}: {{url}} (refresh {refresh_hz:g}/s per panel)")
    feeds.close()
    return 0


def _login_guard(cfg: Any, config_path: str | None, reporter: Any) -> Any:
    """The failed-login lockout of the venue's [security.logon] (login_guard.py); its users follow
    edits of the config file (a rotated token works without a restart)."""
    from gateway.control.config_watch import ConfigFileWatcher
    from gateway.dashboard.login_guard import LoginGuard
    from gateway.security.lockout import from_policy
    watcher = (ConfigFileWatcher(config_path, lambda new: guard.set_users(new.users),
                                 lambda exc: logging.getLogger("dashboard").warning(
                                     "config not reloaded (users unchanged): %s", exc))
               if config_path else None)
    guard = LoginGuard(cfg.users, from_policy(cfg.security.logon), reporter.report,
                       watcher.poll if watcher is not None else None)
    return guard


def _serve(app: Any, sock: socket.socket, port_file: str | None, banner: str) -> None:
    """Writes the port served to port_file (atomically), says where, serves until SIGTERM/SIGINT."""
    import uvicorn
    host, port = sock.getsockname()[:2]
    if port_file:
        tmp = f"{port_file}.tmp"
        Path(tmp).write_text(str(port))
        os.replace(tmp, port_file)
    print("dashboard: " + banner.format(url=f"http://{host}:{port}/"), file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, ws="websockets-sansio",
                                           lifespan="on", ws_max_size=1 << 16))
    server.run(sockets=[sock])
    print("dashboard: stopped", file=sys.stderr, flush=True)


def main_deployment(args: argparse.Namespace) -> int:
    """--deployment: the index page of a multi-venue deployment (deployment.py)."""
    from gateway.dashboard.deployment import DeploymentError, DeploymentIndex, NbboFeed, create_index_app, load_deployment
    path = Path(args.deployment)
    try:
        dep = load_deployment(path)
    except DeploymentError as exc:
        print(f"dashboard: --deployment: {exc}", file=sys.stderr)
        return 2
    try:
        sock = _bind(args.listen or "127.0.0.1:0")
    except OSError as exc:
        print(f"dashboard: cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr)
        return 1
    nbbo = NbboFeed(dep["sip"])
    nbbo.start()
    app = create_index_app(DeploymentIndex(path, nbbo), on_shutdown=nbbo.close)
    _serve(app, sock, args.port_file, f"deployment {dep.get('name', '')}: {{url}} ({len(dep['venues'])} venues)")
    return 0
