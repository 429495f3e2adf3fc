"""The router's venues and rules come from the venue configuration: a venue is gateway/venues'
``VenueSpec`` (a ``[[venues]]`` entry of the multi-venue file: id, type, fees, latency profile,
market share, reliability) and the Reg NMS values are gateway/regnms's ``RuleVersion`` in force.
This module reads what the router needs from them in its units (USD a share, ns) and checks a
venue set at the router's boundary.
"""
from __future__ import annotations

import math
from typing import Literal

import msgspec

from gateway.regnms.rules import ONE_DOLLAR, RuleVersion
from gateway.venues.config import MAX_P99_OVER_AVG, VenueSpec, lognormal_params
from trading.routing.errors import RoutingError

MILS_PER_USD = 10_000.0


def taker_fee_usd(v: VenueSpec) -> float:
    return v.fees.taker_fee_mils / MILS_PER_USD


def maker_rebate_usd(v: VenueSpec) -> float:
    """What the venue pays (USD a share) the liquidity a child provides (negative: charges it)."""
    return v.fees.maker_rebate_mils / MILS_PER_USD


def latency_avg_ns(v: VenueSpec) -> float:
    return v.latency.avg_us * 1_000.0


def latency_p99_ns(v: VenueSpec) -> float:
    return v.latency.p99_us * 1_000.0


def latency_lognormal_ns(v: VenueSpec) -> tuple[float, float]:
    """(mu, sigma) of the one-way delay in ns (gateway.venues.config.lognormal_params, in us)."""
    mu, sigma = lognormal_params(v.latency.avg_us, v.latency.p99_us)
    return mu + math.log(1_000.0), sigma


def fee_cap_usd(rules: RuleVersion, price: int) -> float:
    """Rule 610(c): the most a venue may charge (USD a share) to take a protected quote at `price`."""
    if price >= ONE_DOLLAR:
        return rules.fee_cap_mils / MILS_PER_USD
    return rules.fee_cap_sub_dollar_pct / 100.0 * price / ONE_DOLLAR


def venue(venue_id: str, kind: Literal["lit", "dark"] = "lit", taker_fee_mils: float = 0.0, avg_us: float = 100.0,
          p99_us: float = 300.0, market_share: float = 0.0, reliability: float = 1.0,
          instruments: tuple[str, ...] = ("X",), maker_rebate_mils: float = 0.0) -> VenueSpec:
    """A VenueSpec built in code (tests, benchmarks, replays), typed by msgspec; port_base 0: not
    deployed. A deployment's venues come from its config file (gateway/venues/config.py)."""
    try:
        return msgspec.convert({"id": venue_id, "type": kind, "instruments": list(instruments), "port_base": 0,
                                "fees": {"unit": "mils", "taker_fee": taker_fee_mils, "maker_rebate": maker_rebate_mils},
                                "latency": {"avg_us": avg_us, "p99_us": p99_us},
                                "market_share": market_share, "reliability": reliability}, VenueSpec)
    except msgspec.ValidationError as exc:
        raise RoutingError(f"venue {venue_id!r}: {exc}") from None


def _check(v: VenueSpec) -> None:
    def bad(why: str) -> RoutingError:
        return RoutingError(f"venue {v.id!r}: {why}")
    if not v.id:
        raise RoutingError("a venue id is empty")
    fees = (v.fees.taker_fee_mils, v.fees.maker_rebate_mils)
    if not all(math.isfinite(f) for f in fees) or v.fees.taker_fee_mils < 0:
        raise bad(f"taker fee {v.fees.taker_fee} must be a finite number >= 0 (a taker rebate is not an access fee)")
    if not 0.0 <= v.market_share <= 1.0:
        raise bad(f"market_share {v.market_share} is outside 0..1")
    if not 0.0 < v.reliability <= 1.0:
        raise bad(f"reliability {v.reliability} is outside (0, 1]")
    lat = v.latency
    if not 0.0 < lat.avg_us <= lat.p99_us or lat.p99_us > MAX_P99_OVER_AVG * lat.avg_us:
        raise bad(f"latency needs 0 < avg <= P99 <= {MAX_P99_OVER_AVG} x avg (a lognormal), "
                  f"got {lat.avg_us} / {lat.p99_us} us")


def check_venues(venues: tuple[VenueSpec, ...] | list[VenueSpec]) -> tuple[VenueSpec, ...]:
    """Every venue usable by the router, ids unique, at least one lit venue."""
    out = tuple(venues)
    for v in out:
        _check(v)
    ids = [v.id for v in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RoutingError(f"venue ids must be unique: {dup} repeated")
    if not any(v.type == "lit" for v in out):
        raise RoutingError("at least one lit venue is needed")
    return out
