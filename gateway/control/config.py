"""The venue's ONE configuration file (TOML): venue and process placement, journal, instruments,
firms/accounts/sessions (the gateway's credentials come from here), per-account limits, the trading
schedule, circuit breakers, control endpoints, users and the audit log.

Loaded into msgspec structs with forbid_unknown_fields, then checked field by field; every error is
a ConfigError whose message reads "FILE: path.to[field]: problem", e.g.
"venue.toml: instruments[2].tick: must be > 0, got 0".

Schedule clock (decision): schedule times are on the WALL clock of the control-plane host when
``schedule.clock = "utc"`` (seconds after 00:00 UTC, or "HH:MM[:SS]") or relative to the control
plane's start when ``clock = "start"`` (seconds). The schedule only decides WHEN the service sends a
SET_PHASE command; the command itself is sequenced and journaled by the engine, so a replay of the
journal reproduces every phase change without consulting any clock. Circuit breakers, in contrast,
run on ENGINE time (the ts_ns of trade events), see breakers.py.
"""
from __future__ import annotations

import math
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

import msgspec

from gateway.orderentry import config as gw_config
from gateway.small_files import NotASmallFile, read_small_file
from gateway.control import protocol
from gateway.control.order_velocity import VelocityError, parse_order_velocity
from gateway.security import curve, roles
from gateway.security.credentials import CredentialError, parse_token_hash

INT64_MAX = 2**63 - 1
DEFAULT_CONFIG_NAME = "default_venue.toml"
DAY_S = 86_400                           # the longest breaker duration (a halt, a call): one day


class ConfigError(ValueError):
    """The venue configuration is missing, unreadable or invalid; the message names the field."""


class _S(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class Venue(_S, frozen=True):
    name: str                                  # engine name: shm segments are venue-NAME-*
    shm_dir: str = ""                          # "" = $VENUE_SHM_DIR or /dev/shm
    engine_cpu: int = -1                       # -1 = not pinned
    gateway_cpu: int = -1
    control_cpu: int = -1
    engine_wait: Literal["spin", "backoff"] = "backoff"
    max_orders: int = 1 << 20
    max_accounts: int = 1024
    producers: int = 4
    price_scale: int = 10_000                  # engine price units per currency unit (display only)
    dark_nbbo_max_age_ns: int = 0              # > 0: a dark midpoint venue (engine --dark): every
                                               # instrument trades only at the NBBO midpoint, an NBBO
                                               # older than this (engine time) stops trading


class Journal(_S, frozen=True):
    dir: str = ""                              # "" = no journal
    durability: Literal["async", "group", "each"] = "group"
    snapshot_every: int = 1_000_000
    segment_mb: int = 64                       # size of each journal segment file


class GatewayListen(_S, frozen=True):
    listen: str = "127.0.0.1:9000"             # HOST:PORT; port 0 = any free port
    admin_endpoint: str = "tcp://127.0.0.1:5720"   # session admin (gateway/gw_admin.py); "" = none


class Instrument(_S, frozen=True):
    id: int
    symbol: str
    tick: int
    lot: int
    reference_price: int
    price_collar_ticks: int = INT64_MAX        # |limit - reference| <= this many ticks
    max_order_qty: int = INT64_MAX
    max_order_notional: int = INT64_MAX


class Account(_S, frozen=True):
    id: int
    max_position: int = INT64_MAX              # engine-enforced, per instrument
    order_velocity: str = "none"               # engine-enforced, all instruments: "N/DURATION" of
                                               # new orders + replaces, e.g. "100/1s" (order_velocity.py)
    var_limit: float = 0.0                     # post-trade, in price units x qty; 0 = none
    var_confidence: float = 0.99
    drawdown_limit: float = 0.0                # 0 = none
    concentration_limit: float = 0.0           # largest share of gross exposure, 0..1; 0 = none
    loss_limit: float = 0.0                    # -equity (realized + unrealized); 0 = none
    notional_limit: float = 0.0                # gross exposure sum |pos x mark|; 0 = none
    var_interval_s: float = 60.0               # VaR period: equity changes per this much engine time
    warn_fraction: float = 0.8                 # alert "warn" at this fraction of a limit
    auto_kill: bool = False                    # engage the kill switch on a breach


class Schedule(_S, frozen=True):
    clock: Literal["start", "utc"] = "start"
    pre_open: int | str | None = 0             # CLOSED -> PRE_OPEN (order entry, no matching)
    open: int | str | None = 0                 # opening auction (uncross) -> CONTINUOUS
    closing_call: int | str | None = None      # CONTINUOUS -> HALTED -> PRE_OPEN (closing call)
    close: int | str | None = None             # closing auction (if any call) then CLOSED


class Breakers(_S, frozen=True):
    price_band_pct: float = 0.0                # 0 = off; move beyond band from reference -> halt
    halt_s: float = 300.0                      # band halt length, then an auction reopens
    reopen_call_s: float = 0.0                 # pre-open call before the reopening auction
    market_wide_levels_pct: list[float] = msgspec.field(default_factory=lambda: [7.0, 13.0, 20.0])
    # -1: halted for the rest of the day
    market_wide_halt_s: list[float] = msgspec.field(default_factory=lambda: [900.0, 900.0, -1.0])
    market_wide_enabled: bool = False


class Control(_S, frozen=True):
    command_endpoint: str = protocol.DEFAULT_COMMAND_ENDPOINT
    publish_endpoint: str = protocol.DEFAULT_PUBLISH_ENDPOINT
    audit_log: str = "venue-audit.jsonl"
    status_interval_ms: int = 1000
    # CurveZMQ on both endpoints (gateway/security/curve.py): the service's key pair (NAME.key_secret)
    # and the directory of the public keys (NAME.key) of the clients it admits. Both or neither.
    curve_secret_key: str = ""
    curve_clients: str = ""


class EtfBasketConfig(_S, frozen=True):
    """[[analytics.etf]]: an ETF listed on this venue and its creation basket (trading/analytics/
    etf_live.py): component symbol -> shares per `divisor` ETF shares, cash in currency units, and
    the round-trip cost in basis points beyond which the monitor's stat-arb signal fires."""
    symbol: str
    components: dict[str, float]
    cash: float = 0.0
    divisor: float = 1.0
    cost_bps: float = 0.0


class Analytics(_S, frozen=True):
    """The live order-flow monitor `up` runs beside the venue (trading/analytics/monitor.py): VPIN,
    order-flow imbalance, Kyle's lambda, regimes... per instrument, and the fair value of each
    configured ETF, published on the control plane's channel under the topics analytics (values
    every interval_s) and alert."""
    enabled: bool = True
    bucket_volume: float = 1000.0              # VPIN volume bucket, shares
    bar_seconds: float = 10.0                  # the bars the regime and liquidity estimators use
    interval_s: float = 1.0                    # seconds between value publications
    etf: list[EtfBasketConfig] = []

class Dashboard(_S, frozen=True):
    """The live web dashboard (gateway/dashboard/), started by ``up`` beside the other processes.
    listen: HOST:PORT of its HTTP/WebSocket server (port 0 = any free port; the embedded default
    config says 127.0.0.1:8700); "" = no dashboard. refresh_hz: the most updates a panel sends a
    browser per second (conflation, whatever the event rate). reports_dir: the directory of the
    daily/weekly TCA reports (``python -m trading report daily --out DIR``), served read-only and
    linked from the execution-quality panel; relative to where ``up`` runs; "" = no links."""
    listen: str = "127.0.0.1:0"
    refresh_hz: float = 4.0
    reports_dir: str = ""


class User(_S, frozen=True):
    """A control-plane user. The token itself is never in the config: token_hash is its salted slow
    hash (``python -m gateway keys hash-token``); the user keeps the token in a file or the
    environment. role and roles name rows of gateway/security/roles.py; firm_id binds a trader to
    its firm's accounts."""
    name: str
    role: str
    token_hash: str = ""
    roles: list[str] = []
    firm_id: int | None = None
    token: str = ""             # refused: plain tokens are not kept in configs (a clear error, not "unknown field")

    def all_roles(self) -> tuple[str, ...]:
        return (self.role, *[r for r in self.roles if r != self.role])


class VenueConfig(_S, frozen=True):
    venue: Venue
    instruments: list[Instrument]
    firms: list[gw_config.Firm]
    sessions: list[gw_config.Session]
    users: list[User]
    # Order entry's logon lockout and intrusion detectors (gateway/orderentry/config.py Security)
    security: gw_config.Security = gw_config.Security()
    accounts: list[Account] = []
    journal: Journal = Journal()
    gateway: GatewayListen = GatewayListen()
    schedule: Schedule = Schedule()
    breakers: Breakers = Breakers()
    control: Control = Control()
    analytics: Analytics = Analytics()
    dashboard: Dashboard = Dashboard()

    # Derived views (not fields).
    def gateway_config(self) -> gw_config.GatewayConfig:
        return gw_config.GatewayConfig(firms=list(self.firms), sessions=list(self.sessions),
                                       security=self.security)

    def instrument(self, key: int | str) -> Instrument | None:
        for ins in self.instruments:
            if ins.id == key or ins.symbol == key or (isinstance(key, str) and key.isdigit()
                                                       and ins.id == int(key)):
                return ins
        return None

    def account_ids(self) -> list[int]:
        return sorted({a for f in self.firms for a in f.accounts})

    def account(self, account_id: int) -> Account:
        for a in self.accounts:
            if a.id == account_id:
                return a
        return Account(id=account_id)


_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.S)


def msgspec_message(exc: msgspec.ValidationError) -> tuple[str, str]:
    """'Expected `int`, got `str` - at `$.instruments[2].tick`' -> ('instruments[2].tick', ...)."""
    m = _AT.match(str(exc))
    assert m is not None
    problem, path = m.group(1).replace("`", ""), (m.group(2) or "").lstrip(".")
    for prefix, what in (("Object missing required field ", "required field is missing"),
                         ("Object contains unknown field ", "unknown field")):
        if problem.startswith(prefix):
            field = problem[len(prefix):]
            return (f"{path}.{field}" if path else field), what
    return path, problem


_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def schedule_seconds(value: int | str | None, field: str) -> int | None:
    """A schedule time -> seconds (after start or after 00:00 UTC). Raises ConfigError(field...)."""
    if value is None:
        return None
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{field}: must be >= 0 seconds, got {value}")
        return value
    m = _HHMM.match(value)
    if not m:
        raise ConfigError(f"{field}: must be seconds or \"HH:MM[:SS]\", got {value!r}")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ConfigError(f"{field}: not a time of day: {value!r}")
    return h * 3600 + mi * 60 + s


def _endpoint_ok(ep: str) -> bool:
    return bool(re.match(r"^(tcp://[^:]+:(\d+|\*)|ipc://.+|inproc://.+)$", ep))


def _check_etf_baskets(cfg: VenueConfig) -> None:
    """[[analytics.etf]]: every symbol listed on the venue, the ETF not its own component, shares
    and divisor > 0, a cost in [0, 10000) bps."""
    for n, b in enumerate(cfg.analytics.etf):
        at = f"analytics.etf[{n}]"
        for sym in (b.symbol, *b.components):
            if cfg.instrument(sym) is None:
                raise ConfigError(f"{at}: {sym!r} is not in [[instruments]]")
        if not b.components or b.symbol in b.components:
            raise ConfigError(f"{at}.components: need at least one component other than the ETF itself")
        for sym, shares in b.components.items():
            if not (math.isfinite(shares) and shares > 0):
                raise ConfigError(f"{at}.components.{sym}: shares must be a finite number > 0, got {shares}")
        if not (math.isfinite(b.cash) and math.isfinite(b.divisor) and b.divisor > 0):
            raise ConfigError(f"{at}: cash must be finite and divisor a finite number > 0")
        if not 0 <= b.cost_bps < 10_000:
            raise ConfigError(f"{at}.cost_bps: must be in [0, 10000), got {b.cost_bps}")


def listen_ok(text: str) -> bool:
    """HOST:PORT with a port 0..65535 (0: any free port)."""
    m = re.match(r"^([^:\s]+):(\d{1,5})$", text)
    return m is not None and int(m.group(2)) <= 65535


ENGINE_CAPACITY_MAX = (1 << 32) - 1      # the engine's max_orders / max_accounts are uint32_t
PRICE_SCALE_MAX = 10**9                  # prices are int64 price units: at 10^9 units per currency
                                         # unit a price still reaches 9.2e9; 10^30 fit no price at all


def _check(cfg: VenueConfig) -> None:
    """Value checks msgspec's types cannot express. Raises ConfigError('path: problem')."""
    v = cfg.venue
    if not re.match(r"^[A-Za-z0-9_.-]{1,40}$", v.name):
        raise ConfigError(f"venue.name: must be 1..40 of [A-Za-z0-9_.-], got {v.name!r}")
    for f in ("engine_cpu", "gateway_cpu", "control_cpu"):
        if getattr(v, f) < -1:
            raise ConfigError(f"venue.{f}: must be -1 (not pinned) or a CPU number, got {getattr(v, f)}")
    for f in ("max_orders", "max_accounts"):         # eng_config_t's uint32_t fields
        if not 1 <= getattr(v, f) <= ENGINE_CAPACITY_MAX:
            raise ConfigError(f"venue.{f}: must be 1..{ENGINE_CAPACITY_MAX}, got {getattr(v, f)}")
    if not 1 <= v.price_scale <= PRICE_SCALE_MAX:
        raise ConfigError(f"venue.price_scale: must be 1..{PRICE_SCALE_MAX:_} (price units per currency unit), "
                          f"got {v.price_scale}")
    if v.dark_nbbo_max_age_ns < 0:
        raise ConfigError(f"venue.dark_nbbo_max_age_ns: must be >= 0 (0: a lit venue), got {v.dark_nbbo_max_age_ns}")
    if v.dark_nbbo_max_age_ns and [i.symbol for i in cfg.instruments if i.tick % 2]:
        odd = [i.symbol for i in cfg.instruments if i.tick % 2]
        raise ConfigError(f"venue.dark_nbbo_max_age_ns: a dark venue needs even ticks (whole-unit "
                          f"midpoints); odd: {', '.join(odd)}")
    if not 2 <= v.producers <= 16:
        raise ConfigError(f"venue.producers: must be 2..16 (gateway + control plane), got {v.producers}")
    for f in ("bucket_volume", "bar_seconds", "interval_s"):
        value = getattr(cfg.analytics, f)
        if not (value > 0 and value != float("inf")):
            raise ConfigError(f"analytics.{f}: must be a finite number > 0, got {value}")
    _check_etf_baskets(cfg)
    if not 1 <= cfg.journal.segment_mb <= 4096:
        raise ConfigError(f"journal.segment_mb: must be 1..4096, got {cfg.journal.segment_mb}")
    if cfg.journal.snapshot_every < 0:
        raise ConfigError(f"journal.snapshot_every: must be >= 0, got {cfg.journal.snapshot_every}")
    host, sep, port = cfg.gateway.listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"gateway.listen: must be HOST:PORT, got {cfg.gateway.listen!r}")

    if not cfg.instruments:
        raise ConfigError("instruments: at least one instrument is needed")
    ids: set[int] = set()
    symbols: set[str] = set()
    for i, ins in enumerate(cfg.instruments):
        at = f"instruments[{i}]"
        if not 1 <= ins.id <= 65535:
            raise ConfigError(f"{at}.id: must be 1..65535, got {ins.id}")
        if ins.id in ids:
            raise ConfigError(f"{at}.id: instrument {ins.id} is defined twice")
        ids.add(ins.id)
        if not re.match(r"^[A-Za-z][A-Za-z0-9_.-]{0,15}$", ins.symbol) or ins.symbol.lower() == "all":
            raise ConfigError(f"{at}.symbol: must be 1..16 of [A-Za-z0-9_.-] starting with a letter "
                              f"(and not 'all'), got {ins.symbol!r}")
        if ins.symbol in symbols:
            raise ConfigError(f"{at}.symbol: symbol {ins.symbol!r} is used twice")
        symbols.add(ins.symbol)
        for f in ("tick", "lot", "reference_price"):
            if getattr(ins, f) <= 0:
                raise ConfigError(f"{at}.{f}: must be > 0, got {getattr(ins, f)}")
        if ins.reference_price % ins.tick:
            raise ConfigError(f"{at}.reference_price: {ins.reference_price} is not a multiple of "
                              f"tick {ins.tick}")
        for f in protocol.INSTRUMENT_LIMITS:
            # 0 would refuse every order (a collar of 0 ticks only the reference price): a
            # limit that silently stops trading is a mistake, not a setting.
            if not 1 <= getattr(ins, f) <= INT64_MAX:
                raise ConfigError(f"{at}.{f}: must be 1..{INT64_MAX} (leave it out for no "
                                  f"limit), got {getattr(ins, f)}")
    try:
        gw_config.check(cfg.gateway_config(), "")
    except gw_config.ConfigError as exc:
        raise ConfigError(str(exc).removeprefix(": ")) from None
    for firm in cfg.firms:
        for acct_id in firm.accounts:
            if acct_id >= v.max_accounts:
                i = cfg.firms.index(firm)
                raise ConfigError(f"firms[{i}].accounts: account {acct_id} >= venue.max_accounts "
                                  f"({v.max_accounts})")
    known = set(cfg.account_ids())
    seen: set[int] = set()
    for i, a in enumerate(cfg.accounts):
        at = f"accounts[{i}]"
        if a.id not in known:
            raise ConfigError(f"{at}.id: account {a.id} belongs to no firm in firms")
        if a.id in seen:
            raise ConfigError(f"{at}.id: account {a.id} is configured twice")
        seen.add(a.id)
        if not 1 <= a.max_position <= INT64_MAX:
            raise ConfigError(f"{at}.max_position: must be 1..{INT64_MAX} (leave it out for no "
                              f"limit; 0 would reject every order: to stop an account trading "
                              f"use its kill switch), got {a.max_position}")
        try:
            parse_order_velocity(a.order_velocity)
        except VelocityError as exc:
            raise ConfigError(f"{at}.order_velocity: {exc}") from None
        for f in ("var_limit", "drawdown_limit", "concentration_limit", "loss_limit", "notional_limit"):
            # the engine holds each in millionths in an int64; NaN passed a '< 0' check, and 1e308
            # was an OverflowError traceback in the control plane at start (after the engine started)
            if not 0 <= getattr(a, f) <= protocol.POST_TRADE_LIMIT_MAX:
                raise ConfigError(f"{at}.{f}: must be 0..{protocol.POST_TRADE_LIMIT_MAX} (0 = no limit), "
                                  f"got {getattr(a, f)}")
        if a.concentration_limit > 1:
            raise ConfigError(f"{at}.concentration_limit: a share of gross exposure, must be 0..1, "
                              f"got {a.concentration_limit}")
        if not 0.5 < a.var_confidence < 1:
            raise ConfigError(f"{at}.var_confidence: must be in (0.5, 1), got {a.var_confidence}")
        if not 0 < a.var_interval_s < math.inf:
            raise ConfigError(f"{at}.var_interval_s: must be a finite number > 0, got {a.var_interval_s}")
        if not 0 < a.warn_fraction <= 1:
            raise ConfigError(f"{at}.warn_fraction: must be in (0, 1], got {a.warn_fraction}")

    sched = cfg.schedule
    times = {f: schedule_seconds(getattr(sched, f), f"schedule.{f}")
             for f in ("pre_open", "open", "closing_call", "close")}
    order = [(f, t) for f, t in times.items() if t is not None]
    for (f1, t1), (f2, t2) in zip(order, order[1:]):
        if t2 < t1:
            raise ConfigError(f"schedule.{f2}: must not be before schedule.{f1} ({t2} < {t1})")
    if times["open"] is not None and times["pre_open"] is None:
        raise ConfigError("schedule.open: needs schedule.pre_open (the auction uncrosses a pre-open book)")
    if times["closing_call"] is not None and times["close"] is None:
        raise ConfigError("schedule.closing_call: needs schedule.close (when the closing auction runs)")

    b = cfg.breakers
    if not 0 <= b.price_band_pct < 100:
        raise ConfigError(f"breakers.price_band_pct: must be 0 (off) .. < 100, got {b.price_band_pct}")
    # durations within a day: NaN passed `<= 0` and 1e308 s became an OverflowError traceback in the
    # control plane at start (int(halt_s * 1e9)), after the engine had started
    if not 0 < b.halt_s <= DAY_S:
        raise ConfigError(f"breakers.halt_s: must be > 0 and at most {DAY_S} seconds, got {b.halt_s}")
    if not 0 <= b.reopen_call_s <= DAY_S:
        raise ConfigError(f"breakers.reopen_call_s: must be 0..{DAY_S} seconds, got {b.reopen_call_s}")
    if len(b.market_wide_levels_pct) != len(b.market_wide_halt_s):
        raise ConfigError("breakers.market_wide_halt_s: needs one duration per market_wide_levels_pct "
                          f"entry ({len(b.market_wide_levels_pct)}), got {len(b.market_wide_halt_s)}")
    prev = 0.0
    for i, lvl in enumerate(b.market_wide_levels_pct):
        if not prev < lvl < 100:
            raise ConfigError(f"breakers.market_wide_levels_pct[{i}]: levels must increase within "
                              f"(0, 100), got {lvl}")
        prev = lvl
    for i, d in enumerate(b.market_wide_halt_s):
        if not (0 < d <= DAY_S or d == -1):
            raise ConfigError(f"breakers.market_wide_halt_s[{i}]: must be > 0 and at most {DAY_S} seconds, "
                              f"or -1 (rest of day), got {d}")

    if cfg.gateway.admin_endpoint and not _endpoint_ok(cfg.gateway.admin_endpoint):
        raise ConfigError(f"gateway.admin_endpoint: must be tcp://HOST:PORT, ipc://PATH or \"\", "
                          f"got {cfg.gateway.admin_endpoint!r}")
    c = cfg.control
    for f in ("command_endpoint", "publish_endpoint"):
        if not _endpoint_ok(getattr(c, f)):
            raise ConfigError(f"control.{f}: must be tcp://HOST:PORT or ipc://PATH, got {getattr(c, f)!r}")
    if c.command_endpoint == c.publish_endpoint and not c.command_endpoint.endswith(":*"):
        raise ConfigError("control.publish_endpoint: must differ from control.command_endpoint")
    if not c.audit_log:
        raise ConfigError("control.audit_log: a path is needed (every operator action is audited)")
    if c.status_interval_ms < 10:
        raise ConfigError(f"control.status_interval_ms: must be >= 10, got {c.status_interval_ms}")

    if bool(c.curve_secret_key) != bool(c.curve_clients):
        raise ConfigError("control.curve_secret_key and control.curve_clients: give both (CurveZMQ) or neither")
    if c.curve_secret_key:
        try:
            curve.load(c.curve_secret_key, need_secret=True)
            curve.admitted_keys(c.curve_clients)
        except curve.CurveError as exc:
            raise ConfigError(f"control.curve: {exc}") from None
    dash = cfg.dashboard
    if dash.listen and not listen_ok(dash.listen):
        raise ConfigError(f"dashboard.listen: must be HOST:PORT (port 0 = any free one) or \"\" (no "
                          f"dashboard), got {dash.listen!r}")
    if not 0.1 <= dash.refresh_hz <= 30:
        raise ConfigError(f"dashboard.refresh_hz: must be 0.1..30 updates per second, got {dash.refresh_hz}")
    if "\0" in dash.reports_dir or len(dash.reports_dir) > 4096:
        raise ConfigError(f"dashboard.reports_dir: a directory path (at most 4096 characters, no NUL), "
                          f"got {dash.reports_dir[:80]!r}")
    if not cfg.users:
        raise ConfigError("users: at least one user is needed")
    names: set[str] = set()
    for i, u in enumerate(cfg.users):
        if not re.match(r"^[A-Za-z0-9_.@-]{1,64}$", u.name):
            raise ConfigError(f"users[{i}].name: must be 1..64 of [A-Za-z0-9_.@-], got {u.name!r}")
        if u.name in names:
            raise ConfigError(f"users[{i}].name: user {u.name!r} is defined twice")
        names.add(u.name)
        if u.token:
            raise ConfigError(f"users[{i}].token: plain tokens are not kept in the config; put its "
                              f"token_hash instead (python -m gateway keys hash-token)")
        try:
            parse_token_hash(u.token_hash)
        except CredentialError as exc:
            raise ConfigError(f"users[{i}].token_hash: {exc}") from None
        for r in u.all_roles():
            if r not in roles.ROLES:
                raise ConfigError(f"users[{i}].roles: unknown role {r!r}; roles: {', '.join(roles.ROLES)}")
        if roles.TRADER in u.all_roles():
            if u.firm_id is None or u.firm_id not in {f.firm_id for f in cfg.firms}:
                raise ConfigError(f"users[{i}].firm_id: a trader needs the firm_id of a configured firm")


def parse_config(data: object, where: str = "venue config") -> VenueConfig:
    """Validates already-parsed TOML data. Raises ConfigError naming the file and the field."""
    try:
        cfg = msgspec.convert(data, VenueConfig)
    except msgspec.ValidationError as exc:
        path, problem = msgspec_message(exc)
        raise ConfigError(f"{where}: {path + ': ' if path else ''}{problem}") from None
    try:
        _check(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return cfg


def parse_text(text: str, where: str = "venue config") -> VenueConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    return parse_config(data, where)


def load_config(path: str | Path | None = None) -> VenueConfig:
    """Reads the venue file, or the embedded default (gateway/control/default_venue.toml) when
    path is None. Raises ConfigError."""
    if path is None:
        text = resources.files("gateway.control").joinpath(DEFAULT_CONFIG_NAME).read_text()
        return parse_text(text, DEFAULT_CONFIG_NAME)
    p = Path(path)
    try:
        raw = read_small_file(p)
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except NotASmallFile as exc:        # /dev/zero read until memory ran out; a FIFO hung
        raise ConfigError(f"{p}: {exc}") from None
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text: {exc}") from None
    return parse_text(text, p.name)
