"""The order path allocates nothing and touches no new page: measured, not assumed.

A child process runs with an LD_PRELOAD shim that counts every malloc-family call, creates an
engine (where all allocation belongs), warms it up, then feeds it N realistic commands (the demo's
flow: adds, cancels, replaces, IOC and market orders, icebergs, stops) in one C call, for a small
and a large N. The number of allocations and of minor page faults during that call must not grow
with N: the engine's memory was all allocated and prefaulted in eng_create."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CHILD = r"""
import json, resource, sys, ctypes
import numpy as np
from native._venue import ffi, lib
from native import records
from gateway.demo.flow import DemoFlow

counter = ctypes.CDLL(None).venue_test_alloc_calls
counter.restype = ctypes.c_ulong
cmds = records.encode_commands(DemoFlow(seed=7, orders_per_instrument=12_000).session())
warm, rest = cmds[:5_000], cmds[5_000:]
cfg = ffi.new("eng_config_t *", {"max_orders": 1 << 18, "max_levels": 1 << 15,
                                 "max_instruments": 8, "max_accounts": 64})
engp = ffi.new("eng_engine_t **")
assert lib.eng_create(cfg, engp) == 0
eng = engp[0]
result = ffi.new("eng_bench_result_t *")
lib.eng_bench_run(eng, ffi.cast("eng_cmd_t *", ffi.from_buffer(warm)), len(warm), ffi.NULL, result)
out = {}
for n in (1_000, len(rest) - 1_000):
    chunk = np.ascontiguousarray(rest[:n]) if n == 1_000 else np.ascontiguousarray(rest[1_000:])
    ptr = ffi.cast("eng_cmd_t *", ffi.from_buffer(chunk))
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    calls0 = counter()
    lib.eng_bench_run(eng, ptr, n, ffi.NULL, result)
    calls1 = counter()
    faults1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    out[str(n)] = {"alloc_calls": calls1 - calls0, "minor_faults": faults1 - faults0,
                   "events": int(result.events)}
lib.eng_destroy(eng)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the allocation-counting shim")
    lib = tmp_path_factory.mktemp("shim") / "count_alloc.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(lib),
                    str(HERE / "alloc_shim" / "count_alloc.c")], check=True)
    return lib


def test_processing_more_commands_allocates_nothing_more_and_faults_no_page(shim):
    env = {"LD_PRELOAD": str(shim), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    small, large = figures["1000"], [v for k, v in figures.items() if k != "1000"][0]
    assert large["events"] > 20 * small["events"] > 0, figures
    assert large["alloc_calls"] == small["alloc_calls"] == 0, figures
    # A page or two may be first touched by the interpreter or a deeper stack frame around the
    # call; a fault per message or per new order would show up as thousands here.
    assert large["minor_faults"] <= small["minor_faults"] + 2, figures
