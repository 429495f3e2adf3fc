"""The multi-venue configuration: the shipped example loads, every venue derives a valid single-venue
config, and each bad value is refused with the file and the field."""
from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path

import pytest
from scipy import stats

from gateway.control.config import ConfigError, parse_text
from gateway.venues import config as mv
from gateway.venues.toml_text import toml_text

EXAMPLE = Path(mv.__file__).with_name("multi_venue.toml")


def load_with(old: str, new: str, count: int = 1):
    text = EXAMPLE.read_text()
    assert text.count(old) >= count, old
    return mv.parse_multi(tomllib.loads(text.replace(old, new, count)), "multi.toml")


def test_the_example_loads_and_each_venue_derives_a_single_venue_config():
    multi = mv.load_multi_config(EXAMPLE)
    assert [v.id for v in multi.venues] == ["LITA", "LITB", "DARK"]
    litb = multi.venue("LITB")
    assert litb.fees.taker_fee_mils == pytest.approx(5.0) and litb.fees.maker_rebate_mils == pytest.approx(-2.0)
    for v in multi.venues:
        derived = mv.derive_venue_config(multi, v.id)
        p = mv.ports(v)
        assert derived.venue.name == f"nms-{v.id.lower()}"
        assert [i.symbol for i in derived.instruments] == v.instruments
        assert derived.gateway.listen == f"127.0.0.1:{p.gateway}"
        assert derived.control.command_endpoint == f"tcp://127.0.0.1:{p.control_command}"
        assert derived.journal.dir == f"multi-venue-journal/{v.id}"
        assert derived.control.audit_log == f"multi-venue-audit-{v.id}.jsonl"
        assert derived.venue.dark_nbbo_max_age_ns == (1_000_000_000 if v.type == "dark" else 0)
        assert parse_text(toml_text(derived)) == derived     # what each venue's processes read


def test_a_single_venue_file_is_not_a_multi_venue_file(tmp_path):
    single = Path(mv.__file__).parents[1] / "control" / "default_venue.toml"
    assert not mv.is_multi_venue(tomllib.loads(single.read_text()))
    with pytest.raises(ConfigError, match=r"default_venue.toml: no \[\[venues\]\]"):
        mv.load_multi_config(single)
    with pytest.raises(ConfigError, match="cannot read"):
        mv.load_multi_config(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("[[venues]\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        mv.load_multi_config(tmp_path / "bad.toml")


@pytest.mark.parametrize("old, new, message", [
    ("taker_fee = 10.0", "taker_fee = 10.5",
     r"venues\[0\].fees: ENG_REJ_REGNMS_FEE_CAP \(602\): taker fee 10.5 mils per share is above the cap of 10.0"),
    ("taker_fee = 0.0005", "taker_fee = 0.0011", r"venues\[1\].fees: ENG_REJ_REGNMS_FEE_CAP"),
    ("sub_dollar_taker_fee_pct = 0.1", "sub_dollar_taker_fee_pct = 0.2", r"venues\[0\].fees: .*0.2 % of the price"),
    ("taker_fee = 5.0", "taker_fee = -1.0", r"venues\[2\].fees.taker_fee: must be >= 0"),
    ('half_penny = ["GLOBX"]', "half_penny = []",
     r"instruments\[1\] \(GLOBX\): ENG_REJ_REGNMS_SUB_PENNY \(601\): tick 50 is not a multiple of the minimum increment 100"),
    ('id = "LITB"', 'id = "LITA"', r"venues\[1\].id: venue 'LITA' is defined twice"),
    ('id = "LITB"', 'id = "lit-b"', r"venues\[1\].id: must be 1..8 of \[A-Z0-9\]"),
    ("port_base = 9610", "port_base = 9603", r"venues\[1\].port_base: its ports 9603..9609 overlap venue LITA's"),
    ("port_base = 9610", "port_base = 80", r"venues\[1\].port_base: must be 1024"),
    ('instruments = ["ACME", "GLOBX"]\nport_base = 9620', 'instruments = ["ZZZ"]\nport_base = 9620',
     r"venues\[2\].instruments: 'ZZZ' is not in \[\[instruments\]\]"),
    ('instruments = ["ACME", "GLOBX"]\nport_base = 9620', "instruments = []\nport_base = 9620",
     r"venues\[2\].instruments: a venue trades at least one"),
    ("tick = 50 ", "tick = 25 ", r"venues\[2\].instruments: a dark venue needs even ticks \(whole-unit midpoints\); odd: GLOBX"),
    ("nbbo_max_age_ms = 1000.0", "nbbo_max_age_ms = 0.0", r"venues\[2\].nbbo_max_age_ms: must be in \(0, 3600000\]"),
    ("p99_us = 250.0", "p99_us = 50.0", r"venues\[1\].latency: need 0 <= avg_us <= p99_us"),
    ("p99_us = 250.0", "p99_us = nan", r"venues\[1\].latency: need 0 <= avg_us <= p99_us"),   # qa4: NaN passed
    ("avg_us = 80.0", "avg_us = nan", r"venues\[1\].latency: need 0 <= avg_us <= p99_us"),
    ("p99_us = 250.0", "p99_us = 5000.0", r"venues\[1\].latency.p99_us: at most 14.9 x avg_us"),
    ("market_share = 0.30", "market_share = 0.60", "venues: market shares add up to 1.15, more than 1"),
    ("reliability = 0.98", "reliability = 0.0", r"venues\[2\].reliability: a probability in \(0, 1\]"),
    ('type = "lit"', 'type = "ecn"', r"venues\[0\].type: Invalid enum value 'ecn'"),
    ("reliability = 0.98", "reliability = 0.98\ncolour = 1", r"venues\[2\].colour: unknown field"),
    ("engine_wait", "engine_cpu = -3\nengine_wait", r"venue.engine_cpu: must be -1"),
    ('publish = "tcp://127.0.0.1:9590"', 'publish = "tcp://127.0.0.1:9612"', "sip.publish: port 9612 is one of venue LITB's"),
    ('publish = "tcp://127.0.0.1:9590"', 'publish = "udp://x"', "sip.publish: must be tcp://HOST:PORT"),
    ('order_protection = "reject"', 'order_protection = "maybe"', "regnms.order_protection"),
    ('half_penny = ["GLOBX"]', 'half_penny = ["GLOBX", "NOPE"]', r"regnms.half_penny: 'NOPE' is not in"),
    ("# as_of = 2026-01-02", 'as_of = 2001-01-01', "regnms: no Regulation NMS rule version applies on 2001-01-01"),
    ("bar_seconds = 1.0 ", "bar_seconds = 0.0 ", r"discovery.bar_seconds: must be in \(0, 3600\]"),
    ("lags = 1 ", "lags = 0 ", "discovery.lags: must be 1..20"),
    ("interval_s = 1.0 ", "interval_s = -1.0 ", r"discovery.interval_s: must be in \(0, 3600\]"),
    ("lags = 1 ", "lags = 1\nwindow = 5 ", "discovery.window: unknown field"),
])
def test_bad_values_are_refused_with_the_field(old, new, message):
    with pytest.raises(ConfigError, match=f"^multi.toml: {message}"):
        load_with(old, new)


def test_the_rules_of_the_configured_date_apply():
    # Under the 2005 rules a 30-mil fee is allowed and $0.005 ticks are not.
    text = EXAMPLE.read_text().replace("# as_of = 2026-01-02", "as_of = 2024-06-03")
    with pytest.raises(ConfigError, match=r"instruments\[1\] \(GLOBX\): ENG_REJ_REGNMS_SUB_PENNY.*regnms-2005"):
        mv.parse_multi(tomllib.loads(text), "multi.toml")
    text = text.replace("tick = 50 ", "tick = 100")
    multi = mv.parse_multi(tomllib.loads(text.replace("taker_fee = 10.0", "taker_fee = 30.0")), "multi.toml")
    assert multi.rules().name == "regnms-2005" and multi.regnms.as_of == dt.date(2024, 6, 3)


@pytest.mark.parametrize("avg, p99", [(150.0, 600.0), (80.0, 250.0), (400.0, 2500.0), (10.0, 140.0)])
def test_the_delay_distribution_matches_average_and_p99(avg, p99):
    mu, sigma = mv.lognormal_params(avg, p99)
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))       # independent: scipy's moments and quantiles
    assert dist.mean() == pytest.approx(avg, rel=1e-9)
    assert dist.ppf(0.99) == pytest.approx(p99, rel=1e-9)
    assert mv.lognormal_params(50.0, 50.0)[1] == 0.0        # equal: a fixed delay
