"""A client that stops reading is disconnected with SLOW_CONSUMER once its bounded outbound buffer
fills, instead of growing the gateway's memory; other sessions keep trading meanwhile."""
from __future__ import annotations

import socket
from pathlib import Path

from gateway.client import ExecType, OrderRequest, Side
from gateway.client.session import SessionCore

from .gw_venue import KEYS, start_venue

BATCH = 500
MAX_ORDERS = 200_000


def test_client_that_stops_reading_is_disconnected(tmp_path: Path) -> None:
    for v in start_venue(tmp_path, ["--tx-buffer-bytes", "4096"]):
        firm, key = KEYS[101]
        core = SessionCore(101, firm, key.encode(), 60000)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # before connect: the window
        sock.connect(("127.0.0.1", v.port))
        sock.settimeout(10)
        sock.sendall(core.negotiate() + core.establish())
        req = OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1, account_id=1, price=9000)
        sent = 0
        dropped = False
        # Every order makes one ExecutionReport for this session, which never reads: the kernel
        # buffers fill, then the gateway's 4 KiB buffer, then the gateway drops the connection.
        while sent < MAX_ORDERS and not dropped:
            try:
                sock.sendall(b"".join(core.new_order(req, sent + i + 1) for i in range(BATCH)))
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                dropped = True
            sent += BATCH
        assert dropped, f"still connected after {sent} orders"
        other = v.connect(201)
        other.new_order(1, Side.SELL, 1, 3, price=20000)
        assert other.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
        v.gateway.terminate()
        assert v.gateway.wait(30) == 0
        err = v.gateway.stderr.read() if v.gateway.stderr else ""
        assert " 1 slow consumers" in err, err
