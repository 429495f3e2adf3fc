"""The Regulation NMS rule data: versions by effective date, the shipped values, refused files."""
from __future__ import annotations

import datetime as dt

import pytest

from gateway.regnms.rules import RulesError, load_rules, parse_rules


def test_the_version_in_force_follows_the_dates():
    book = load_rules()
    assert book.in_force(dt.date(2010, 1, 4)).name == "regnms-2005"
    assert book.in_force(dt.date(2025, 11, 2)).name == "regnms-2005"
    assert book.in_force(dt.date(2025, 11, 3)).name == "regnms-2024"
    with pytest.raises(RulesError, match="no Regulation NMS rule version applies on 2001-01-01"):
        book.in_force(dt.date(2001, 1, 1))


def test_shipped_values_are_the_releases():
    old, new = load_rules().named("regnms-2005"), load_rules().named("regnms-2024")
    # 2005: $0.003 cap (30 mils) and 0.3 % below $1; penny ticks, $0.0001 below $1.
    assert (old.fee_cap_mils, old.fee_cap_sub_dollar_pct) == (30.0, 0.3)
    assert [old.min_increment(p, c) for p, c in ((9_999, "penny"), (10_000, "penny"), (10_000, "half_penny"))] == [1, 100, 100]
    # Release 34-101070: $0.001 cap (10 mils), 0.1 % below $1; $0.005 for tick-constrained stocks.
    assert (new.fee_cap_mils, new.fee_cap_sub_dollar_pct) == (10.0, 0.1)
    assert [new.min_increment(p, c) for p, c in ((9_999, "half_penny"), (10_000, "penny"), (10_000, "half_penny"))] == [1, 100, 50]
    assert "34-101070" in new.source and "34-51808" in old.source


GOOD = """
[[versions]]
name = "a"
source = "x"
applies_from = "2020-01-01"
sub_dollar_increment = 1
penny_increment = 100
half_penny_increment = 50
fee_cap_mils = 10.0
fee_cap_sub_dollar_pct = 0.1
"""


@pytest.mark.parametrize("change, message", [
    (("penny_increment = 100", "penny_increment = 30"), "penny_increment: must be > 0 and divide"),
    (("half_penny_increment = 50", "half_penny_increment = 40"), "half_penny_increment: must divide"),
    (("fee_cap_mils = 10.0", "fee_cap_mils = 0.0"), "fee caps must be"),
    (('source = "x"', 'source = " "'), "source: cite"),
    (('applies_from = "2020-01-01"', 'applies_from = "yesterday"'), "Invalid"),
    (("fee_cap_mils = 10.0", "fee_cap_mils = 10.0\nextra = 1"), "unknown field"),
])
def test_bad_rule_files_are_refused_with_the_field(change, message):
    parse_rules(GOOD)
    with pytest.raises(RulesError, match=message):
        parse_rules(GOOD.replace(*change))


def test_two_versions_from_one_date_are_refused():
    with pytest.raises(RulesError, match="two versions apply from 2020-01-01"):
        parse_rules(GOOD + GOOD.replace('name = "a"', 'name = "b"'))
    with pytest.raises(RulesError, match="not valid TOML"):
        parse_rules("[[versions]\n")
