"""The market-data recovery server (in the real ``md publish`` process) against hostile
neighbours on the same host: hundreds of connections held open past the process's descriptor
limit, and clients that request snapshots and retransmissions and never read the answers. Through
both, a subscriber that loses datagrams (so needs recovery) rebuilds the engine's book after every
command, with no permanent gap. Today's code lost its recovery thread to EMFILE for good, and
served one stalled client at a time (blocking sends with a 2 s timeout each)."""
from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import sys
from typing import Any, Iterator

from gateway.marketdata.recovery import RecoveryClient, encode_request
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import UdpChannel, UdpReceiver
from native._venue import lib
from tests.marketdata.live import BOOT_INSTRUMENT, LiveEngine, instruments_arg
from tests.marketdata.session import book_mismatches, free_udp_port
from tests.native.streams import seeded_stream
from gateway.launcher import wait_for

STREAM_INSTRUMENTS = [1, 2, 3]
PUBLISHER_NOFILE = 96       # descriptors the publisher may hold: the hoarders exceed it


def _publisher(engine: str, instruments: str, udp_port: int, nofile: int) -> tuple[subprocess.Popen[str], tuple[str, int]]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    argv = [sys.executable, "-m", "gateway", "md", "publish", "--engine", engine, "--recovery-port", "0",
            "--instruments", instruments, "--duration-s", "600", "--udp", f"127.0.0.1:{udp_port}",
            "--heartbeat-ms", "5", "--drop-fraction", "0.05"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "recovery on" not in line:
        proc.kill()
        raise AssertionError(f"publisher did not start: {line!r} {proc.communicate()[1]}")
    host, port = line.rsplit("recovery on ", 1)[1].strip().rsplit(":", 1)
    return proc, (host, int(port))


@contextlib.contextmanager
def _venue(seed: int) -> Iterator[tuple[Any, subprocess.Popen[str], tuple[str, int], Subscriber, list[Any]]]:
    cmds = seeded_stream(seed, 600)
    port = free_udp_port()
    with contextlib.ExitStack() as stack:
        eng = LiveEngine()
        stack.callback(eng.close)
        proc, recovery = _publisher(eng.name, instruments_arg(cmds), port, PUBLISHER_NOFILE)
        stack.callback(lambda: (proc.kill(), proc.wait(10)))
        source = UdpReceiver(UdpChannel("127.0.0.1", port))
        stack.callback(source.close)
        rec = RecoveryClient(recovery, "VENUE", timeout_s=10.0)
        stack.callback(rec.close)
        yield eng, proc, recovery, Subscriber(source, rec, max_instruments=BOOT_INSTRUMENT), cmds


def _play(eng: Any, proc: subprocess.Popen[str], sub: Subscriber, cmds: list[Any], start: int, stop: int) -> None:
    for i in range(start, stop):
        eng.submit([cmds[i]])
        wait_for(lambda: not book_mismatches(eng.reference, sub.book, STREAM_INSTRUMENTS),
                 f"the subscriber's book to equal the engine's after command {i}", 20.0,
                 lambda: sub.poll(0.001), watch={"publisher": proc})


def test_descriptor_exhaustion_leaves_recovery_serving() -> None:
    with _venue(71) as (eng, proc, recovery, sub, cmds):
        _play(eng, proc, sub, cmds, 0, 100)
        hoarders: list[socket.socket] = []
        try:
            for _ in range(3 * PUBLISHER_NOFILE):       # connect and hold, never send
                s = socket.socket()
                s.settimeout(5)
                try:
                    s.connect(recovery)
                except OSError:
                    s.close()
                    continue
                hoarders.append(s)
            _play(eng, proc, sub, cmds, 100, len(cmds))
            assert sub.recovered_messages > 0          # the loss was repaired by recovery
            fresh = RecoveryClient(recovery, "VENUE", timeout_s=10.0)
            try:
                assert fresh.retransmit(1, 5)
            finally:
                fresh.close()
        finally:
            for s in hoarders:
                s.close()
        assert proc.poll() is None


def test_clients_that_never_read_stall_only_themselves() -> None:
    with _venue(72) as (eng, proc, recovery, sub, cmds):
        _play(eng, proc, sub, cmds, 0, 300)
        ask = (encode_request("VENUE", lib.MD_RQ_SNAPSHOT)
               + encode_request("VENUE", lib.MD_RQ_RETRANSMIT, 1, 60000)) * 8
        stallers: list[socket.socket] = []
        try:
            for _ in range(40):
                s = socket.create_connection(recovery, timeout=5)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(ask)
                stallers.append(s)
            _play(eng, proc, sub, cmds, 300, len(cmds))
            assert sub.recovered_messages > 0
        finally:
            for s in stallers:
                s.close()
        assert proc.poll() is None
