"""The order-entry gateway's socket paths, chosen at start-up: the I/O backend of the C loop
(epoll, or io_uring: native/gateway/gw_io.h) and busy-polling sockets (SO_BUSY_POLL,
SO_PREFER_BUSY_POLL). Each bypass is optional: where this kernel or process cannot run it, the
gateway runs the ordinary path and the start-up line says why.

The backend's default comes from the environment variable VENUE_GW_IO_BACKEND (so a test suite or
a supervisor can run every gateway it starts on one backend), else epoll.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from native._venue import ffi, lib

BACKENDS = {"epoll": lib.GW_IO_EPOLL, "io_uring": lib.GW_IO_URING}
ENV_BACKEND = "VENUE_GW_IO_BACKEND"
SO_BUSY_POLL = getattr(socket, "SO_BUSY_POLL", 46)
SO_PREFER_BUSY_POLL = 69
SO_INCOMING_NAPI_ID = 56


def default_backend() -> str:
    """VENUE_GW_IO_BACKEND when it names a backend, else epoll (a bad value is refused by the
    argument parser, which gets it as its default)."""
    return os.environ.get(ENV_BACKEND, "") or "epoll"


def io_uring_unavailable() -> str:
    """'' when the io_uring backend runs here, else why not (from a probe ring that goes through
    the operations the backend uses)."""
    why = ffi.new("char[]", 256)
    rc = lib.gw_io_uring_probe(why, 256)
    return "" if rc == 0 else ffi.string(why).decode(errors="replace")


@dataclass(frozen=True)
class IoChoice:
    backend: int            # lib.GW_IO_EPOLL / GW_IO_URING
    sqpoll_ms: int
    description: str        # for the start-up line


def choose_backend(requested: str, sqpoll_ms: int) -> IoChoice:
    """The backend to run: io_uring where it was asked for and runs here, else epoll with the
    reason."""
    if requested == "io_uring":
        why = io_uring_unavailable()
        if not why:
            return IoChoice(lib.GW_IO_URING, sqpoll_ms,
                            "io_uring" + (f" (SQPOLL, idle {sqpoll_ms} ms)" if sqpoll_ms else ""))
        return IoChoice(lib.GW_IO_EPOLL, 0, f"epoll (io_uring asked for, unavailable: {why})")
    return IoChoice(lib.GW_IO_EPOLL, 0, "epoll")


@dataclass(frozen=True)
class BusyPollChoice:
    us: int
    prefer: bool
    description: str


def choose_busy_poll(us: int, prefer: bool) -> BusyPollChoice:
    """Busy-polling client sockets where this process may set them (raising SO_BUSY_POLL above
    net.core.busy_read, and SO_PREFER_BUSY_POLL, need CAP_NET_ADMIN): tried on a probe socket."""
    if us <= 0:
        return BusyPollChoice(0, False, "no busy-poll sockets")
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, SO_BUSY_POLL, us)
        if prefer:
            probe.setsockopt(socket.SOL_SOCKET, SO_PREFER_BUSY_POLL, 1)
    except OSError as exc:
        return BusyPollChoice(0, False, f"no busy-poll sockets (SO_BUSY_POLL {us} us"
                              f"{' / SO_PREFER_BUSY_POLL' if prefer else ''} refused: "
                              f"{exc.strerror}; needs CAP_NET_ADMIN)")
    finally:
        probe.close()
    return BusyPollChoice(us, prefer, f"busy-poll sockets (SO_BUSY_POLL {us} us"
                          f"{', SO_PREFER_BUSY_POLL' if prefer else ''})")


def incoming_napi_id(sock: socket.socket) -> int:
    """SO_INCOMING_NAPI_ID of a connected socket: the NAPI context busy polling would spin on;
    0 where there is none (loopback has none, so busy polling there has nothing to poll)."""
    try:
        return int(sock.getsockopt(socket.SOL_SOCKET, SO_INCOMING_NAPI_ID))
    except OSError:
        return 0
