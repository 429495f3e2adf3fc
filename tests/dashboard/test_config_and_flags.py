"""The dashboard's configuration and command-line entry points refuse bad input clearly, and
`up` checks its port before starting anything."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.control import up
from gateway.control.config import ConfigError, load_config, parse_text
from gateway.control.up import DEFAULT_CONFIG_NAME, dashboard_listen, ports_in_use
from gateway.dashboard import process


def _with_dashboard(section: str) -> str:
    from importlib import resources
    text = resources.files("gateway.control").joinpath(DEFAULT_CONFIG_NAME).read_text()
    start = text.index("[dashboard]")
    end = text.index("[schedule]")
    return text[:start] + section + "\n" + text[end:]


def test_the_embedded_config_serves_the_dashboard_on_localhost_8700() -> None:
    assert load_config().dashboard.listen == "127.0.0.1:8700"


@pytest.mark.parametrize("section, words", [
    ('[dashboard]\nlisten = "8700"', "dashboard.listen: must be HOST:PORT"),
    ('[dashboard]\nlisten = "127.0.0.1:70000"', "dashboard.listen: must be HOST:PORT"),
    ('[dashboard]\nrefresh_hz = 0', "dashboard.refresh_hz: must be 0.1..30"),
    ('[dashboard]\nrefresh_hz = 1000', "dashboard.refresh_hz: must be 0.1..30"),
    ('[dashboard]\nport = 1', "dashboard.port: unknown field"),
    ('[dashboard]\nreports_dir = 5', "dashboard.reports_dir"),
    ('[dashboard]\nreports_dir = "a\\u0000b"', "dashboard.reports_dir: a directory path"),
])
def test_a_bad_dashboard_section_is_refused_naming_the_field(section: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_text(_with_dashboard(section))


def test_an_empty_listen_means_no_dashboard() -> None:
    cfg = parse_text(_with_dashboard('[dashboard]\nlisten = ""'))
    args = up.build_parser().parse_args([])
    assert dashboard_listen(cfg, args) == ""


def test_up_flags_override_or_disable_the_config() -> None:
    cfg = load_config()
    assert dashboard_listen(cfg, up.build_parser().parse_args([])) == "127.0.0.1:8700"
    assert dashboard_listen(cfg, up.build_parser().parse_args(["--dashboard", "0.0.0.0:9999"])) == "0.0.0.0:9999"
    assert dashboard_listen(cfg, up.build_parser().parse_args(["--no-dashboard"])) == ""


@pytest.mark.parametrize("argv", [["--dashboard", "nope"], ["--dashboard", "h:99999"]])
def test_a_bad_dashboard_flag_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        up.build_parser().parse_args(argv)
    assert exc.value.code == 2 and "expected HOST:PORT" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [(["--listen", "x"], "expected HOST:PORT"),
                                         (["--refresh-hz", "fast"], "invalid float")])
def test_the_dashboard_verb_refuses_bad_arguments(argv: list[str], words: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        process.build_parser().parse_args(argv)
    assert exc.value.code == 2 and words in capsys.readouterr().err


def test_the_dashboard_verb_refuses_a_refresh_rate_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert process.main(["--refresh-hz", "500"]) == 2
    assert "--refresh-hz must be 0.1..30" in capsys.readouterr().err


def test_a_taken_dashboard_port_stops_up_before_it_starts_anything() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        cfg = load_config()
        taken = ports_in_use(cfg, f"127.0.0.1:{port}")
        assert any(t.startswith(f"dashboard.listen 127.0.0.1:{port}") for t in taken), taken
        assert not any("dashboard" in t for t in ports_in_use(cfg, ""))


def test_a_bad_session_key_file_stops_the_dashboard_with_the_reason(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k.key"
    key.write_bytes(b"short")
    key.chmod(0o600)
    assert process.main(["--listen", "127.0.0.1:0", "--session-key-file", str(key)]) == 2
    assert "--session-key-file" in (err := capsys.readouterr().err) and "5 bytes" in err


def test_a_bad_deployment_file_stops_the_index_with_the_reason(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert process.main(["--deployment", str(tmp_path / "none.json")]) == 2
    assert "--deployment" in capsys.readouterr().err
    bad = tmp_path / "deployment.json"
    bad.write_text("{not json")
    assert process.main(["--deployment", str(bad)]) == 2
    assert "not JSON" in capsys.readouterr().err
    bad.write_text('{"venues": "LITA"}')
    assert process.main(["--deployment", str(bad)]) == 2
    assert "written by up --config MULTI.toml" in capsys.readouterr().err

