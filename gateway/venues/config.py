"""Several venues in one deployment, from one configuration file.

A multi-venue file is a single-venue file (gateway/control/default_venue.toml: [venue], [journal],
[[instruments]], firms, sessions, users, accounts, schedule, breakers, control) plus:

  [[venues]]   one per venue: id, type (lit / dark), instruments (symbols of [[instruments]]), fee
               schedule, latency profile (avg and P99), market share, reliability, CPU placement and
               port_base (the venue's ports: see VenuePorts)
  [sip]        the consolidator (gateway/sip/): where it publishes the NBBO, its CPU
  [regnms]     which Regulation NMS rule version applies (as_of; default today), the Rule 611
               policy (reject or route_away), the tick-constrained symbols (Rule 612 half-penny)

The single-venue sections are the template: each venue runs as the single-venue venue
``derive_venue_config`` makes of it (engine name "<venue.name>-<id>", its instruments, its ports,
its own journal directory and audit log), so `up` and the control plane run unchanged per venue.
A file without [[venues]] is a single-venue file (``is_multi_venue``).

Every error is a ConfigError "FILE: path.to[field]: problem", like the single-venue loader's.
Fees are checked against the Rule 610(c) cap in force at load (reason ENG_REJ_REGNMS_FEE_CAP), and
every instrument's tick against the Rule 612 increment of its reference price (ENG_REJ_REGNMS_SUB_PENNY).
"""
from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from gateway.control import config as venue_config
from gateway.control.config import ConfigError, VenueConfig
from gateway.reasons import Reason
from gateway.small_files import NotASmallFile, read_small_file
from gateway.regnms import checks
from gateway.regnms.rules import RuleVersion, RulesError, TickClass, load_rules

MULTI_SECTIONS = ("venues", "sip", "regnms", "discovery")
Z99 = 2.3263478740408408          # standard normal quantile at 0.99
MAX_P99_OVER_AVG = 14.9           # a lognormal with this mean has no P99 beyond exp(Z99**2 / 2) x mean
PORTS_PER_VENUE = 7


class _S(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class FeeSchedule(_S, frozen=True):
    """A venue's fees per share, in its own unit: "mils" ($0.0001) or "usd". maker_rebate > 0 pays
    the liquidity provider (a negative one charges it); taker_fee is the access fee that Rule 610(c)
    caps. Below $1.00 the access fee is a percentage of the price."""
    unit: Literal["mils", "usd"] = "mils"
    maker_rebate: float = 0.0
    taker_fee: float = 0.0
    sub_dollar_taker_fee_pct: float = 0.0

    def _mils(self, value: float) -> float:
        return value * 10_000.0 if self.unit == "usd" else value

    @property
    def taker_fee_mils(self) -> float:
        return self._mils(self.taker_fee)

    @property
    def maker_rebate_mils(self) -> float:
        return self._mils(self.maker_rebate)


class LatencyProfile(_S, frozen=True):
    """One-way delay of traffic routed to the venue, microseconds: the mean and the 99th percentile
    (the delay line draws from a lognormal matched to both; equal values: a fixed delay)."""
    avg_us: float
    p99_us: float


class VenueSpec(_S, frozen=True):
    id: str
    type: Literal["lit", "dark"]
    instruments: list[str]
    port_base: int
    fees: FeeSchedule = FeeSchedule()
    latency: LatencyProfile = LatencyProfile(avg_us=0.0, p99_us=0.0)
    market_share: float = 0.0
    reliability: float = 1.0
    engine_cpu: int = -1              # -1: not pinned (on two CPUs several engines share them)
    gateway_cpu: int = -1
    control_cpu: int = -1
    md_cpu: int = -1
    delay_cpu: int = -1
    nbbo_max_age_ms: float = 1000.0   # dark: an NBBO older than this (engine time) stops its trading


class Sip(_S, frozen=True):
    publish: str = "tcp://127.0.0.1:9590"
    cpu: int = -1


class Discovery(_S, frozen=True):
    """Live price discovery across the lit venues (trading/analytics/discovery_live.py): Hasbrouck
    information shares and Gonzalo-Granger component shares of the venues' quote midpoints, from
    the consolidator's feed, published on a ZeroMQ PUB endpoint of its own (printed by up).
    Needs at least two lit venues; started after the consolidator, restarted like it."""
    enabled: bool = True
    bar_seconds: float = 1.0        # the midpoint sampling grid (consolidator receipt clock)
    lags: int = 1                   # lagged price changes in the VECM
    interval_s: float = 1.0         # seconds between publications
    max_fill_bars: int = 60         # unchanged rows a quiet spell adds at most
    cpu: int = -1


class RegNms(_S, frozen=True):
    as_of: dt.date | None = None                    # None: the UTC date at load
    rules: str = ""                                 # "" = the shipped gateway/regnms/rules.toml
    # Rule 611 in the venues' engines: "reject" a trade-through, "route_away" (execute to the protected
    # price, return the rest), or "off" (no venue-side enforcement: the router's own gate only)
    order_protection: Literal["off", "reject", "route_away"] = "reject"
    half_penny: list[str] = []                      # tick-constrained symbols (Rule 612 $0.005)


class VenuePorts(_S, frozen=True):
    """The fixed ports of one venue, port_base + offset; clients connect to order_entry (the delay
    line), which forwards to the gateway's own port."""
    gateway: int
    order_entry: int
    md_zmq: int
    md_recovery: int
    control_command: int
    control_publish: int
    gateway_admin: int


class MultiVenueConfig(_S, frozen=True):
    template: VenueConfig
    venues: list[VenueSpec]
    sip: Sip = Sip()
    regnms: RegNms = RegNms()
    discovery: Discovery = Discovery()

    @property
    def host(self) -> str:
        return self.template.gateway.listen.rpartition(":")[0]

    def venue(self, venue_id: str) -> VenueSpec:
        for v in self.venues:
            if v.id == venue_id:
                return v
        raise KeyError(f"no venue {venue_id!r}; venues: {', '.join(v.id for v in self.venues)}")

    def rules(self) -> RuleVersion:
        """The Regulation NMS rule version in force on regnms.as_of (today, UTC, when unset)."""
        book = load_rules(self.regnms.rules or None)
        return book.in_force(self.regnms.as_of or dt.datetime.now(dt.timezone.utc).date())

    def tick_class(self, symbol: str) -> TickClass:
        return "half_penny" if symbol in self.regnms.half_penny else "penny"

    def engine_name(self, venue_id: str) -> str:
        return f"{self.template.venue.name}-{venue_id.lower()}"


def ports(spec: VenueSpec) -> VenuePorts:
    b = spec.port_base
    return VenuePorts(gateway=b, order_entry=b + 1, md_zmq=b + 2, md_recovery=b + 3,
                      control_command=b + 4, control_publish=b + 5, gateway_admin=b + 6)


def is_multi_venue(data: dict[str, Any]) -> bool:
    """A parsed TOML document with [[venues]] is a multi-venue file."""
    return "venues" in data


def derive_venue_config(multi: MultiVenueConfig, venue_id: str) -> VenueConfig:
    """The single-venue configuration one venue runs with (see the module's docstring)."""
    spec = multi.venue(venue_id)
    t = multi.template
    p = ports(spec)
    host = multi.host
    audit = Path(t.control.audit_log)
    return msgspec.structs.replace(
        t,
        venue=msgspec.structs.replace(t.venue, name=multi.engine_name(spec.id), engine_cpu=spec.engine_cpu,
                                      gateway_cpu=spec.gateway_cpu, control_cpu=spec.control_cpu,
                                      dark_nbbo_max_age_ns=int(spec.nbbo_max_age_ms * 1e6) if spec.type == "dark" else 0),
        instruments=[i for i in t.instruments if i.symbol in spec.instruments],
        journal=msgspec.structs.replace(t.journal, dir=str(Path(t.journal.dir) / spec.id) if t.journal.dir else ""),
        gateway=venue_config.GatewayListen(listen=f"{host}:{p.gateway}",
                                           admin_endpoint=f"tcp://{host}:{p.gateway_admin}"),
        control=msgspec.structs.replace(t.control, command_endpoint=f"tcp://{host}:{p.control_command}",
                                        publish_endpoint=f"tcp://{host}:{p.control_publish}",
                                        audit_log=str(audit.with_name(f"{audit.stem}-{spec.id}{audit.suffix}"))),
        # each venue's dashboard on a free port of the template's host; the template's own address
        # is the deployment index's (gateway/dashboard/deployment.py); "" keeps both off
        dashboard=msgspec.structs.replace(t.dashboard, listen=venue_dashboard_listen(t.dashboard.listen)))


def venue_dashboard_listen(template_listen: str) -> str:
    return f"{template_listen.rpartition(':')[0]}:0" if template_listen else ""


def lognormal_params(avg_us: float, p99_us: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with mean avg_us and 99th percentile p99_us:
    mean = exp(mu + sigma^2/2), p99 = exp(mu + Z99 sigma), so sigma^2/2 - Z99 sigma + ln(p99/avg) = 0;
    the smaller root is taken (the larger puts most of the mass far below the mean). sigma = 0 when
    p99 == avg (a fixed delay)."""
    if avg_us <= 0:
        return (-math.inf, 0.0)
    ratio = math.log(p99_us / avg_us)
    sigma = Z99 - math.sqrt(Z99 * Z99 - 2.0 * ratio)
    return (math.log(avg_us) - sigma * sigma / 2.0, sigma)


def _check_venue(i: int, v: VenueSpec, symbols: set[str], odd_ticks: set[str]) -> None:
    at = f"venues[{i}]"
    if not re.match(r"^[A-Z][A-Z0-9]{0,7}$", v.id):
        raise ConfigError(f"{at}.id: must be 1..8 of [A-Z0-9] starting with a letter, got {v.id!r}")
    if not v.instruments:
        raise ConfigError(f"{at}.instruments: a venue trades at least one instrument")
    for s in v.instruments:
        if s not in symbols:
            raise ConfigError(f"{at}.instruments: {s!r} is not in [[instruments]]")
    if v.type == "dark" and odd_ticks & set(v.instruments):
        raise ConfigError(f"{at}.instruments: a dark venue needs even ticks (whole-unit midpoints); "
                          f"odd: {', '.join(sorted(odd_ticks & set(v.instruments)))}")
    if len(set(v.instruments)) != len(v.instruments):
        raise ConfigError(f"{at}.instruments: a symbol is listed twice")
    if not 1024 <= v.port_base <= 65535 - PORTS_PER_VENUE:
        raise ConfigError(f"{at}.port_base: must be 1024..{65535 - PORTS_PER_VENUE}, got {v.port_base}")
    lat = v.latency
    if not 0 <= lat.avg_us <= lat.p99_us:     # NaN too: it passed the comparisons the other way round
        raise ConfigError(f"{at}.latency: need 0 <= avg_us <= p99_us, got avg {lat.avg_us}, p99 {lat.p99_us}")
    if lat.avg_us > 0 and lat.p99_us > MAX_P99_OVER_AVG * lat.avg_us:
        raise ConfigError(f"{at}.latency.p99_us: at most {MAX_P99_OVER_AVG} x avg_us (no lognormal "
                          f"with that mean has a longer P99), got {lat.p99_us} for avg {lat.avg_us}")
    if lat.p99_us > 1e6:
        raise ConfigError(f"{at}.latency.p99_us: at most 1 s (1e6 us), got {lat.p99_us}")
    if not 0 < v.nbbo_max_age_ms <= 3_600_000:
        raise ConfigError(f"{at}.nbbo_max_age_ms: must be in (0, 3600000], got {v.nbbo_max_age_ms}")
    if not 0.0 <= v.market_share <= 1.0:
        raise ConfigError(f"{at}.market_share: a share, 0..1, got {v.market_share}")
    if not 0.0 < v.reliability <= 1.0:
        raise ConfigError(f"{at}.reliability: a probability in (0, 1], got {v.reliability}")
    for f in ("engine_cpu", "gateway_cpu", "control_cpu", "md_cpu", "delay_cpu"):
        if getattr(v, f) < -1:
            raise ConfigError(f"{at}.{f}: must be -1 (not pinned) or a CPU number, got {getattr(v, f)}")
    fees = v.fees
    for name in ("taker_fee", "sub_dollar_taker_fee_pct"):
        if not math.isfinite(getattr(fees, name)) or getattr(fees, name) < 0:
            raise ConfigError(f"{at}.fees.{name}: must be >= 0 (a taker rebate is not an access fee), "
                              f"got {getattr(fees, name)}")
    if not math.isfinite(fees.maker_rebate):
        raise ConfigError(f"{at}.fees.maker_rebate: must be a number, got {fees.maker_rebate}")


def _check(multi: MultiVenueConfig) -> None:
    t = multi.template
    symbols = {i.symbol for i in t.instruments}
    if not multi.venues:
        raise ConfigError("venues: at least one [[venues]] entry is needed")
    ids: set[str] = set()
    taken: dict[int, str] = {}
    for i, v in enumerate(multi.venues):
        _check_venue(i, v, symbols, {ins.symbol for ins in t.instruments if ins.tick % 2})
        if v.id in ids:
            raise ConfigError(f"venues[{i}].id: venue {v.id!r} is defined twice")
        ids.add(v.id)
        for port in range(v.port_base, v.port_base + PORTS_PER_VENUE):
            if port in taken:
                raise ConfigError(f"venues[{i}].port_base: its ports {v.port_base}..{v.port_base + PORTS_PER_VENUE - 1} "
                                  f"overlap venue {taken[port]}'s")
            taken[port] = v.id
    share = sum(v.market_share for v in multi.venues)
    if share > 1.0 + 1e-9:
        raise ConfigError(f"venues: market shares add up to {share:.4g}, more than 1")
    if not [v for v in multi.venues if v.type == "lit"]:
        raise ConfigError("venues: at least one lit venue is needed (a dark venue prices off the lit NBBO)")
    if not re.match(r"^tcp://[^:]+:\d+$", multi.sip.publish):
        raise ConfigError(f"sip.publish: must be tcp://HOST:PORT, got {multi.sip.publish!r}")
    sip_port = int(multi.sip.publish.rpartition(":")[2])
    if sip_port in taken:
        raise ConfigError(f"sip.publish: port {sip_port} is one of venue {taken[sip_port]}'s")
    for s in multi.regnms.half_penny:
        if s not in symbols:
            raise ConfigError(f"regnms.half_penny: {s!r} is not in [[instruments]]")
    _check_discovery(multi.discovery)
    _check_regnms(multi)


def _check_discovery(d: Discovery) -> None:
    if not 0 < d.bar_seconds <= 3600:
        raise ConfigError(f"discovery.bar_seconds: must be in (0, 3600], got {d.bar_seconds}")
    if not 1 <= d.lags <= 20:
        raise ConfigError(f"discovery.lags: must be 1..20, got {d.lags}")
    if not 0 < d.interval_s <= 3600:
        raise ConfigError(f"discovery.interval_s: must be in (0, 3600], got {d.interval_s}")
    if d.max_fill_bars < 1:
        raise ConfigError(f"discovery.max_fill_bars: must be >= 1, got {d.max_fill_bars}")
    if d.cpu < -1:
        raise ConfigError(f"discovery.cpu: must be -1 (not pinned) or a CPU number, got {d.cpu}")


def _check_regnms(multi: MultiVenueConfig) -> None:
    """Rule 610(c) on every venue's access fee, Rule 612 on every instrument's tick and reference
    price, with the rule version in force on regnms.as_of."""
    try:
        rules = multi.rules()
    except RulesError as exc:
        raise ConfigError(f"regnms: {exc}") from None
    for i, v in enumerate(multi.venues):
        refusal = checks.check_access_fee(v.fees.taker_fee_mils, v.fees.sub_dollar_taker_fee_pct, rules)
        if refusal is not None:
            raise ConfigError(f"venues[{i}].fees: {Reason(refusal.reason).name} ({refusal.reason}): "
                              f"{refusal.text}")
    for i, ins in enumerate(multi.template.instruments):
        tick_class = multi.tick_class(ins.symbol)
        refusal = checks.check_price_increment(ins.reference_price, rules, tick_class)
        increment = rules.min_increment(ins.reference_price, tick_class)
        if refusal is None and ins.tick % increment:
            refusal = checks.Refusal(int(Reason.ENG_REJ_REGNMS_SUB_PENNY), "612",
                                     f"tick {ins.tick} is not a multiple of the minimum increment "
                                     f"{increment} ({rules.name}, tick class {tick_class})")
        if refusal is not None:
            raise ConfigError(f"instruments[{i}] ({ins.symbol}): {Reason(refusal.reason).name} "
                              f"({refusal.reason}): {refusal.text}")


def parse_multi(data: dict[str, Any], where: str = "venue config") -> MultiVenueConfig:
    """Validates a parsed multi-venue TOML document. Raises ConfigError naming file and field."""
    template = venue_config.parse_config({k: v for k, v in data.items() if k not in MULTI_SECTIONS}, where)
    try:
        multi = msgspec.convert({"template": msgspec.to_builtins(template),
                                 **{k: data[k] for k in MULTI_SECTIONS if k in data}}, MultiVenueConfig)
    except msgspec.ValidationError as exc:
        path, problem = venue_config.msgspec_message(exc)
        raise ConfigError(f"{where}: {path + ': ' if path else ''}{problem}") from None
    try:
        _check(multi)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return multi


def load_multi_config(path: str | Path) -> MultiVenueConfig:
    """Reads a multi-venue file. Raises ConfigError (also for a file with no [[venues]])."""
    p = Path(path)
    try:
        data = tomllib.loads(read_small_file(p).decode())
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except NotASmallFile as exc:
        raise ConfigError(f"{p}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p.name}: not valid TOML: {exc}") from None
    if not is_multi_venue(data):
        raise ConfigError(f"{p.name}: no [[venues]]: a single-venue file (gateway/control/config.py reads it)")
    return parse_multi(data, p.name)
