"""``python -m gateway delay-line``: the delay line in front of one venue, a TCP proxy that applies
the venue's latency profile to the traffic routed to it.

How: clients connect to the venue's order-entry port (port_base + 1); for each connection the
proxy opens one to the venue's gateway and copies bytes both ways on real sockets. Each chunk read
from the client is held for a delay drawn from a lognormal distribution with the profile's mean and
99th percentile (gateway/venues/config.py: lognormal_params), then written to the venue: a real
sleep (time.sleep, so the precision is the kernel's timer slack plus scheduling, tens of
microseconds on an idle host, more on a loaded one). Chunks keep their order: a chunk is never
sent before the one read before it (its due time is at least the previous chunk's), as on one TCP
path. The venue's answers come back undelayed: the profile is the one-way delay to the venue.
Delays are drawn from numpy's PCG64 seeded with (seed, connection number, counting connections
that sent data), so a run's draws are reproducible; the venue connection opens at the client's
first byte, so a connection that closes without one (a reachability probe) costs the venue nothing. On SIGTERM it prints one JSON line: per connection count, the configured mean and
P99, and the delays it actually applied (mean, P99), measured read -> write.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gateway.cli_numbers import seed as seed_arg
from gateway.cli_paths import os_error_line, output_file
from gateway.venues.config import MAX_P99_OVER_AVG, lognormal_params

CHUNK = 65536


class DelayModel:
    """Seeded one-way delays in seconds, lognormal with mean avg_us and 99th percentile p99_us."""

    def __init__(self, avg_us: float, p99_us: float, seed: int) -> None:
        self.mu, self.sigma = lognormal_params(avg_us, p99_us)
        self.fixed = avg_us if self.sigma == 0.0 else None
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def draw_s(self) -> float:
        if self.fixed is not None:
            return self.fixed * 1e-6
        return float(self.rng.lognormal(self.mu, self.sigma)) * 1e-6


@dataclass
class Applied:
    """The delays actually applied (read from the client -> written to the venue), seconds."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    delays: list[float] = field(default_factory=list)

    def add(self, delay_s: float) -> None:
        with self.lock:
            self.delays.append(delay_s)

    def summary(self) -> dict[str, float | int]:
        with self.lock:
            d = np.array(self.delays)
        if not len(d):
            return {"chunks": 0}
        return {"chunks": int(len(d)), "mean_us": float(d.mean() * 1e6),
                "p99_us": float(np.percentile(d, 99) * 1e6), "max_us": float(d.max() * 1e6)}


def _to_venue(client: socket.socket, venue: socket.socket, model: DelayModel, applied: Applied,
              first: bytes) -> None:
    """Reads the client (`first`: its first chunk, already read), queues each chunk with its due
    time; a second thread sends it when due."""
    pending: queue.Queue[tuple[float, float, bytes] | None] = queue.Queue()

    def sender() -> None:
        while (item := pending.get()) is not None:
            read_at, due, chunk = item
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)          # the delay line's delay itself
            try:
                venue.sendall(chunk)
            except OSError:
                break
            applied.add(time.monotonic() - read_at)
        _shutdown(venue, socket.SHUT_WR)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    last_due = 0.0
    chunk = first
    try:
        while chunk:
            now = time.monotonic()
            last_due = max(last_due, now + model.draw_s())
            pending.put((now, last_due, chunk))
            chunk = client.recv(CHUNK)
    except OSError:
        pass
    pending.put(None)
    t.join()


def _to_client(venue: socket.socket, client: socket.socket) -> None:
    try:
        while chunk := venue.recv(CHUNK):
            client.sendall(chunk)
    except OSError:
        pass
    _shutdown(client, socket.SHUT_WR)


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass


@dataclass
class Models:
    """One DelayModel per connection that sends data, seeded with (seed, its number in that order):
    a connection closed before its first byte (the consolidator's reachability probe) neither
    draws nor counts, so a client's delays do not depend on when probes came."""
    seed: int
    avg_us: float
    p99_us: float
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> DelayModel:
        with self.lock:
            self.count += 1
            return DelayModel(self.avg_us, self.p99_us, self.seed * 1_000_003 + self.count)


def serve_connection(client: socket.socket, target: tuple[str, int], models: Models, applied: Applied) -> None:
    """The venue connection is opened at the client's first byte (a client speaks first in FIXP)."""
    try:
        first = client.recv(CHUNK)
    except OSError:
        first = b""
    if not first:
        client.close()
        return
    model = models.next()
    try:
        venue = socket.create_connection(target, timeout=5.0)
    except OSError:
        client.close()             # the venue is down: the client sees its connection closed
        return
    venue.settimeout(None)
    for s in (client, venue):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_to_client, args=(venue, client), daemon=True)
    back.start()
    _to_venue(client, venue, model, applied, first)
    back.join()
    client.close()
    venue.close()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway delay-line", description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT clients connect to")
    ap.add_argument("--target", required=True, help="HOST:PORT of the venue's gateway")
    ap.add_argument("--avg-us", type=float, required=True)
    ap.add_argument("--p99-us", type=float, required=True)
    ap.add_argument("--seed", type=seed_arg, default=1)
    ap.add_argument("--port-file", type=output_file, default=None,
                    help="write the port listened on here once listening")
    args = ap.parse_args(argv)
    try:
        listen, target = _address(args.listen), _address(args.target)
        if not 0 <= args.avg_us <= args.p99_us:
            raise ValueError(f"need 0 <= --avg-us <= --p99-us, got {args.avg_us}, {args.p99_us}")
        if args.p99_us > MAX_P99_OVER_AVG * args.avg_us and args.avg_us > 0:
            raise ValueError(f"--p99-us at most {MAX_P99_OVER_AVG} x --avg-us (lognormal), got {args.p99_us}")
    except ValueError as exc:
        print(f"delay-line: {exc}", file=sys.stderr)
        return 2
    try:
        server = socket.create_server(listen)
    except OSError as exc:
        print(f"delay-line: cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr)
        return 1
    server.settimeout(0.2)
    if args.port_file:               # whole or absent: written aside, then renamed
        try:
            Path(f"{args.port_file}.tmp").write_text(str(server.getsockname()[1]))
            os.replace(f"{args.port_file}.tmp", args.port_file)
        except OSError as exc:
            print(f"delay-line: --port-file {os_error_line(exc)}", file=sys.stderr)
            server.close()
            return 1
    print(f"delay-line: {args.listen} -> {args.target}, one-way delay lognormal avg {args.avg_us} us, "
          f"P99 {args.p99_us} us, seed {args.seed}", flush=True)
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__(0, True))
    applied = Applied()
    models = Models(args.seed, args.avg_us, args.p99_us)
    while not stop[0]:
        try:
            client, _ = server.accept()
        except TimeoutError:
            continue
        client.settimeout(None)
        threading.Thread(target=serve_connection, args=(client, target, models, applied), daemon=True).start()
    server.close()
    print(json.dumps({"delay_line": {"connections": models.count, "avg_us": args.avg_us, "p99_us": args.p99_us,
                                     "applied": applied.summary()}}), flush=True)
    return 0


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r}: expected HOST:PORT")
    return host, int(port)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
