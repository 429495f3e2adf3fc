"""With the engine and the publisher as real processes (the publisher's C loop reading the
engine's broadcast log) and orders submitted through shm.client, a subscriber's rebuilt L3 and L2
books equal the engine's after every command of a seeded random session: over UDP, over ZeroMQ,
with a share of the live datagrams dropped (gap recovery over TCP), and for a late joiner (snapshot).
The publisher's own derivation agrees with every BOOK_LEVEL the engine emitted, and the directory
carries the configured instrument values (MD1)."""
from __future__ import annotations

import contextlib
import json
import signal
from typing import Any

import pytest

from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import UdpChannel, UdpReceiver, ZmqReceiver
from gateway.launcher import LaunchError, wait_for
from tests.marketdata.live import BOOT_INSTRUMENT, first_adds, instruments_arg, live_venue
from tests.marketdata.session import book_mismatches, free_udp_port
from tests.native.streams import seeded_stream

N_COMMANDS = 1500
STREAM_INSTRUMENTS = [1, 2, 3]


def _converged(eng: Any, sub: Subscriber, i: int, seed: int) -> None:
    def step() -> None:
        sub.poll(0.001)

    def same() -> bool:
        return not book_mismatches(eng.reference, sub.book, STREAM_INSTRUMENTS)

    try:
        wait_for(same, f"the subscriber's book to equal the engine's after command {i}", 10.0, step)
    except LaunchError as exc:
        raise AssertionError(f"seed {seed} command {i}: "
                             f"{book_mismatches(eng.reference, sub.book, STREAM_INSTRUMENTS)} "
                             f"(subscriber stats {sub.book.stats()})") from exc
    sub.book.check()


@pytest.mark.parametrize("mode,seed", [("udp", 31), ("zmq", 32), ("udp-loss", 33), ("udp-late", 34)])
def test_live_subscriber_book_equals_engine_after_every_command(mode: str, seed: int) -> None:
    cmds = seeded_stream(seed, N_COMMANDS)
    port = free_udp_port()
    args = ["--udp", f"127.0.0.1:{port}", "--heartbeat-ms", "5"]
    if mode == "zmq":
        args += ["--no-udp", "--zmq", "tcp://127.0.0.1:0"]
    if mode == "udp-loss":
        args += ["--drop-fraction", "0.05"]
    with contextlib.ExitStack() as stack:
        eng, pub = stack.enter_context(contextlib.contextmanager(live_venue)(instruments_arg(cmds), *args))
        rec = RecoveryClient(pub.recovery, "VENUE")
        stack.callback(rec.close)
        if mode == "zmq":
            source: Any = ZmqReceiver(pub.zmq)
            # the SUB socket connects asynchronously: the idle publisher's heartbeat shows it is on
            wait_for(lambda: source.recv(0.05) is not None, "a first ZeroMQ packet")
        else:
            source = UdpReceiver(UdpChannel("127.0.0.1", port))
        stack.callback(source.close)
        late = mode == "udp-late"
        split = len(cmds) // 2 if late else 0
        if late:
            eng.submit(cmds[:split])
        sub = Subscriber(source, rec, late_join=late, max_instruments=BOOT_INSTRUMENT)
        for i in range(split, len(cmds)):
            eng.submit([cmds[i]])
            _converged(eng, sub, i, seed)
        st = pub.stop()
    assert st["level_mismatches"] == 0 and st["unknown_orders"] == 0 and st["stray_pending"] == 0, st
    assert st["laps"] == 0 and st["send_errors"] == 0 and st["started_at_tail"] == 0, st
    assert sub.malformed == 0
    if mode == "udp-loss":
        assert st["packets_dropped"] > 0 and sub.recovered_messages > 0, (st, sub.recovered_messages)
    if late:
        assert sub.resyncs == 1 and sub.snapshot_seq is not None and sub.snapshot_seq > 0
    boot = sub.book.instrument(BOOT_INSTRUMENT)
    assert boot["known"] == 1 and boot["config_known"] == 1 and boot["symbol"] == b"BOOT", boot
    assert (boot["tick_size"], boot["lot_size"], boot["reference_price"]) == (1, 1, 10000), boot
    for iid, c in first_adds(cmds).items():
        got = sub.book.instrument(iid)
        assert got["config_known"] == 1 and got["symbol"] == f"S{iid}".encode(), got
        assert (got["tick_size"], got["lot_size"], got["reference_price"]) == \
            (c.tick_size, c.lot_size, c.reference_price), (got, c)


def test_publisher_ends_the_session_when_the_engine_stops() -> None:
    cmds = seeded_stream(35, 200)
    port = free_udp_port()
    with contextlib.ExitStack() as stack:
        eng, pub = stack.enter_context(contextlib.contextmanager(live_venue)(
            instruments_arg(cmds), "--udp", f"127.0.0.1:{port}", "--heartbeat-ms", "5"))
        source = UdpReceiver(UdpChannel("127.0.0.1", port))
        stack.callback(source.close)
        rec = RecoveryClient(pub.recovery, "VENUE")
        stack.callback(rec.close)
        sub = Subscriber(source, rec, max_instruments=BOOT_INSTRUMENT)
        eng.submit(cmds)
        _converged(eng, sub, len(cmds) - 1, 35)
        eng.client.close()
        eng.proc.send_signal(signal.SIGTERM)
        assert eng.proc.wait(30) == 0
        wait_for(lambda: sub.ended, "the end-of-session packet", 30.0, lambda: sub.poll(0.01))
        out, err = pub.proc.communicate(timeout=30)
        assert pub.proc.returncode == 0, err
        st = json.loads(out.strip().splitlines()[-1])["md_publisher_stats"]
        assert not book_mismatches(eng.reference, sub.book, STREAM_INSTRUMENTS)
    assert st["level_mismatches"] == 0 and st["laps"] == 0, st
