"""Bad venue configuration files give a clear error naming the file, the field and the problem,
from the loader and from the command lines that read it (exit status 2, nothing started)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.control.config import ConfigError, load_config, parse_text
from tests.control.cp_venue import write_config


def _good(tmp_path: Path) -> str:
    return write_config(tmp_path, "cfgtest").read_text()


def test_the_embedded_default_and_the_test_config_load() -> None:
    cfg = load_config()
    assert cfg.venue.name and cfg.instruments and cfg.users
    assert cfg.gateway_config().sessions     # the gateway's credentials come from the same file


@pytest.mark.parametrize("edit, expected", [
    (("tick = 5", "tick = 0"), "venue.toml: instruments[1].tick: must be > 0, got 0"),
    (("tick = 5", 'tick = "five"'), "venue.toml: instruments[1].tick: Expected int, got str"),
    (("lot = 1\nreference_price = 5000", "lot = 1\nreference_price = 5001"),
     "venue.toml: instruments[1].reference_price: 5001 is not a multiple of tick 5"),
    (('symbol = "BETA"', 'symbol = "ACME"'), "venue.toml: instruments[1].symbol: symbol 'ACME' is used twice"),
    (("id = 2\n", "id = 2\ncolour = 3\n"), "venue.toml: instruments[1].colour: unknown field"),
    (('role = "viewer"', 'role = "king"'), "venue.toml: users[1].roles: unknown role 'king'; roles: viewer, "
     "trader, risk_officer, compliance, operator, admin"),
    (('role = "viewer"\ntoken_hash', 'role = "viewer"\ntoken = "viewer-token-1"\ntoken_hash'),
     "venue.toml: users[1].token: plain tokens are not kept in the config; put its token_hash instead "
     "(python -m gateway keys hash-token)"),
    (('token_hash = "scrypt$16384$8$1$wDX', 'token_hash = "scrypt$16384$8$1$$wDX'),
     "venue.toml: users[1].token_hash: expected scrypt$N$r$p$SALT$KEY (python -m gateway keys hash-token)"),
    (('token_hash = "scrypt$16384$8$1$wDX', 'token_hash = "scrypt$1000$8$1$wDX'),
     "venue.toml: users[1].token_hash: scrypt parameters N=1000 r=8 p=1: N a power of two in 2^10..2^20, "
     "r 1..32, p 1..16"),
    (("firm_id = 2\nkey", "firm_id = 7\nkey"), "venue.toml: sessions[1].firm_id: no firm 7 in firms"),
    (("[[accounts]]\nid = 1", "[[accounts]]\nid = 9"), "venue.toml: accounts[0].id: account 9 belongs to no firm"),
    (("pre_open = 0\nopen = 0", "pre_open = 10\nopen = 5"),
     "venue.toml: schedule.open: must not be before schedule.pre_open (5 < 10)"),
    (("pre_open = 0", 'pre_open = "25:00"'), "venue.toml: schedule.pre_open: not a time of day: '25:00'"),
    (('clock = "start"', 'clock = "lunar"'), "venue.toml: schedule.clock: Invalid enum value 'lunar'"),
    (("price_band_pct = 0.0", "price_band_pct = 150.0"), "venue.toml: breakers.price_band_pct: must be 0 (off) .. < 100"),
    # qa6: NaN passed `<= 0`, and 1e308 s was an OverflowError traceback in the control plane at start
    (("halt_s = 60.0", "halt_s = 1e308"),
     "venue.toml: breakers.halt_s: must be > 0 and at most 86400 seconds, got 1e+308"),
    (("halt_s = 60.0", "halt_s = nan"), "venue.toml: breakers.halt_s: must be > 0 and at most 86400"),
    (("reopen_call_s = 0\n", "reopen_call_s = inf\n"), "venue.toml: breakers.reopen_call_s: must be 0..86400"),
    (("reopen_call_s = 0\n", "reopen_call_s = 0\nmarket_wide_halt_s = [900.0, nan, -1.0]\n"),
     "venue.toml: breakers.market_wide_halt_s[1]: must be > 0 and at most 86400 seconds, or -1"),
    (('listen = "127.0.0.1:0"', 'listen = "nowhere"'), "venue.toml: gateway.listen: must be HOST:PORT"),
    (('command_endpoint = "tcp://127.0.0.1:*"', 'command_endpoint = "http://x"'),
     "venue.toml: control.command_endpoint: must be tcp://HOST:PORT or ipc://PATH"),
    (("[venue]\n", "[venue]\nname2 = 1\n"), "venue.toml: venue.name2: unknown field"),
    # A limit of 0 would refuse every order: refused here, not silently at the first order.
    (("max_position = 1000", "max_position = 0"),
     "venue.toml: accounts[0].max_position: must be 1..9223372036854775807 (leave it out for no limit"),
    # qa6: NaN passed '< 0'; 1e308 was an OverflowError traceback in the control plane at start
    (("max_position = 1000", "max_position = 1000\nvar_limit = 1e308"),
     "venue.toml: accounts[0].var_limit: must be 0..9223372036854 (0 = no limit), got 1e+308"),
    (("max_position = 1000", "max_position = 1000\nloss_limit = nan"), "venue.toml: accounts[0].loss_limit: must be 0.."),
    (("max_position = 1000", "max_position = 1000\nvar_interval_s = nan"),
     "venue.toml: accounts[0].var_interval_s: must be a finite number > 0, got nan"),
    (("max_position = 1000", 'max_position = 1000\norder_velocity = "5 per second"'),
     "venue.toml: accounts[0].order_velocity: expected N/DURATION such as '100/1s'"),
    (("max_position = 1000", 'max_position = 1000\norder_velocity = "5/0ms"'),
     "venue.toml: accounts[0].order_velocity: '5/0ms': the window must be > 0"),
    (("reference_price = 5000\n", "reference_price = 5000\nmax_order_qty = 0\n"),
     "venue.toml: instruments[1].max_order_qty: must be 1..9223372036854775807"),
    (("reference_price = 5000\n", "reference_price = 5000\nprice_collar_ticks = 0\n"),
     "venue.toml: instruments[1].price_collar_ticks: must be 1..9223372036854775807"),
    (("[journal]\n", "[journal]\nsegment_mb = 0\n"), "venue.toml: journal.segment_mb: must be 1..4096"),
    # qa5: accepted before, though no int64 price or uint32 engine capacity holds them
    (("[venue]\n", "[venue]\nprice_scale = 1000000000000000000000000000000\n"),
     "venue.toml: venue.price_scale: must be 1..1_000_000_000 (price units per currency unit), got 10000000000000"),
    (("[venue]\n", "[venue]\nprice_scale = 0\n"), "venue.toml: venue.price_scale: must be 1..1_000_000_000"),
    (("[venue]\n", "[venue]\nprice_scale = 1e30\n"), "venue.toml: venue.price_scale: Expected int, got float"),
    (("[venue]\n", "[venue]\nmax_orders = 4294967296\n"), "venue.toml: venue.max_orders: must be 1..4294967295, got"),
    (("max_accounts = 64", "max_accounts = 0"), "venue.toml: venue.max_accounts: must be 1..4294967295, got 0"),
])
def test_bad_field_is_named(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    text = _good(tmp_path)
    assert edit[0] in text, edit
    with pytest.raises(ConfigError) as err:
        parse_text(text.replace(edit[0], edit[1], 1), "venue.toml")
    assert str(err.value).startswith(expected), str(err.value)


def test_missing_section_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^venue.toml: users: required field is missing$"):
        text = _good(tmp_path)
        parse_text(text[:text.index("[[users]]")], "venue.toml")
    with pytest.raises(ConfigError, match=r"^venue.toml: not valid TOML: "):
        parse_text("[venue\nname = 1", "venue.toml")
    with pytest.raises(ConfigError, match=r"cannot read"):
        load_config(tmp_path / "absent.toml")


@pytest.mark.parametrize("verb", ["up", "control"])
def test_command_lines_refuse_a_bad_file_with_status_2(tmp_path: Path, verb: str) -> None:
    bad = tmp_path / "venue.toml"
    bad.write_text(_good(tmp_path).replace("tick = 5", "tick = -5"))
    out = subprocess.run([sys.executable, "-m", "gateway", verb, "--config", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "venue.toml: instruments[1].tick: must be > 0, got -5" in out.stderr


def test_up_refuses_a_journal_dir_it_cannot_make_in_one_line(tmp_path: Path) -> None:
    """qa6: journal.dir under a file was a NotADirectoryError traceback from the gateway flow
    store's mkdir, after the run directory was made."""
    (tmp_path / "file").write_text("x")
    cfg = tmp_path / "venue.toml"
    cfg.write_text(_good(tmp_path).replace('[journal]\ndir = ""', f'[journal]\ndir = "{tmp_path}/file/journal"', 1))
    out = subprocess.run([sys.executable, "-m", "gateway", "up", "--config", str(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"up: not starting: journal.dir '{tmp_path}/file/journal': {tmp_path}/file/journal: Not a directory"], out.stderr


ETF = '\n[[analytics.etf]]\nsymbol = "BETA"\ncomponents = { ACME = 2.0 }\ncash = 1.5\ncost_bps = 5.0\n'


def test_an_etf_basket_reaches_the_monitor_command(tmp_path: Path) -> None:
    from gateway.control.up import monitor_command

    cfg = parse_text(_good(tmp_path) + ETF, "venue.toml")
    cmd = monitor_command(cfg, "ipc:///x")
    spec = cmd[cmd.index("--etf") + 1]
    ids = {i.symbol: i.id for i in cfg.instruments}
    assert json.loads(spec) == {"etf": ids["BETA"], "symbol": "BETA", "cash": 1.5, "divisor": 1.0,
                                "cost_bps": 5.0, "components": {str(ids["ACME"]): 2.0}}


@pytest.mark.parametrize("edit, expected", [
    (('symbol = "BETA"\ncomponents', 'symbol = "NOPE"\ncomponents'), "analytics.etf[0]: 'NOPE' is not in [[instruments]]"),
    (("{ ACME = 2.0 }", "{ ZZZ = 2.0 }"), "analytics.etf[0]: 'ZZZ' is not in [[instruments]]"),
    (("{ ACME = 2.0 }", "{ BETA = 2.0 }"), "analytics.etf[0].components: need at least one component other"),
    (("{ ACME = 2.0 }", "{ ACME = -2.0 }"), "analytics.etf[0].components.ACME: shares must be a finite number > 0"),
    (("cost_bps = 5.0", "cost_bps = 10000.0"), "analytics.etf[0].cost_bps: must be in [0, 10000)"),
    (("cash = 1.5", "cash = 1.5\ndivisor = 0.0"), "analytics.etf[0]: cash must be finite and divisor"),
    (("cash = 1.5", "cash = 1.5\nweights = 1"), "venue.toml: analytics.etf[0].weights: unknown field"),
])
def test_bad_etf_baskets_are_named(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    text = _good(tmp_path) + ETF
    with pytest.raises(ConfigError) as err:
        parse_text(text.replace(edit[0], edit[1], 1), "venue.toml")
    assert expected in str(err.value), str(err.value)
