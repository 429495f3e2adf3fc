"""The shell's rendering (gateway/control/shell_render.py): engine units shown as prices a person
reads, tables with the reply's rows, a readable fallback for replies of unknown shape, and JSON
lines that keep the raw integers."""
from __future__ import annotations

import json

from rich.console import Console

from gateway.control.shell_commands import Catalog, Instrument, parse
from gateway.control.shell_render import Formats, error_line, generic, json_line, render

CAT = Catalog(instruments=(Instrument(1, "ACME"), Instrument(2, "GLOBX")), accounts=(1, 2, 3))
STATUS = {"venue": "demo", "engine": {"alive": True, "seq": 42},
          "instruments": [{"id": 1, "symbol": "ACME", "phase": "continuous", "last": 1000100,
                           "ref": 1000000, "tick": 100},
                          {"id": 2, "symbol": "GLOBX", "phase": "halted", "last": None,
                           "ref": 250005, "tick": 5}],
          "sessions_connected": 1, "alerts_open": 0}
FMT = Formats.from_status(STATUS)


def text(line: str, data: object, fmt: Formats = FMT) -> str:
    cmd = parse(line, CAT)
    assert cmd is not None
    console = Console(width=140, record=True, file=open("/dev/null", "w"), color_system=None)
    console.print(render(cmd, data, CAT, fmt))
    return console.export_text()


def test_prices_use_the_scale_and_the_ticks_decimals() -> None:
    assert FMT.price(1000100, 1) == "100.01"
    assert FMT.price(1000100, "ACME") == "100.01"
    assert FMT.price(250005, "GLOBX") == "25.0005"       # tick 5 at 1/10000: four decimals
    assert FMT.price(1234567, "ACME") == "123.4567"      # an average price off the grid: exact
    assert FMT.price(None) == "-"
    assert Formats().price(1500000) == "150.00"
    assert Formats(price_scale=100).price(12345) == "123.45"
    assert FMT.money(-123450000) == "-12,345.00"


def test_status_shows_engine_instruments_and_phases() -> None:
    out = text("status", STATUS)
    assert "demo" in out and "yes" in out and "seq 42" in out
    acme = next(line for line in out.splitlines() if "ACME" in line)
    assert "continuous" in acme and "100.01" in acme and "100.00" in acme
    globx = next(line for line in out.splitlines() if "GLOBX" in line)
    assert "halted" in globx and "25.0005" in globx


def test_status_says_the_engine_counters_are_since_its_start() -> None:
    """A restarted engine recovered through seq 40 counts its own commands from 0: the row says
    so (it read "seq 40  commands 0  events 0" before, which looks like a lost journal)."""
    out = text("status", {**STATUS, "engine": {"alive": True, "seq": 40, "commands": 0, "events": 0,
                                               "events_seen": 58}})
    row = next(line for line in out.splitlines() if line.startswith("engine"))
    assert "seq 40  commands since its start 0  events since its start 0" in row
    assert "events read by the control plane 58" in row


def test_book_is_a_ladder_best_first() -> None:
    out = text("book ACME", {"instrument": "ACME", "bids": [[1000000, 300, 2], [999900, 50, 1]],
                             "asks": [[1000100, 1200, 3]]})
    rows = [line for line in out.splitlines() if "100.0" in line or "99.99" in line]
    assert "300" in rows[0] and "100.00" in rows[0] and "100.01" in rows[0] and "1,200" in rows[0]
    assert "99.99" in rows[1] and "50" in rows[1]
    assert "book ACME" in out
    assert "(empty book)" in text("book ACME", {"instrument": 1, "bids": [], "asks": []})


def test_orders_and_positions_tables() -> None:
    out = text("orders 1", [{"order_id": 7, "instrument": "ACME", "side": "buy", "price": 999900,
                             "qty": 100, "leaves": 40, "type": "limit", "tif": "day"}])
    row = next(line for line in out.splitlines() if " 7 " in line or line.strip().startswith("7"))
    assert "ACME" in row and "99.99" in row and "40" in row and "day" in row
    assert "no live orders" in text("orders 1", [])
    out = text("positions", [{"account": 1, "instrument": 1, "position": -200, "avg_price": 1000050,
                              "realized_pnl": 150000, "unrealized_pnl": -20000}])
    row = next(line for line in out.splitlines() if "ACME" in line)
    assert "-200" in row and "100.005" in row and "15.00" in row and "-2.00" in row


def test_latency_in_microseconds() -> None:
    out = text("latency", {"gateway_to_engine": {"p50_ns": 850, "p99_ns": 4200, "p999_ns": 15000,
                                                 "max_ns": 250000, "count": 12345}})
    row = next(line for line in out.splitlines() if "gateway_to_engine" in line)
    assert "850 ns" in row and "4.2 µs" in row and "250.0 µs" in row and "12,345" in row


def test_a_stage_without_samples_shows_no_figures() -> None:
    """A fresh venue's stages have count 0: '-', never '0 ns' (a latency nobody measured)."""
    out = text("latency", {"end_to_end": {"p50_ns": 0, "p99_ns": 0, "p999_ns": 0, "max_ns": 0, "count": 0}})
    row = next(line for line in out.splitlines() if "end_to_end" in line)
    assert "0 ns" not in row and row.split()[1:] == ["-", "-", "-", "-", "0"]


def test_writes_say_ok() -> None:
    assert text("halt ACME", None).strip() == "halt: ok"
    assert "risk set account: ok" in text("risk set account 1 max_position 5", {"previous": 10})


def test_unexpected_shapes_fall_back_to_a_generic_rendering() -> None:
    out = text("risk show", [{"account": 1, "var": 1.5e6, "limits": {"var_limit": 5e9}}])
    assert "account" in out and "var_limit" in out
    out = text("book ACME", {"unexpected": True})
    assert "unexpected" in out and "yes" in out
    out = text("journal", {"dir": "/j", "durability": "group", "segments": 3, "last_seq": 99,
                           "snapshots": [{"seq": 50, "path": "/j/snap-50", "bytes": 4096}]})
    assert "/j/snap-50" in out and "4,096" in out and "group" in out
    console = Console(width=100, record=True, file=open("/dev/null", "w"), color_system=None)
    console.print(generic({"a": {"b": 1}, "rows": [{"x": 1}, {"x": 2, "y": "z"}]}))
    out = console.export_text()
    assert "a.b" in out and "rows" in out and "z" in out


def test_error_line_names_the_command_and_the_reason() -> None:
    assert error_line("halt", "forbidden", "viewer may not halt") == \
        "halt: refused (forbidden): viewer may not halt"
    assert error_line("kill", "engine_reject", "BAD_ACCOUNT") == \
        "kill: rejected by the engine (engine_reject): BAD_ACCOUNT"
    assert error_line("status", "internal", "") == "status: failed (internal)"


def test_json_lines_keep_raw_units() -> None:
    obj = json.loads(json_line("book ACME", True, "ok", data={"bids": [[1000000, 5, 1]]}, command="book"))
    assert obj == {"statement": "book ACME", "command": "book", "ok": True, "code": "ok",
                   "message": "", "data": {"bids": [[1000000, 5, 1]]}}


def test_parent_orders_table() -> None:
    rows = [{"id": 1, "algo": "TWAP", "side": "buy", "account": 1, "instrument": 1, "qty": 4000, "filled": 1500,
             "target_now": 1600.4, "working": 100, "state": "working", "avg_price": 100.0123,
             "shortfall_bps": 1.234, "participation": 0.081, "process": "running", "order": {"qty": 4000}}]
    out = text("parent list", rows)
    assert "parent orders" in out and "TWAP" in out and "ACME" in out
    assert "1,500" in out and "1,600" in out and "+1.23" in out and "8.1%" in out and "100.0123" in out
    assert "no parent orders" in text("parent", [])
    failed = [dict(rows[0], state="failed", process="gone", failure="its process (pid 7) exited with code 2")]
    out = text("parent list", failed)
    assert "failed" in out and "exited with code 2" in out


def test_parent_orders_table_without_failures_says_none() -> None:
    out = text("parent list", [{"id": 1, "algo": "TWAP", "state": "working", "failure": None}])
    assert "failed:" not in out
