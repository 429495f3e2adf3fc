"""Marks the slow tests so that `python -m pytest -m "not slow"` runs a fast subset.

A test is slow when it starts processes (a venue's engine, gateway, `up`, a publisher: anything
through gateway.launcher or subprocess.Popen), builds C with a compiler (the sanitizer and
call-graph tests), or uses a fixture that does. The test's own source and the fixtures it uses
are read once at collection, so a new multi-process test is marked without anyone remembering
to; `@pytest.mark.slow` marks one by hand. The marker is declared in pyproject.toml."""
from __future__ import annotations

import inspect
import re
import sys
from types import ModuleType

import pytest

pytest_plugins = ["tests.gw_io_backends", "tests.shm_debris"]

STARTS_PROCESSES = re.compile(
    r"start_venue\(|start_engine\(|engine_proc|\bVenue\(|\bvenue\.spawn\(|\blive_venue\b|LiveEngine\(|"
    r"SplitVenue\(|subprocess\.Popen\(|gateway_command\(|_venue\(|shutil\.which\(\"c[c]\"\)|"
    r"shutil\.which\(\"gcc\"\)|\[sys\.executable, \"-m\", \"gateway\", \"(?:up|engine|gateway|md|demo)\"")
FIXTURE = re.compile(r"@pytest\.fixture[^\n]*\n(?:@[^\n]*\n)*def (\w+)\(.*?(?=\n@|\ndef |\nclass |\Z)", re.S)
BUILDS_C = re.compile(r"-fsanitize")          # a module that builds sanitized C: all its tests
_process_fixtures: dict[str, set[str]] = {}   # module name -> its fixtures that start processes
_builds_c: set[str] = set()


def _scan(module: ModuleType | None) -> None:
    if module is None or module.__name__ in _process_fixtures:
        return
    _process_fixtures[module.__name__] = set()
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return
    if BUILDS_C.search(source):
        _builds_c.add(module.__name__)
    for m in FIXTURE.finditer(source):
        if STARTS_PROCESSES.search(m.group(0)):
            _process_fixtures[module.__name__].add(m.group(1))


def _visible_fixture_modules(module_name: str) -> list[str]:
    """The module itself and the conftest modules of its package and the packages above it."""
    parts = module_name.split(".")
    return [module_name] + [".".join(parts[:k] + ["conftest"]) for k in range(1, len(parts))]


def _is_slow(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    function = getattr(item, "function", None)
    if module is None or function is None:
        return False
    if module.__name__ in _builds_c:
        return True
    return starts_processes(module, function, set(getattr(item, "fixturenames", ())))


def starts_processes(module: ModuleType, function: object, fixturenames: set[str]) -> bool:
    """The test function starts processes itself or through one of its fixtures."""
    for name in _visible_fixture_modules(module.__name__):
        _scan(sys.modules.get(name))
    try:
        if STARTS_PROCESSES.search(inspect.getsource(function)):
            return True
    except (OSError, TypeError):
        pass
    names = fixturenames
    homes = _visible_fixture_modules(module.__name__)
    for name in names:              # fixtures imported from a helper module (gw_venue's venue)
        home = getattr(getattr(module, name, None), "__module__", None)
        if home and home != module.__name__:
            _scan(sys.modules.get(home))
            homes.append(home)
    return any(names & _process_fixtures.get(m, set()) for m in homes)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None:
            for name in _visible_fixture_modules(module.__name__):
                _scan(sys.modules.get(name))
    for item in items:
        if item.get_closest_marker("slow") is None and _is_slow(item):
            item.add_marker(pytest.mark.slow)
