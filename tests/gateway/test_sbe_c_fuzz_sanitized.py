"""The C decoder and encoder under AddressSanitizer and UndefinedBehaviorSanitizer: compiles the
standalone harness native/tests/sbe_fuzz.c with the generated codec and runs a bounded, seeded
number of mutated frames plus the kept corpus; any sanitizer report aborts it with a non-zero exit."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.reasons import Reason

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = 300_000
SEED = "0x5be0eb50"


def _compiler() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    pytest.skip("no C compiler (cc, gcc or clang) on PATH")


def test_c_codec_survives_sanitized_fuzzing_and_decodes_the_corpus(tmp_path: Path) -> None:
    exe = tmp_path / "sbe_fuzz"
    build = subprocess.run(
        [_compiler(), "-std=gnu11", "-g", "-O1", "-Wall", "-Wextra", "-Werror",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
         f"-I{NATIVE / 'layout'}", f"-I{NATIVE / 'gateway'}", str(NATIVE / "tests" / "sbe_fuzz.c"),
         str(NATIVE / "gateway" / "sbe_codec.c"), "-o", str(exe)],
        capture_output=True, text=True, timeout=120)
    if build.returncode != 0 and "sanitize" in build.stderr and "unrecognized" in build.stderr:
        pytest.skip(f"compiler lacks the sanitizers: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    corpus_args = [f"{int(Reason[e['expect']])}:{CORPUS / e['file']}" for e in manifest]
    print(f"sbe_fuzz seed {SEED}, {CASES} cases")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    run = subprocess.run([str(exe), "--cases", str(CASES), "--seed", SEED, *corpus_args],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, f"sbe_fuzz failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    assert "runtime error" not in run.stderr and "AddressSanitizer" not in run.stderr, run.stderr[-4000:]
    assert f"{len(manifest)} corpus frames" in run.stdout and "ok (0 failures)" in run.stdout, run.stdout
