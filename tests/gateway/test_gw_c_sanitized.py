"""The gateway's C code (gw_*.c, fixp_session.c, with the codec and rings it calls) under
AddressSanitizer and UndefinedBehaviorSanitizer, end to end: native._venue is rebuilt with the
sanitizers into a temporary directory, the gateway process runs on it (libasan preloaded into
Python), and a seeded, bounded workload drives it over real TCP in front of a normal engine
process: every order type and time in force, cancels and replaces (own and another firm's), mass
cancels, retransmission, admin disconnect and reconnect, then malformed frames and random bytes on
fresh connections. Any sanitizer report aborts the gateway (-fno-sanitize-recover, ASan's
default halt), so the test requires it alive throughout, a clean stop (exit 0) and no report in
its stderr."""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.client import (Client, ClientTimeout, ConnectionClosed, ExecutionReport, OrderFlags,
                            OrderRequest, OrdType, Side, Terminate, TimeInForce)
from gateway.orderentry.admin import GatewayAdmin
from gateway.orderentry.sbe_codec import Encoder

from .gw_venue import Venue, start_venue

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
SEED = 0x6A7E
ORDERS = 600            # application messages of the trading phase
BAD_CONNECTIONS = 120   # connections that send malformed frames or junk
SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
             "-fno-omit-frame-pointer"]

_BUILD = """
import sys
from pathlib import Path
from cffi import FFI
sys.path.insert(0, sys.argv[2])
from native import build_ffi as b
ffi = FFI()
ffi.cdef(b.cdef_text())
ffi.set_source("native._venue", "\\n".join(f'#include "{h.name}"' for h in b._headers()),
               sources=[str(b.NATIVE_DIR.parent / p) for p in b.sources()],
               include_dirs=b.include_dirs(), libraries=b.LIBRARIES,
               extra_compile_args=["-std=gnu11", "-fno-strict-aliasing", "-O1", "-g", *sys.argv[3:]],
               extra_link_args=sys.argv[3:4])
ffi.compile(tmpdir=sys.argv[1])
"""


def _sanitized_env(tmp: Path) -> dict[str, str]:
    """Builds the sanitized native package under tmp; the environment that makes Python use it."""
    tmp.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC") or "gcc"
    if not shutil.which(cc):
        pytest.skip(f"no C compiler {cc!r} on PATH")
    libasan = subprocess.run([cc, "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
    if not os.path.isabs(libasan) or not os.path.exists(libasan):
        pytest.skip(f"{cc} has no libasan.so to preload into Python (AddressSanitizer missing)")
    probe = subprocess.run([cc, *SAN_FLAGS, "-x", "c", "-", "-o", str(tmp / "probe")],
                           input="int main(void){return 0;}", capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{cc} lacks the sanitizers: {probe.stderr.strip()[:200]}")
    build = subprocess.run([sys.executable, "-c", _BUILD, str(tmp), str(ROOT), *SAN_FLAGS],
                           capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, CC=cc))
    assert build.returncode == 0, build.stderr[-4000:]
    for py in NATIVE.glob("*.py"):                  # the package's Python beside the built module
        shutil.copy(py, tmp / "native" / py.name)
    # libstdc++ preloaded too: ASan must find the real __cxa_throw at start-up, or the first C++
    # exception of a library the gateway imports (matplotlib via the latency report) aborts it.
    libstdcxx = subprocess.run([cc, "-print-file-name=libstdc++.so.6"], capture_output=True,
                               text=True).stdout.strip()
    preload = " ".join(p for p in (libasan, libstdcxx) if os.path.isabs(p))
    return dict(os.environ, LD_PRELOAD=preload, PYTHONPATH=f"{tmp}{os.pathsep}{ROOT}",
                ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1",
                UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def _random_order(rng: random.Random, account: int) -> OrderRequest:
    kind = rng.randrange(8)
    inst = rng.choice([1, 2])
    side = rng.choice([Side.BUY, Side.SELL])
    px = 10000 + 5 * rng.randint(-10, 10)
    qty = rng.randint(1, 6)
    if kind == 0:
        return OrderRequest(inst, side, qty, account, price=px)
    if kind == 1:
        return OrderRequest(inst, side, qty, account, price=px,
                            time_in_force=rng.choice([TimeInForce.IMMEDIATE_OR_CANCEL,
                                                      TimeInForce.FILL_OR_KILL]))
    if kind == 2:
        return OrderRequest(inst, side, qty, account, ord_type=OrdType.MARKET,
                            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
    if kind == 3:
        return OrderRequest(inst, side, qty, account, ord_type=OrdType.STOP, stop_px=px)
    if kind == 4:
        return OrderRequest(inst, side, qty, account, ord_type=OrdType.STOP_LIMIT, stop_px=px,
                            price=px)
    if kind == 5:
        return OrderRequest(inst, side, 6, account, price=px, display_qty=2,
                            flags=OrderFlags.ICEBERG)
    if kind == 6:
        return OrderRequest(inst, side, qty, account, price=px, flags=OrderFlags.POST_ONLY)
    return OrderRequest(inst, side, qty, account, price=px, time_in_force=TimeInForce.GOOD_TILL_CANCEL)


def _drain(c: Client, order_ids: list[tuple[int, int]]) -> None:
    """Reads what has arrived, remembering order ids to cancel or replace later."""
    while True:
        try:
            m = c.recv(timeout_s=0.0)
        except ClientTimeout:
            return
        if isinstance(m, ExecutionReport):
            order_ids.append((m.order_id, m.instrument_id))


def _trade(venue: Venue, rng: random.Random, admin_endpoint: str) -> None:
    clients = {101: venue.connect(101), 201: venue.connect(201)}
    accounts = {101: 1, 201: 3}
    ids: list[tuple[int, int]] = []
    for i in range(ORDERS):
        sid = rng.choice([101, 201])
        c = clients[sid]
        op = rng.random()
        if op < 0.7 or not ids:
            c.submit(_random_order(rng, accounts[sid]))
        elif op < 0.85:
            oid, inst = rng.choice(ids)
            c.cancel(oid, inst)                     # may be the other firm's: NOT_OWNER
        elif op < 0.97:
            oid, inst = rng.choice(ids)
            c.replace(oid, inst, 10000 + 5 * rng.randint(-10, 10), rng.randint(1, 6))
        else:
            c.mass_cancel(instrument_id=rng.choice([None, 1, 2]))
        c.recv(timeout_s=30)                        # every message gets at least one answer
        for other in clients.values():
            _drain(other, ids)
    got = clients[101].retransmit(1, 20, timeout_s=30)
    assert len(got) == 20
    with GatewayAdmin(admin_endpoint, timeout_s=30) as adm:
        assert adm.disconnect(201, "sanitizer run: operator kick")["was_connected"]
        assert {r["session_id"]: r["connected"] for r in adm.sessions()}[201] is False
    back = venue.connect(201)
    back.mass_cancel()
    for c in (clients[101], back):
        c.terminate(timeout_s=30)


def _bad_frames(venue: Venue, rng: random.Random) -> None:
    enc = Encoder()
    for i in range(BAD_CONNECTIONS):
        if i % 3 == 0:                              # junk before any handshake
            s = socket.create_connection(("127.0.0.1", venue.port), timeout=30)
            s.sendall(rng.randbytes(rng.randint(1, 3000)))
            s.shutdown(socket.SHUT_WR)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
            s.close()
            continue
        c = venue.connect(103)
        frame = bytearray(enc.encode(_random_order(rng, 1).message(c.core.next_seq_out, 0, i + 1)))
        kind = rng.randrange(5)
        if kind == 0:                               # a length the framer or decoder refuses
            struct.pack_into("<I", frame, 0, rng.choice([0, 5, 13, 14, 30, 1025, 2**32 - 1]))
        elif kind == 1:                             # truncated body, consistent length
            cut = rng.randint(14, len(frame) - 1)
            frame = frame[:cut]
            struct.pack_into("<I", frame, 0, cut)
        elif kind == 2:                             # header fields: template, schema, version
            struct.pack_into("<H", frame, rng.choice([8, 10, 12]), rng.randrange(0x10000))
        elif kind == 3:                             # random bytes over the body
            for _ in range(rng.randint(1, 8)):
                frame[rng.randrange(14, len(frame))] = rng.randrange(256)
        else:                                       # valid frame split across writes
            frame = frame + bytes(frame)
        c.send_raw(bytes(frame))
        try:
            msg = c.recv(timeout_s=30)
        except (ClientTimeout, ConnectionClosed):
            msg = None
        if isinstance(msg, Terminate) or msg is None:
            c.close()
        else:
            c.terminate(timeout_s=30)


def test_gateway_c_code_is_clean_under_asan_and_ubsan(tmp_path: Path) -> None:
    env = _sanitized_env(tmp_path / "san")
    rng = random.Random(SEED)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for venue in start_venue(run_dir, ["--admin", "tcp://127.0.0.1:*",
                                       "--admin-file", str(run_dir / "admin")],
                             gateway_env=env, gateway_cwd=tmp_path / "san"):
        maps = Path(f"/proc/{venue.gateway.pid}/maps").read_text()
        assert "san/native/_venue" in maps and "libasan" in maps, [ln for ln in maps.splitlines() if "venue" in ln or "asan" in ln]
        _trade(venue, rng, (run_dir / "admin").read_text())
        assert venue.alive(), venue.gateway.stderr.read()  # type: ignore[union-attr]
        _bad_frames(venue, rng)
        assert venue.alive(), venue.gateway.stderr.read()  # type: ignore[union-attr]
        venue.gateway.send_signal(signal.SIGTERM)
        rc = venue.gateway.wait(120)
        err = venue.gateway.stderr.read()  # type: ignore[union-attr]
        assert rc == 0, err[-4000:]
        assert "AddressSanitizer" not in err and "runtime error" not in err, err[-4000:]
        [stopped] = [ln for ln in err.splitlines() if ln.startswith("gateway: stopped (rc 0)")]
        print(stopped)
        # The workload reached the paths it is meant to: reports, rejects, decoder refusals.
        for what in ("business rejects", "decode errors", "terminates"):
            assert f" 0 {what}" not in stopped, stopped
