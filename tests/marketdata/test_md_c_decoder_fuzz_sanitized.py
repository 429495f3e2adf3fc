"""The feed's C subscriber decoder (md_sub.c + md_book.c) under AddressSanitizer and
UndefinedBehaviorSanitizer: compiles the standalone harness native/tests/md_fuzz.c, feeds it a
valid packet stream and snapshot recorded from the real encoder, then a bounded, seeded number of
mutated packets, snapshots and messages; any sanitizer report, a status outside the contract or a
broken book invariant fails it."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.marketdata.encoder import Encoder, EncoderConfig
from native.engine import Engine
from tests.marketdata.session import command_records
from tests.native.streams import seeded_stream

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
CASES = 200_000
SEED = "0x6d646675"


def _compiler() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    pytest.skip("no C compiler (cc, gcc or clang) on PATH")


def _corpus(tmp_path: Path) -> tuple[Path, Path]:
    eng = Engine(max_orders=10_000, max_levels=4_000, max_instruments=3, max_accounts=8)
    enc = Encoder(EncoderConfig(max_instruments=8))
    first, count = enc.encode(eng.submit_records(command_records(seeded_stream(51, 3000))))
    packets = enc.pack(first, count)
    eng.close()
    pk = tmp_path / "packets.bin"
    pk.write_bytes(b"".join(len(p).to_bytes(4, "little") + p for p in packets))
    snap = tmp_path / "snapshot.bin"
    snap.write_bytes(enc.snapshot())
    return pk, snap


def test_c_decoder_survives_sanitized_fuzzing(tmp_path: Path) -> None:
    exe = tmp_path / "md_fuzz"
    build = subprocess.run(
        [_compiler(), "-std=gnu11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
         f"-I{NATIVE / 'layout'}", f"-I{NATIVE / 'md'}", str(NATIVE / "tests" / "md_fuzz.c"),
         str(NATIVE / "md" / "md_sub.c"), str(NATIVE / "md" / "md_book.c"), "-o", str(exe)],
        capture_output=True, text=True, timeout=120)
    if build.returncode != 0 and "sanitize" in build.stderr and "unrecognized" in build.stderr:
        pytest.skip(f"compiler lacks the sanitizers: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    pk, snap = _corpus(tmp_path)
    print(f"md_fuzz seed {SEED}, {CASES} cases")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1")
    run = subprocess.run([str(exe), "--cases", str(CASES), "--seed", SEED, str(pk), str(snap)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, f"md_fuzz failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    assert "runtime error" not in run.stderr and "AddressSanitizer" not in run.stderr, run.stderr[-4000:]
    assert "valid packets applied" in run.stdout and "ok (0 failures)" in run.stdout, run.stdout
