"""MD1: the engine's events do not carry an instrument's tick, lot and reference price, so the
publisher takes them from its own configuration (`md publish --instruments`, the values the engine
was started with) and sends the directory with config_known=1; without them the directory says
config_known=0 with zero fields. Bad --instruments values are refused with a clear message."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from gateway.marketdata.cli import parse_instruments
from gateway.marketdata.publisher import InstrumentInfo
from native.messages import AddInstrument
from tests.marketdata.session import Venue, command_records


def _add(instrument_id: int) -> AddInstrument:
    return AddInstrument(instrument_id=instrument_id, seq=instrument_id, ts_ns=instrument_id, tick_size=5,
                         lot_size=10, reference_price=10_000, market_collar_ticks=100)


def test_parse_instruments_reads_id_symbol_tick_lot_reference() -> None:
    assert parse_instruments("1:ABC:5:10:10000,2:XY:1:1:50") == (
        InstrumentInfo(1, "ABC", 5, 10, 10_000), InstrumentInfo(2, "XY", 1, 1, 50))


@pytest.mark.parametrize("text,message", [
    ("1:ABC:5:10", "use ID:SYMBOL:TICK:LOT:REF"),
    ("1:ABC:x:10:100", "must be integers"),
    ("1:TOOLONGSYM:1:1:100", "SYMBOL must be 1-8"),
    ("0:A:1:1:100", "must be >= 1"),
    ("1:A:1:1:100,1:B:1:1:100", "instrument ids repeat"),
])
def test_bad_instrument_config_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_instruments(text)


def test_publish_command_line_refuses_bad_instruments() -> None:
    run = subprocess.run([sys.executable, "-m", "gateway", "md", "publish", "--log", "/nonexistent",
                          "--instruments", "1:A:0:1:100"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "must be >= 1" in run.stderr, run.stderr


@pytest.mark.parametrize("configured", [True, False])
def test_directory_config_known_follows_the_publisher_configuration(configured: bool) -> None:
    venue = Venue("udp", max_instruments=2)
    try:
        if configured:
            venue.publisher.encoder.set_instrument(2, "CFG2", 5, 10, 10_000)
        sub = venue.subscriber()
        venue.step(command_records([_add(1), _add(2)]))
        venue.sync(sub)
        two, one = sub.book.instrument(2), sub.book.instrument(1)
        assert two["known"] == 1 and one["known"] == 1
        if configured:
            assert (two["config_known"], two["symbol"], two["tick_size"], two["lot_size"],
                    two["reference_price"]) == (1, b"CFG2", 5, 10, 10_000), two
        else:
            assert (two["config_known"], two["tick_size"], two["lot_size"],
                    two["reference_price"]) == (0, 0, 0, 0), two
        assert one["config_known"] == 0 and one["tick_size"] == 0, one
    finally:
        venue.close()
