"""The router's view of one venue: who it is and what trading there costs (issue 21's seed fields:
id, type, maker rebate and taker fee, latency profile average and P99, market share, reliability).

Fees are per share in currency units (USD), positive = the participant pays, negative = a rebate;
an inverted venue has a negative taker fee. Latency is one-way, order to venue, in ns.
"""
from __future__ import annotations

import math
from typing import Literal

import msgspec

from trading.routing.errors import RoutingError

VenueKind = Literal["lit", "dark"]
# a lognormal latency can have P99 / mean at most exp(z99^2 / 2) (the root below must be real)
_Z99 = 2.3263478740408408
MAX_P99_OVER_AVG = math.exp(_Z99 * _Z99 / 2)


class VenueProfile(msgspec.Struct, frozen=True, kw_only=True):
    """One venue as the router sees it. Construct with ``VenueProfile.checked(...)`` (or run
    ``check()``) so that a bad value is refused with the field named."""
    venue_id: str
    kind: VenueKind = "lit"
    maker_rebate: float = 0.0        # USD per share paid to the maker (positive = rebate)
    taker_fee: float = 0.0           # USD per share paid by the taker (negative = taker rebate)
    latency_avg_ns: int = 100_000
    latency_p99_ns: int = 300_000
    market_share: float = 0.0        # fraction of the instrument's volume, 0..1
    reliability: float = 1.0         # prior probability that the venue answers an order, 0..1
    dark_min_qty: int = 0            # dark venues: the minimum acceptable quantity they enforce

    def check(self) -> VenueProfile:
        def bad(field: str, why: str) -> RoutingError:
            return RoutingError(f"venue {self.venue_id!r}: {field} {why}")
        if not self.venue_id or not self.venue_id.replace("-", "").replace("_", "").isalnum():
            raise RoutingError(f"venue id {self.venue_id!r} must be non-empty letters, digits, '-' or '_'")
        for name in ("maker_rebate", "taker_fee", "market_share", "reliability"):
            if not math.isfinite(getattr(self, name)):
                raise bad(name, "is not a finite number")
        if not 0.0 <= self.market_share <= 1.0:
            raise bad("market_share", f"{self.market_share} is outside 0..1")
        if not 0.0 < self.reliability <= 1.0:
            raise bad("reliability", f"{self.reliability} is outside (0, 1]")
        if self.latency_avg_ns <= 0 or self.latency_p99_ns < self.latency_avg_ns:
            raise bad("latency", f"needs 0 < average <= P99, got {self.latency_avg_ns} / {self.latency_p99_ns} ns")
        if self.latency_p99_ns > MAX_P99_OVER_AVG * self.latency_avg_ns:
            raise bad("latency_p99_ns", f"is more than {MAX_P99_OVER_AVG:.1f} x the average (no lognormal fits)")
        if self.dark_min_qty < 0:
            raise bad("dark_min_qty", "is negative")
        return self

    @classmethod
    def checked(cls, **fields: object) -> VenueProfile:
        try:
            profile = msgspec.convert(fields, cls)
        except msgspec.ValidationError as exc:
            raise RoutingError(f"venue {fields.get('venue_id')!r}: {exc}") from None
        return profile.check()

    def latency_lognormal(self) -> tuple[float, float]:
        """(mu, sigma) of the lognormal with this mean and P99: mean = exp(mu + s^2/2),
        P99 = exp(mu + z99 s), so s^2/2 - z99 s + ln(P99/mean) = 0, the smaller root."""
        ratio = math.log(self.latency_p99_ns / self.latency_avg_ns)
        sigma = _Z99 - math.sqrt(max(_Z99 * _Z99 - 2.0 * ratio, 0.0))
        return math.log(self.latency_avg_ns) - sigma * sigma / 2.0, sigma


def check_venues(venues: tuple[VenueProfile, ...] | list[VenueProfile]) -> tuple[VenueProfile, ...]:
    """Every profile checked, ids unique, at least one lit venue."""
    out = tuple(v.check() for v in venues)
    ids = [v.venue_id for v in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise RoutingError(f"venue ids must be unique: {sorted(dup)} repeated")
    if not any(v.kind == "lit" for v in out):
        raise RoutingError("at least one lit venue is needed")
    return out
