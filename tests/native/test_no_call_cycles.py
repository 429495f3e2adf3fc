"""No call cycles between the C files of native/ (a file that calls another must not be called
back by it, directly or around a loop): each file is compiled alone (cc -c -O0, no inlining
across files) and its undefined symbols are matched with the files that define them (nm), which
is the linker's own view of who calls whom. The cycles this used to find (matching: eng_book <->
eng_expiry, eng_book -> eng_stops -> eng_match -> eng_book, eng_orders <-> eng_risk; journal:
jrnl_log <-> jrnl_spare, jrnl_prune <-> jrnl_snapshot; gateway: gw_engine <-> gw_sweep, the event
loop <-> its I/O backends; md: the AF_XDP receive and transmit sides) were broken by giving each
concern its own file; the test fails if one comes back or a new one appears."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
# Cycles allowed for now: none (the last, gw_engine <-> gw_sweep, ended when the command side of
# gw_engine.c became gw_submit.c).
KNOWN: list[frozenset[str]] = []


def _compile(cc: str, src: Path, out: Path, includes: list[str]) -> tuple[Path, Path, str]:
    obj = out / (src.relative_to(NATIVE).as_posix().replace("/", "__") + ".o")
    run = subprocess.run([cc, "-c", "-O0", "-std=gnu11", "-fno-strict-aliasing", *includes, str(src),
                          "-o", str(obj)], capture_output=True, text=True, timeout=300)
    return src, obj, run.stderr if run.returncode else ""


def _call_graph(tmp: Path) -> dict[str, set[str]]:
    cc = shutil.which("cc") or shutil.which("gcc")
    nm = shutil.which("nm")
    if cc is None or nm is None:
        pytest.skip("needs a C compiler and nm (binutils) to read the call graph")
    sources = sorted(p for p in NATIVE.rglob("*.c") if p.parent.name != "tests")
    includes = [f"-I{d}" for d in sorted({str(h.parent) for h in NATIVE.rglob("*.h")})]
    with ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda s: _compile(cc, s, tmp, includes), sources))
    failed = [f"{s.relative_to(NATIVE)}: {err}" for s, _, err in built if err]
    assert not failed, "\n".join(failed)
    defined: dict[str, str] = {}
    undefined: dict[str, set[str]] = {}
    for src, obj, _ in built:
        name = src.relative_to(NATIVE).as_posix()
        for line in subprocess.run([nm, str(obj)], capture_output=True, text=True, check=True).stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = name
            elif len(parts) == 2 and parts[0] == "U":
                undefined.setdefault(name, set()).add(parts[1])
    return {f: {defined[s] for s in syms if s in defined and defined[s] != f} for f, syms in undefined.items()}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle_and_its_members() -> None:
    graph = {"a.c": {"b.c"}, "b.c": {"c.c"}, "c.c": {"a.c", "d.c"}, "d.c": set()}
    assert _cycles(graph) == [frozenset({"a.c", "b.c", "c.c"})]
    assert _cycles({"a.c": {"b.c"}, "b.c": set()}) == []


@pytest.mark.slow     # compiles every C file
def test_no_call_cycles_between_c_files(tmp_path: Path) -> None:
    graph = _call_graph(tmp_path)
    assert graph.get("matching/eng_orders.c"), "the call graph came out empty: nm or the build changed"
    unexpected = [sorted(c) for c in _cycles(graph) if c not in KNOWN]
    assert not unexpected, f"C files calling each other in a cycle: {unexpected}"
