"""``python -m gateway control``: the control-plane service alone, in front of a running engine.

It attaches to the engine named in the venue config, sends the configured limits as sequenced
commands, applies the schedule and the breakers, and serves the API until SIGTERM/SIGINT or until
the engine stops. Exit status: 0 after a clean stop, 2 for bad arguments or a bad config file,
1 when the engine cannot be reached, the endpoints cannot be bound, or the engine went away.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from gateway.control import protocol
from gateway.control.api import ApiServer
from gateway.control.audit import AuditLog
from gateway.control.config import ConfigError, VenueConfig, load_config
from gateway.control.config_watch import ConfigFileWatcher
from gateway.control.ingest import SECURITY_TOPIC, PublishIngest
from gateway.control.intrusion import IntrusionRelay, answer_dashboard_report
from gateway.control.service import CommandError, ControlService
from gateway.security.lockout import LogonLockout
from gateway.security.lockout import from_policy as lockout_from_policy
from shm import errors as shm_errors


class LazyGatewayAdmin:
    """The gateway's admin client, created once its endpoint is known: given directly, or read
    from the file the gateway writes once it answers (for a tcp://HOST:* endpoint)."""

    def __init__(self, endpoint: str | None, endpoint_file: str | None, token_file: str | None = None,
                 curve_server_key: str | None = None, curve_client_secret: str | None = None) -> None:
        self.endpoint = endpoint
        self.endpoint_file = endpoint_file
        self.token_file = token_file
        self.curve_server_key = curve_server_key
        self.curve_client_secret = curve_client_secret
        self._client: Any = None

    def _get(self) -> Any:
        from gateway.orderentry.admin import GatewayAdmin, GatewayAdminError
        if self._client is None:
            ep = self.endpoint
            if self.endpoint_file:
                try:
                    ep = Path(self.endpoint_file).read_text().strip()
                except OSError:
                    raise GatewayAdminError("unavailable", f"the gateway has not written "
                                            f"{self.endpoint_file} yet") from None
            if not ep:
                raise GatewayAdminError("unavailable", "no gateway admin endpoint")
            self._client = GatewayAdmin(ep, timeout_s=1.0, token_file=self.token_file,
                                        curve_server_key=self.curve_server_key,
                                        curve_client_secret=self.curve_client_secret)
        return self._client

    def sessions(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._get().sessions()
        return rows

    def disconnect(self, session_id: int, reason: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._get().disconnect(session_id, reason)
        return answer

    def security_events(self, cursor: int) -> dict[str, Any]:
        answer: dict[str, Any] = self._get().security_events(cursor)
        return answer


def logon_lockout(cfg: VenueConfig) -> LogonLockout | None:
    """The control API's failed-logon lockout from [security.logon] (None when both limits are 0);
    per user here where the gateway counts per session."""
    return lockout_from_policy(cfg.security.logon)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway control",
                                description="Run the control-plane service in front of a running engine.")
    p.add_argument("--config", default=None, help="venue config (TOML); default: the embedded "
                                                  "gateway/control/default_venue.toml")
    p.add_argument("--command-endpoint", default=None, help="override control.command_endpoint")
    p.add_argument("--publish-endpoint", default=None, help="override control.publish_endpoint")
    p.add_argument("--ingest-endpoint", default=None,
                   help="bind the publish ingest here (ipc:// in the venue's private run directory; "
                        "gateway/control/ingest.py): readers such as the analytics monitor publish "
                        "through it on the control plane's channel")
    p.add_argument("--audit-log", default=None, help="override control.audit_log")
    p.add_argument("--gateway-admin", default=None, help="override gateway.admin_endpoint")
    p.add_argument("--gateway-admin-file", default=None,
                   help="read the gateway admin endpoint from this file (written by the gateway's --admin-file)")
    p.add_argument("--gateway-admin-token-file", default=None,
                   help="the gateway's admin token (written by the gateway's --admin-token-file)")
    p.add_argument("--gateway-admin-curve-server", default=None, metavar="FILE",
                   help="the gateway admin endpoint's CurveZMQ public key (NAME.key); with "
                        "--gateway-admin-curve-client")
    p.add_argument("--gateway-admin-curve-client", default=None, metavar="FILE",
                   help="this control plane's CurveZMQ key pair (NAME.key_secret) for the gateway's "
                        "admin endpoint")
    p.add_argument("--endpoints-file", default=None,
                   help="write {command, publish} endpoints actually bound here (JSON) once serving")
    p.add_argument("--attach-timeout-s", type=float, default=30.0)
    return p


class UserRotation:
    """Credentials rotate without a restart: when the venue config's modification time changes, its
    [[users]] are loaded again and installed (the old tokens stop working at once); a config that
    no longer loads leaves the users as they were. Either way the outcome is audited."""

    def __init__(self, path: str, server: ApiServer) -> None:
        self.server = server
        self.watcher = ConfigFileWatcher(path, self._install, self._refused)

    def poll(self, now: float) -> None:
        self.watcher.poll(now)

    def _refused(self, exc: ConfigError) -> None:
        self.server._audit_safely("system", "system", "users.reload", {}, False, protocol.CODE_BAD_REQUEST,
                                  f"the changed config does not load; users unchanged: {exc}", "")

    def _install(self, cfg: VenueConfig) -> None:
        users = cfg.users
        self.server.set_users(users)
        if self.server.zap is not None:
            try:
                self.server.zap.reload()        # admitted CurveZMQ client keys rotate with the users
            except ValueError as exc:
                self.server._audit_safely("system", "system", "curve.reload", {}, False, protocol.CODE_BAD_REQUEST,
                                          f"client keys unchanged: {exc}", "")
        self.server._audit_safely("system", "system", "users.reload", {"users": len(users)}, True, protocol.CODE_OK,
                                  f"credentials rotated: {', '.join(u.name for u in users)}", "")


def serve(service: ControlService, server: ApiServer, status_interval_s: float, stop: list[bool],
          config_path: str | None = None, ingest: PublishIngest | None = None) -> int:
    """The main loop: events, requests, the publish ingest, timers, periodic status. Returns the
    exit status."""
    next_status = 0.0
    last_events = 0
    last_t = time.monotonic()
    users = UserRotation(config_path, server) if config_path else None
    intrusions = IntrusionRelay(service)
    while not stop[0]:
        n = service.pump_events()
        if ingest is not None:
            n += ingest.drain()
        server.serve(0 if n else 2)
        service.tick()
        now = time.monotonic()
        if users is not None:
            users.poll(now)
        intrusions.poll(now)
        if now >= next_status:
            next_status = now + status_interval_s
            try:
                status = service.cmd_status(user="", role="")
            except CommandError:
                status = None
            if status is None or not status.engine.alive:
                print(f"control: engine {service.cfg.venue.name!r} is gone; stopping", file=sys.stderr, flush=True)
                return 1
            server.publish(protocol.TOPIC_STATUS, {"kind": "status", **msgspec.structs.asdict(status)})
            dt = max(now - last_t, 1e-9)
            server.publish(protocol.TOPIC_METRICS, {
                "events_per_s": (service.state.events - last_events) / dt, "events": service.state.events,
                "engine_commands": service.engine_commands, "requests": server.requests,
                "refused": server.refused, "orders_live": len(service.state.orders),
                "engine_seq": status.engine.seq,
                "ingest_forwarded": ingest.forwarded if ingest else 0,
                "ingest_refused": sum(ingest.refused.values()) if ingest else 0})
            last_events, last_t = service.state.events, now
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=os.environ.get("VENUE_LOG", "WARNING"))
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"control: {exc}", file=sys.stderr)
        return 2
    if args.attach_timeout_s <= 0:
        print("control: --attach-timeout-s must be > 0", file=sys.stderr)
        return 2
    if (args.gateway_admin_curve_server is None) != (args.gateway_admin_curve_client is None):
        print("control: --gateway-admin-curve-server and --gateway-admin-curve-client: give both or neither",
              file=sys.stderr)
        return 2
    if cfg.venue.control_cpu >= 0:
        try:
            os.sched_setaffinity(0, {cfg.venue.control_cpu})
        except OSError as exc:
            print(f"control: venue.control_cpu {cfg.venue.control_cpu}: {exc.strerror}", file=sys.stderr)
            return 2
    audit_path = args.audit_log or cfg.control.audit_log
    try:
        audit = AuditLog(audit_path)
    except OSError as exc:
        print(f"control: cannot open audit log {audit_path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        server = ApiServer(cfg.users, audit, args.command_endpoint or cfg.control.command_endpoint,
                           args.publish_endpoint or cfg.control.publish_endpoint,
                           firm_accounts={f.firm_id: frozenset(f.accounts) for f in cfg.firms},
                           curve_secret_key=cfg.control.curve_secret_key, curve_clients=cfg.control.curve_clients,
                           lockout=logon_lockout(cfg))
    except OSError as exc:
        print(f"control: {exc}", file=sys.stderr)
        return 1
    try:
        ingest = PublishIngest(args.ingest_endpoint, server.publish) if args.ingest_endpoint else None
    except OSError as exc:
        print(f"control: {exc}", file=sys.stderr)
        server.close()
        return 1
    admin_ep = args.gateway_admin if args.gateway_admin is not None else cfg.gateway.admin_endpoint
    admin = (LazyGatewayAdmin(admin_ep, args.gateway_admin_file, args.gateway_admin_token_file,
                              args.gateway_admin_curve_server, args.gateway_admin_curve_client)
             if (admin_ep and not admin_ep.endswith(":*")) or args.gateway_admin_file else None)
    service = ControlService(cfg, publish=server.publish, audit=server.audit, gateway_admin=admin)
    if ingest is not None:
        lockout_s = cfg.security.logon.lockout_ms / 1e3
        ingest.handle(SECURITY_TOPIC, lambda body: answer_dashboard_report(service, body, lockout_s))
    stop = [False]

    def on_signal(signum: int, frame: Any) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        service.attach(args.attach_timeout_s, lambda: stop[0])
    except CommandError as exc:
        print(f"control: {exc.message}", file=sys.stderr)
        if ingest is not None:
            ingest.close()
        server.close()
        return 1
    server.service = service
    service.tick()   # the schedule's first steps (e.g. pre-open/open at 0) happen before "ready"
    if args.endpoints_file:
        tmp = f"{args.endpoints_file}.tmp"
        with open(tmp, "w") as fh:
            json.dump({"command": server.command_endpoint, "publish": server.publish_endpoint,
                       "ingest": ingest.endpoint if ingest else None,
                       "audit_log": str(Path(audit_path).resolve())}, fh)
        os.replace(tmp, args.endpoints_file)
    print(f"control: {cfg.venue.name}: commands on {server.command_endpoint}, publish on "
          f"{server.publish_endpoint}, audit log {audit_path}", file=sys.stderr, flush=True)
    try:
        rc = serve(service, server, cfg.control.status_interval_ms / 1000, stop, args.config, ingest)
    except shm_errors.ShmError as exc:
        print(f"control: engine: {exc}", file=sys.stderr)
        rc = 1
    finally:
        service.close()
        if ingest is not None:
            ingest.close()
        server.close()
        audit.close()
    print(f"control: stopped: {server.requests} requests ({server.refused} refused), "
          f"{service.engine_commands} engine commands, {service.state.events} events", file=sys.stderr, flush=True)
    return rc
