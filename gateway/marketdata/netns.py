"""Two network namespaces joined by a veth pair, made by the test or bench that uses them (root
only; tests/marketdata/test_xdp_feed_in_namespaces.py, bench/marketdata.py) and removed after: the publisher's side ("pub", 169.254.77.1) and the subscriber's ("sub",
169.254.77.2), one receive queue each so an AF_XDP socket on queue 0 sees everything.

Sockets keep the namespace they were created in, so one test process can hold the publisher's
sockets in one namespace and the subscriber's in the other: `inside(name)` switches the calling
thread (setns(2), CLONE_NEWNET) while the sockets are made, and back after.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
PUB_ADDR = "169.254.77.1"
SUB_ADDR = "169.254.77.2"
_libc = ctypes.CDLL(None, use_errno=True)


def why_no_netns() -> str:
    """'' when this process can make namespaces and veth pairs, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, XDP and AF_XDP)"
    if shutil.which("ip") is None:
        return "needs iproute2's ip"
    return ""


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _setns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


@dataclass
class VethPair:
    pub_ns: str
    sub_ns: str
    pub_if: str
    sub_if: str

    def exec_prefix(self, side: str) -> list[str]:
        """argv prefix that runs a process in the 'pub' or 'sub' namespace."""
        return ["ip", "netns", "exec", self.pub_ns if side == "pub" else self.sub_ns]

    @contextmanager
    def inside(self, side: str) -> Iterator[None]:
        """The calling thread in the 'pub' or 'sub' namespace for the block."""
        back = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(f"/run/netns/{self.pub_ns if side == 'pub' else self.sub_ns}")
            yield
        finally:
            try:
                if _libc.setns(back, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back to the test's namespace")
            finally:
                os.close(back)


@contextmanager
def veth_pair() -> Iterator[VethPair]:
    tag = uuid.uuid4().hex[:6]
    pair = VethPair(f"mdpub{tag}", f"mdsub{tag}", f"vp{tag}", f"vs{tag}")
    made: list[str] = []
    try:
        for ns in (pair.pub_ns, pair.sub_ns):
            _ip("netns", "add", ns)
            made.append(ns)
        _ip("link", "add", pair.pub_if, "numtxqueues", "1", "numrxqueues", "1", "type", "veth",
            "peer", "name", pair.sub_if, "numtxqueues", "1", "numrxqueues", "1")
        _ip("link", "set", pair.pub_if, "netns", pair.pub_ns)
        _ip("link", "set", pair.sub_if, "netns", pair.sub_ns)
        for ns, dev, addr in ((pair.pub_ns, pair.pub_if, PUB_ADDR), (pair.sub_ns, pair.sub_if, SUB_ADDR)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield pair
    finally:
        for ns in made:                 # deleting a namespace deletes its end of the pair too
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
