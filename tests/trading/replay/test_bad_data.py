"""Malformed data files give an error naming the file, the row and the problem (LOBSTER and MBO),
and the command line turns it into one line and exit code 2."""
from __future__ import annotations

from pathlib import Path

import pytest

from trading.__main__ import main as trading_main
from trading.replay.data import DataError
from trading.replay.lobster import load_lobster
from trading.replay.mbo import load_mbo

GOOD = ["34200.01,1,11,100,5800000,1", "34200.02,1,12,100,5801000,-1", "34200.03,3,11,100,5800000,1"]


def _write(tmp_path: Path, rows: list[str], name: str = "X_2012-06-21_message_1.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("row, problem", [
    ("34200.025,1,13,100,5800000", "expected 6 columns, found 5"),
    ("34200.025,1,13,abc,5800000,1", "column 4 is not a number"),
    ("34200.025,1,13,100,5800050,1", "price 5800050 is off the tick grid (100)"),
    ("34200.005,1,13,100,5800000,1", "time goes backwards"),
    ("34200.025,9,13,100,5800000,1", "unknown message type 9"),
    ("34200.025,1,13,100,5800000,0", "direction 0 is neither 1 nor -1"),
    ("34200.025,1,13,-5,5800000,1", "size -5 must be positive"),
])
def test_lobster_bad_row_is_named(tmp_path, row, problem):
    path = _write(tmp_path, GOOD[:2] + [row] + GOOD[2:])
    with pytest.raises(DataError) as err:
        load_lobster(path)
    assert err.value.row == 3 and problem in str(err.value) and str(path) in str(err.value)


def test_lobster_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_lobster(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty file"):
        load_lobster(tmp_path / "empty.csv")


@pytest.mark.parametrize("load", [load_lobster, load_mbo])
def test_a_directory_or_a_device_is_no_data_file(tmp_path, load):
    with pytest.raises(DataError, match="a directory, not a data file"):
        load(tmp_path)
    with pytest.raises(DataError, match="not a regular file"):
        load(Path("/dev/null"))


def test_backtest_says_a_directory_is_not_a_data_file(tmp_path, capsys):
    assert trading_main(["backtest", "--data", str(tmp_path), "--strategy", "quote"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{tmp_path}: a directory, not a data file" in err[0], err


def test_lobster_orderbook_that_does_not_match(tmp_path):
    path = _write(tmp_path, GOOD)
    (tmp_path / "X_2012-06-21_orderbook_1.csv").write_text("5801000,100,5800000,100\n")
    with pytest.raises(DataError, match="1 rows but the message file has 3"):
        load_lobster(path)


MBO_HEADER = "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,price,size,channel_id,order_id,flags,ts_in_delta,sequence,symbol"


def _mbo(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "x.mbo.csv"
    path.write_text("\n".join([MBO_HEADER] + rows) + "\n")
    return path


def test_mbo_reads_adds_cancels_modifies_and_fills(tmp_path):
    path = _mbo(tmp_path, [
        "1,1000,160,1,7,R,N,0,0,0,0,8,0,1,XYZ",
        "2,2000,160,1,7,A,B,100.00,300,0,11,0,0,2,XYZ",
        "3,3000,160,1,7,A,A,100010000000,200,0,12,0,0,3,XYZ",
        "4,4000,160,1,7,M,B,100.00,200,0,11,0,0,4,XYZ",
        "5,5000,160,1,7,T,A,100.00,50,0,0,0,0,5,XYZ",
        "6,5000,160,1,7,F,B,100.00,50,0,11,0,0,6,XYZ",
        "7,6000,160,1,7,C,A,100.01,200,0,12,0,0,7,XYZ",
    ])
    day = load_mbo(path)
    assert day.symbol == "XYZ" and len(day) == 6 and day.notes == {"rows skipped (R)": 1}
    assert day.price.tolist() == [1_000_000, 1_000_100, 1_000_000, 1_000_000, 1_000_000, 1_000_100]
    assert day.ts_ns.tolist() == [2000, 3000, 4000, 5000, 5000, 6000]


@pytest.mark.parametrize("row, problem", [
    ("3,3000,160,1,7,A,B,100.00001,10,0,13,0,0,3,XYZ", "finer than 1/10000"),
    ("3,3000,160,1,7,A,B,100.005,10,0,13,0,0,3,XYZ", "price 1000050 is off the tick grid (100)"),
    ("3,3000,160,1,7,A,B,100.01,10,0,13,0,0,3", "expected 15 columns, found 14"),
    ("3,3000,160,1,7,Q,B,100.01,10,0,13,0,0,3,XYZ", "unknown action 'Q'"),
    ("3,3000,160,1,7,A,X,100.01,10,0,13,0,0,3,XYZ", "side 'X' is neither B nor A"),
    ("3,1000,160,1,7,A,B,100.01,10,0,13,0,0,3,XYZ", "time goes backwards"),
    ("3,3000,160,1,7,A,B,100.01,ten,0,13,0,0,3,XYZ", "bad value"),
])
def test_mbo_bad_row_is_named(tmp_path, row, problem):
    path = _mbo(tmp_path, ["2,2000,160,1,7,A,B,100.00,300,0,11,0,0,2,XYZ", row])
    with pytest.raises(DataError) as err:
        load_mbo(path)
    assert problem in str(err.value) and f"{path}:3" in str(err.value)


def test_backtest_command_line_reports_bad_data_in_one_line(tmp_path, capsys):
    path = _write(tmp_path, GOOD[:2] + ["34200.025,1,13,100,5800050,1"])
    assert trading_main(["backtest", "--data", str(path), "--strategy", "noop", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}:3: price 5800050 is off the tick grid" in err[0]


@pytest.mark.parametrize("args, message", [
    (["--strategy", "nope"], "unknown strategy 'nope'"),
    (["--strategy", "quote", "--param", "size=big"], "parameter 'size': 'big' is not a whole number"),
    (["--strategy", "quote", "--param", "colour=red"], "has no parameter 'colour'"),
    (["--strategy", "quote", "--param", "size"], "--param expects k=v"),
    (["--strategy", "quote", "--order-latency", "fast"], "not a duration: 'fast'"),
    (["--strategy", "quote", "--fees", "maker=cheap"], "'cheap' is not a number"),
    (["--strategy", "os.path"], "not a Strategy subclass"),
    (["--strategy", "quote", "--compute=-3us"], "cannot be negative"),
    (["--strategy", "quote", "--bogus"], "unrecognized arguments: --bogus"),
    # qa4's sweep: these ran and exited 0, or ended in a traceback
    (["--strategy", "noop", "--fees", "maker=nan"], "maker must be a finite number, got 'nan'"),
    (["--strategy", "noop", "--fees", "taker=inf"], "taker must be a finite number, got 'inf'"),
    (["--strategy", "noop", "--max-position", "-1"], "argument --max-position: must be >= 0, got -1"),
    (["--strategy", "noop", "--max-order-qty", "0"], "argument --max-order-qty: must be >= 1, got 0"),
    (["--strategy", "noop", "--out", "{file}"], "argument --out: '{file}' exists and is not a directory"),
    (["--strategy", "noop", "--order-latency", "nanus"], "a duration must be a finite number: 'nanus'"),
    (["--strategy", "noop", "--feed-latency", "infs"], "a duration must be a finite number: 'infs'"),
    (["--strategy", "noop", "--compute", "2d"], "not a duration: '2d'"),
    (["--strategy", "noop", "--order-latency", "1e300s"], "a duration is at most a day"),
    (["--strategy", "noop", "--seed", "-1"], "argument --seed: must be >= 0, got -1"),
    (["--strategy", "noop", "--tick", "0"], "argument --tick: must be >= 1, got 0"),
])
def test_backtest_command_line_rejects_bad_arguments(tmp_path, capsys, args, message):
    path = _write(tmp_path, GOOD)
    existing = tmp_path / "a_file"
    existing.write_text("")
    args = [a.replace("{file}", str(existing)) for a in args]
    message = message.replace("{file}", str(existing))
    assert trading_main(["backtest", "--data", str(path), "--out", str(tmp_path / "o")] + args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
