"""The Reg NMS values the router obeys: Rule 612 minimum pricing increment and the Rule 610 access
fee cap, as of a date.

Source: SEC Release No. 34-101070 (Sept. 18, 2024), 89 FR 81620 (Oct. 8, 2024), amending Rules 610
and 612; compliance date November 3, 2025. Before it (Rules as adopted in 2005, Release 34-51808):
tick $0.01 at or above $1.00 and $0.0001 below; fee cap $0.003 a share at or above $1.00 and 0.3 %
of the quotation price below. After it: tick $0.005 for a stock whose time-weighted average quoted
spread over the evaluation period was at most $0.015 (``half_penny``), $0.01 for the others, $0.0001
below $1.00; fee cap $0.001 a share at or above $1.00 and 0.1 % of the price below.

Prices are in the engine's integer unit (1/10,000 of a dollar); fees in USD per share.

This module is the router's provisional copy until the venues' rule data (gateway/regnms) is on
main; then the router reads that and this file goes.
"""
from __future__ import annotations

import datetime as dt

import msgspec

PRICE_SCALE = 10_000           # price units per dollar
ONE_DOLLAR = PRICE_SCALE
AMENDED_2024 = dt.date(2025, 11, 3)   # Release 34-101070 compliance date


class RegNmsRules(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the values; ``for_date`` picks the version in force on a day."""
    version: str
    effective: dt.date
    tick_at_or_above_1: int            # price units
    tick_half_penny: int               # price units, for stocks whose TWAQS qualifies (0: no such band)
    tick_below_1: int
    fee_cap_at_or_above_1: float       # USD per share
    fee_cap_below_1_fraction: float    # of the quotation price

    def tick(self, price: int, half_penny: bool = False) -> int:
        """Rule 612: the minimum increment at which an order at `price` may be priced."""
        if price < ONE_DOLLAR:
            return self.tick_below_1
        return self.tick_half_penny if half_penny and self.tick_half_penny else self.tick_at_or_above_1

    def fee_cap(self, price: int) -> float:
        """Rule 610(c): the most a venue may charge (USD a share) to access a protected quote at `price`."""
        if price >= ONE_DOLLAR:
            return self.fee_cap_at_or_above_1
        return self.fee_cap_below_1_fraction * price / PRICE_SCALE


RULES_2005 = RegNmsRules(version="Reg NMS 2005 (Release 34-51808)", effective=dt.date(2005, 8, 29),
                         tick_at_or_above_1=100, tick_half_penny=0, tick_below_1=1,
                         fee_cap_at_or_above_1=0.003, fee_cap_below_1_fraction=0.003)
RULES_2024 = RegNmsRules(version="Reg NMS as amended by Release 34-101070 (2024)", effective=AMENDED_2024,
                         tick_at_or_above_1=100, tick_half_penny=50, tick_below_1=1,
                         fee_cap_at_or_above_1=0.001, fee_cap_below_1_fraction=0.001)
VERSIONS = (RULES_2005, RULES_2024)


def for_date(day: dt.date) -> RegNmsRules:
    """The version in force on `day` (the latest whose effective date is on or before it)."""
    chosen = [r for r in VERSIONS if r.effective <= day]
    if not chosen:
        raise ValueError(f"no Reg NMS rule version in force on {day} (the first is {VERSIONS[0].effective})")
    return chosen[-1]
