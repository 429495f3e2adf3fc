"""The C API's house rules, read from the sources of native/:

- every function a header declares (exported) has its contract comment: a comment right above
  it, or above the group of declarations it belongs to (no blank line between), stating what it
  returns, its errors and who owns what;
- no dead exports: every exported function is called from somewhere other than its own
  definition (another C file, an inline in a header, or Python through ``lib.NAME``);
- no exported function that no header declares (a symbol with no contract).

The generated SBE codec (native/gateway/sbe_codec.[ch]) is exempt from the dead-export rule: it
is a complete codec for the schema, written by scripts/generate_sbe.py."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
PROTO = re.compile(r"^(?!static\b|typedef\b|extern\b|#|\s|/|\*|})[A-Za-z_][\w \*]*?\b([a-z_][a-z0-9_]*)\s*\(")
DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \*]*?\b([a-z_][a-z0-9_]*)\s*\(([^;{]*?)\)\s*\{", re.M)
GENERATED = {"sbe_codec.c", "sbe_codec.h"}
PY_DIRS = ("gateway", "shm", "native", "bench", "tests", "trading", "tuning", "scripts")


def _headers() -> list[Path]:
    return sorted(NATIVE.rglob("*.h"))


def _c_sources() -> list[Path]:
    return sorted(p for p in NATIVE.rglob("*.c") if p.parent.name != "tests")


def _is_comment_end(line: str) -> bool:
    s = line.strip()
    return s.endswith("*/") or s.startswith("//")


def test_every_declared_function_has_a_contract_comment() -> None:
    missing = []
    for header in _headers():
        lines = header.read_text().splitlines()
        for i, line in enumerate(lines):
            m = PROTO.match(line)
            if not m:
                continue
            j = i - 1       # walk up over the declaration group (and continuation lines)
            while j >= 0 and lines[j].strip() and not _is_comment_end(lines[j]) \
                    and not lines[j].strip().startswith(("/*", "*")):
                j -= 1
            if j < 0 or not _is_comment_end(lines[j]):
                missing.append(f"{header.relative_to(ROOT)}:{i + 1}: {m.group(1)}")
    assert not missing, "declarations without a contract comment:\n" + "\n".join(missing)


def _definitions() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for src in _c_sources():
        for m in DEFINITION.finditer(src.read_text()):
            out.setdefault(m.group(1), src)
    return out


def _python_uses() -> set[str]:
    used: set[str] = set()
    for d in PY_DIRS:
        for py in (ROOT / d).rglob("*.py"):
            used |= set(re.findall(r"\blib\.([a-z_][a-z0-9_]*)", py.read_text()))
    return used


def test_no_dead_exports() -> None:
    sources = {p: p.read_text() for p in _c_sources()}
    headers = "\n".join(h.read_text() for h in _headers())
    python = _python_uses()
    dead = []
    for name, home in sorted(_definitions().items()):
        if home.name in GENERATED or name == "main" or name in python:
            continue
        word = re.compile(rf"\b{name}\b")
        elsewhere = any(word.search(text) for path, text in sources.items() if path != home)
        own_calls = len(word.findall(sources[home])) > 1
        inline_use = len(word.findall(headers)) > 1      # declared once, called by an inline
        if not (elsewhere or own_calls or inline_use):
            dead.append(f"{home.relative_to(ROOT)}: {name}")
    assert not dead, "exported functions nothing calls:\n" + "\n".join(dead)


def test_every_exported_function_is_declared_in_a_header() -> None:
    headers = "\n".join(h.read_text() for h in _headers())
    undeclared = [f"{home.relative_to(ROOT)}: {name}" for name, home in sorted(_definitions().items())
                  if name != "main" and not re.search(rf"\b{name}\s*\(", headers)]
    assert not undeclared, "exported functions no header declares:\n" + "\n".join(undeclared)
