"""Hands pyzmq's sockets to C: the addresses of libzmq's zmq_send / zmq_recv as cffi function
pointers, and a socket's native handle. The extension does not link libzmq; it must call the very
copy pyzmq loaded (a socket belongs to one libzmq instance), so the library is found among this
process's mappings rather than by name. After handing a socket over, Python must not use it until
the C side is done (ZeroMQ sockets are not thread-safe; a hand-over between threads is allowed).
"""
from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Any

import zmq

from native._venue import ffi


@lru_cache(maxsize=1)
def _libzmq() -> ctypes.CDLL:
    zmq.zmq_version()                           # makes sure pyzmq's backend (and libzmq) is loaded
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "libzmq" in path.rsplit("/", 1)[-1] and path.startswith("/"):
                # dlopen of an already-loaded path returns that same instance
                return ctypes.CDLL(path)
    raise RuntimeError("libzmq is not mapped into this process after importing pyzmq")


def send_fn() -> Any:
    return ffi.cast("md_zmq_send_fn", ctypes.cast(_libzmq().zmq_send, ctypes.c_void_p).value)


def recv_fn() -> Any:
    return ffi.cast("md_zmq_recv_fn", ctypes.cast(_libzmq().zmq_recv, ctypes.c_void_p).value)


def socket_handle(sock: zmq.Socket) -> Any:
    return ffi.cast("void *", sock.underlying)
