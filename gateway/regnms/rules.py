"""Regulation NMS rule values as data with effective dates (gateway/regnms/rules.toml).

Each version of the rules is one typed record: the Rule 612 minimum pricing increments by price band
and tick class, and the Rule 610(c) access-fee caps, with the date from which it applies and its
source (the SEC release). ``rules_in_force(date)`` picks the latest version whose applies_from is on
or before the date; the checks in gateway/regnms/checks.py take that record, so a change of rule is
a change of data. The versions shipped: Regulation NMS as adopted (Release 34-51808, 2005) and as
amended in 2024 (Release 34-101070, 89 FR 81620): $0.005 ticks for tick-constrained stocks and a
10-mil fee cap, applied from the compliance date, Nov. 3, 2025.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

import msgspec

ONE_DOLLAR = 10_000            # engine price units per dollar: prices are 1/10,000 of a dollar
RULES_FILE = "rules.toml"

TickClass = Literal["penny", "half_penny"]


class RulesError(ValueError):
    """The rule data is missing, malformed or inconsistent; the message names the field."""


class RuleVersion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One version of the Rule 610/612 values. Prices and increments in engine units (1/10,000 $);
    fee caps in mils per share (1 mil = $0.0001) at or above $1.00, in percent of the quotation
    price below $1.00."""
    name: str
    source: str
    applies_from: dt.date
    sub_dollar_increment: int        # Rule 612 below $1.00
    penny_increment: int             # Rule 612 at or above $1.00, tick_class "penny"
    half_penny_increment: int        # Rule 612 at or above $1.00, tick_class "half_penny"
    fee_cap_mils: float              # Rule 610(c) at or above $1.00
    fee_cap_sub_dollar_pct: float    # Rule 610(c) below $1.00

    def min_increment(self, price: int, tick_class: TickClass = "penny") -> int:
        """Rule 612: the minimum pricing increment of a quotation or order at `price`."""
        if price < ONE_DOLLAR:
            return self.sub_dollar_increment
        return self.half_penny_increment if tick_class == "half_penny" else self.penny_increment


class RuleBook(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    versions: list[RuleVersion]

    def in_force(self, on: dt.date) -> RuleVersion:
        """The version that applies on `on` (the latest applies_from on or before it)."""
        applicable = [v for v in self.versions if v.applies_from <= on]
        if not applicable:
            first = min(v.applies_from for v in self.versions)
            raise RulesError(f"no Regulation NMS rule version applies on {on} (the first applies "
                             f"from {first})")
        return max(applicable, key=lambda v: v.applies_from)

    def named(self, name: str) -> RuleVersion:
        for v in self.versions:
            if v.name == name:
                return v
        raise RulesError(f"no Regulation NMS rule version named {name!r}; versions: "
                         f"{', '.join(v.name for v in self.versions)}")


def _check(book: RuleBook) -> None:
    if not book.versions:
        raise RulesError("versions: at least one rule version is needed")
    names: set[str] = set()
    dates: set[dt.date] = set()
    for i, v in enumerate(book.versions):
        at = f"versions[{i}]"
        if v.name in names:
            raise RulesError(f"{at}.name: {v.name!r} is used twice")
        if v.applies_from in dates:
            raise RulesError(f"{at}.applies_from: two versions apply from {v.applies_from}")
        names.add(v.name)
        dates.add(v.applies_from)
        if not v.source.strip():
            raise RulesError(f"{at}.source: cite the release the values come from")
        for f in ("sub_dollar_increment", "penny_increment", "half_penny_increment"):
            value = getattr(v, f)
            if value <= 0 or ONE_DOLLAR % value:
                raise RulesError(f"{at}.{f}: must be > 0 and divide $1.00 ({ONE_DOLLAR} units), "
                                 f"got {value}")
        if v.penny_increment % v.half_penny_increment:
            raise RulesError(f"{at}.half_penny_increment: must divide penny_increment "
                             f"({v.penny_increment}), got {v.half_penny_increment}")
        if not v.fee_cap_mils > 0 or not 0 < v.fee_cap_sub_dollar_pct < 100:
            raise RulesError(f"{at}: fee caps must be > 0 mils and in (0, 100) percent")


def parse_rules(text: str, where: str = RULES_FILE) -> RuleBook:
    """Rule data from TOML text. Raises RulesError naming the file and the field."""
    try:
        book = msgspec.convert(tomllib.loads(text), RuleBook)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{where}: not valid TOML: {exc}") from None
    except msgspec.ValidationError as exc:
        raise RulesError(f"{where}: {exc}") from None
    try:
        _check(book)
    except RulesError as exc:
        raise RulesError(f"{where}: {exc}") from None
    return book


def load_rules(path: str | Path | None = None) -> RuleBook:
    """The shipped rule data (gateway/regnms/rules.toml), or another file of the same form."""
    if path is None:
        return parse_rules(resources.files("gateway.regnms").joinpath(RULES_FILE).read_text())
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{p}: cannot read ({exc})") from None
    return parse_rules(text, p.name)


def rules_in_force(on: dt.date | None = None, path: str | Path | None = None) -> RuleVersion:
    """The rule version in force on `on` (default: today, UTC)."""
    return load_rules(path).in_force(on or dt.datetime.now(dt.timezone.utc).date())
