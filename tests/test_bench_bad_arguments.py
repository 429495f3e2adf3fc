"""Every bench refuses a meaningless argument before it measures anything: exit 2, the reason on
the last line of stderr, no traceback (qa4's sweep of ``python bench/NAME.py --help``). Before:
``--trades 0`` / ``--parents 0`` ran the default size in silence (``args.n or DEFAULT``), ``--rate
0``, ``--seconds 0`` and ``--dma-latency-us -1`` started a run, ``--cpus abc`` and ``--rates abc``
were ValueError tracebacks, ``--value-us`` above 2^31-1 a struct.error, ``--lobster`` naming a
missing file was skipped in silence, a file that is not a LOBSTER day a traceback after the
synthetic parts, and ``tca --keep DIR`` replaced DIR/journal whatever it held. The shared
``type=`` callables are gateway/cli_numbers.py's, checked here directly too. The error is one line
(qa6): every bench installs gateway/cli_errors.py's one-line usage errors, as the verbs do; before,
argparse printed its usage block above it."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli_numbers import cpu_pair, dma_latency_us, int_list, non_negative_float, positive_float, positive_int

REPO = Path(__file__).resolve().parents[1]

CASES = [
    (["tca.py", "--trades", "0"], "argument --trades: must be >= 1, got 0"),
    (["tca.py", "--keep", "FILE"], "exists and is not a directory"),
    (["tca.py", "--keep", "KEEP"], "holds files that are not a journal's"),
    (["routing.py", "--parents", "0"], "argument --parents: must be >= 1, got 0"),
    (["tuning.py", "--value-us", "-1"], "argument --value-us: must be >= 0"),
    (["tuning.py", "--value-us", "99999999999"], "must be at most 2147483647 us"),
    (["tuning.py", "--cpus", "abc"], "expected two CPUs like 0,1"),
    (["rings.py", "--cpus", "0,99999"], "expected two of this process's CPUs"),
    (["engine.py", "--lobster", "MISSING"], "--lobster"),
    (["engine.py", "--lobster", "FILE"], "not a LOBSTER message file"),
    (["analytics.py", "--data", "BAD_message_1.csv"], "expected 6 columns"),
    (["wire.py", "--seconds", "0"], "argument --seconds: must be > 0"),
    (["wire.py", "--rates", "abc"], "--rates: not a whole number: 'abc'"),
    (["wire.py", "--dma-latency-us", "-1"], "argument --dma-latency-us: must be >= 0"),
    (["wire_passive.py", "--iterations", "0"], "argument --iterations: must be >= 1, got 0"),
    (["marketdata.py", "--rate", "nan"], "argument --rate: must be a finite number"),
    (["marketdata.py", "--throughput-commands", "0"], "must be >= 1, got 0"),
    (["journal_files.py", "--dir", "FILE"], "argument --dir: '{tmp}/FILE' exists and is not a directory"),
    (["journal_files.py", "--dir", "MISSING"], "argument --dir: '{tmp}/MISSING': no such directory"),
]


@pytest.mark.parametrize("argv, words", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_bench_refuses_a_meaningless_argument_before_measuring(argv: list[str], words: str,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "FILE").write_text("not, a, lobster, day\n")
    keep = tmp_path / "KEEP" / "journal"
    keep.mkdir(parents=True)
    (keep / "notes.txt").write_text("mine")
    (tmp_path / "BAD_message_1.csv").write_text("a,b,c\n")
    (tmp_path / "BAD_orderbook_1.csv").write_text("1,2,3,4\n")
    args = [str(tmp_path / a) if a in ("FILE", "KEEP", "MISSING", "BAD_message_1.csv") else a for a in argv[1:]]
    run = subprocess.run([sys.executable, str(REPO / "bench" / argv[0]), "--quick", *args], capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    assert run.returncode == 2, run
    words = words.replace("{tmp}", str(tmp_path))
    assert "Traceback" not in run.stderr and words in run.stderr.strip().splitlines()[-1], run.stderr
    # one line, not argparse's usage block before it (gateway/cli_errors.py, as the verbs do)
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert (keep / "notes.txt").read_text() == "mine"


BENCHES_WITH_OPTIONS = sorted(p for p in (REPO / "bench").glob("*.py") if "argparse.ArgumentParser(" in p.read_text())


@pytest.mark.parametrize("bench", BENCHES_WITH_OPTIONS, ids=[p.name for p in BENCHES_WITH_OPTIONS])
def test_every_bench_reports_a_bad_argument_in_one_line(bench: Path) -> None:
    """Each bench installs the one-line usage errors before it builds its parser (a parser built
    before would print argparse's usage block above the error)."""
    text = bench.read_text()
    assert "one_line_usage_errors()" in text, f"{bench.name} does not call one_line_usage_errors()"
    assert text.index("one_line_usage_errors()") < text.index("argparse.ArgumentParser("), bench.name


def test_an_unknown_option_is_one_line() -> None:
    run = subprocess.run([sys.executable, str(REPO / "bench" / "tuning.py"), "--no-such-option"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 2 and run.stderr.strip().splitlines() == [
        "tuning.py: error: unrecognized arguments: --no-such-option (see tuning.py --help)"], run.stderr


@pytest.mark.parametrize("fn, text", [
    (positive_int, "0"), (positive_int, "-3"), (positive_int, "1.5"), (positive_float, "0"),
    (positive_float, "nan"), (positive_float, "inf"), (non_negative_float, "-0.5"), (dma_latency_us, str(2**31)),
    (int_list, "10,,20"), (int_list, "5,-1"), (cpu_pair, "0"), (cpu_pair, "0,1,2"), (cpu_pair, "a,b"),
])
def test_the_shared_number_types_refuse(fn: object, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        fn(text)  # type: ignore[operator]


def test_the_shared_number_types_accept() -> None:
    assert positive_int("7") == 7 and positive_float("0.25") == 0.25 and non_negative_float("0") == 0.0
    assert dma_latency_us("0") == 0 and int_list("10000, 50000") == [10000, 50000]
    cpu = min(os.sched_getaffinity(0))
    assert cpu_pair(f"{cpu},{cpu}") == (cpu, cpu)
