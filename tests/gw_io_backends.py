"""Runs every test that starts an order-entry gateway once per I/O backend of its C loop (epoll,
io_uring: native/gateway/gw_io.h): the order-entry suite, its hostile-input tests and the crash
tests are one suite for both.

How: an autouse fixture, gw_io_backend, is parametrised for the tests of the gateway-starting
modules (below) that start processes (tests/conftest.py's test), and sets VENUE_GW_IO_BACKEND,
which the gateway process takes as its --io-backend default (gateway/orderentry/io_backend.py).
The io_uring run skips with the reason where this kernel or process cannot run io_uring (the
gateway itself would fall back to epoll, which would test epoll twice).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
import inspect

import pytest

BACKENDS = ("epoll", "io_uring")
STARTS_GATEWAY = re.compile(r"start_venue\(|start_gateway\(|gw_venue|GatewayProc\(|\"gateway\", \"--engine\"")
PACKAGES = ("tests.gateway.", "tests.journal.", "tests.security.", "tests.latency.")


def _starts_gateway(metafunc: pytest.Metafunc) -> bool:
    module = metafunc.module
    if not module.__name__.startswith(PACKAGES):
        return False
    try:
        if not STARTS_GATEWAY.search(inspect.getsource(module)):
            return False
    except (OSError, TypeError):
        return False
    from tests.conftest import starts_processes
    return starts_processes(module, metafunc.function, set(metafunc.fixturenames))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test with an argument named `backend` picks the backend itself.
    if "backend" in metafunc.fixturenames:
        return
    if "gw_io_backend" in metafunc.fixturenames and _starts_gateway(metafunc):
        # Module scope: pytest runs a module's tests for one backend, then for the other, and a
        # module-scoped venue fixture that takes gw_io_backend is started once per backend (one
        # that did not would serve both runs from a gateway of the first backend, its state
        # carried over).
        metafunc.parametrize("gw_io_backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(autouse=True, scope="module")
def gw_io_backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    backend = getattr(request, "param", None)
    if backend is None:
        yield None
        return
    if backend == "io_uring":
        from gateway.orderentry.io_backend import io_uring_unavailable
        why = io_uring_unavailable()
        if why:
            pytest.skip(f"io_uring backend cannot run here: {why}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VENUE_GW_IO_BACKEND", backend)
        yield backend
