"""A live venue for the market-data tests: ``python -m gateway engine`` and ``python -m gateway md
publish --engine`` as real subprocesses, commands submitted through shm.client, and a reference
in-process engine fed the same commands with the seq and ts_ns the live engine gave them (the
engine is deterministic in (command, seq, ts_ns)), so the live engine's book is known after every
command without stopping it."""
from __future__ import annotations

import json
import signal
import subprocess
from typing import Any, Iterator

import msgspec
import numpy as np

from native import records
from native.messages import AddInstrument, Command
from native.engine import Engine
from shm.client import REPLY_DTYPE, EngineClient
from gateway import launcher

DEADLINE_S = 30.0
BOOT_INSTRUMENT = 4         # booted by the engine itself; the random streams add 1..3
BOOT_CONFIG = f"{BOOT_INSTRUMENT}:BOOT:1:1:10000"   # what `--instruments 4` boots (defaults)


def first_adds(cmds: list[Command]) -> dict[int, AddInstrument]:
    """The ADD_INSTRUMENT that creates each instrument (streams repeat some; those are refused)."""
    out: dict[int, AddInstrument] = {}
    for c in cmds:
        if isinstance(c, AddInstrument):
            out.setdefault(int(c.instrument_id), c)
    return out


def instruments_arg(cmds: list[Command]) -> str:
    """The publisher's --instruments for the booted instrument and those a stream adds (MD1: the
    publisher is configured with the values the engine gets)."""
    items = [BOOT_CONFIG]
    for c in first_adds(cmds).values():
        items.append(f"{c.instrument_id}:S{c.instrument_id}:{c.tick_size}:{c.lot_size}:{c.reference_price}")
    return ",".join(items)


class LiveEngine:
    """An engine process (its Venue also runs the publishers started for it) and an in-process
    reference engine fed the same commands with the live engine's seq and ts_ns."""

    def __init__(self, wait: str = "backoff", cpu: int | None = None) -> None:
        self.venue = launcher.Venue(prefix="md")
        self.name = self.venue.name
        argv = ["--instruments", f"{BOOT_INSTRUMENT}", "--producers", "2", "--no-mlock", "--wait", wait,
                "--max-orders", "100000", "--max-levels", "20000"]
        if cpu is not None:
            argv += ["--cpu", str(cpu)]
        self.proc = self.venue.start_engine(*argv, deadline_s=DEADLINE_S)
        self.reference = Engine(max_orders=100_000, max_levels=20_000, max_instruments=BOOT_INSTRUMENT,
                                max_accounts=1024)
        self.client = EngineClient(self.name)

    def submit(self, cmds: list[Command]) -> np.ndarray:
        """Submits to the live engine, then to the reference with the live seq / ts_ns stamps.
        Returns the replies."""
        raw = self.client.submit_records(records.encode_commands(cmds))
        head = raw.view(np.uint8).reshape(len(cmds), -1)[:, :REPLY_DTYPE.itemsize].copy() \
            .view(REPLY_DTYPE).reshape(-1)
        stamped = [msgspec.structs.replace(c, seq=int(h["seq"]), ts_ns=int(h["ts_ns"])) for c, h in zip(cmds, head)]
        self.reference.submit_records(records.encode_commands(stamped))
        return head

    def close(self) -> None:
        self.client.close()
        self.venue.close()
        self.reference.close()


class LivePublisher:
    """``python -m gateway md publish --engine NAME`` as a subprocess; its first stdout line names
    the recovery port and the ZeroMQ endpoint, its last line is a JSON object of its stats."""

    def __init__(self, engine: LiveEngine, instruments: str, *extra: str,
                 prefix: tuple[str, ...] = ()) -> None:
        """prefix: e.g. `ip netns exec NS` to run it in another network namespace."""
        argv = [*prefix, *launcher.gateway_command("md", "publish", "--engine", engine.name,
                                                   "--recovery-port", "0", "--instruments",
                                                   instruments, "--duration-s", "600", *extra)]
        self.proc = engine.venue.spawn("publisher", argv, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "recovery on" not in line:
            self.proc.kill()
            raise AssertionError(f"publisher did not start: {line!r} {self.proc.stderr.read()}")
        self.start_line = line          # "publishing PATH: TRANSPORT NOTE; zmq ...; recovery on ..."
        host, port = line.rsplit("recovery on ", 1)[1].strip().rsplit(":", 1)
        self.recovery = (host, int(port))
        self.zmq = line.split("zmq ", 1)[1].split(";", 1)[0]

    def stop(self) -> dict[str, Any]:
        """SIGTERM; returns the stats the publisher printed."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, f"publisher exit {self.proc.returncode}: {err}"
        return dict(json.loads(out.strip().splitlines()[-1])["md_publisher_stats"])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def live_venue(instruments: str, *publisher_args: str) -> Iterator[tuple[LiveEngine, LivePublisher]]:
    eng = LiveEngine()
    try:
        pub = LivePublisher(eng, instruments, *publisher_args)
        try:
            yield eng, pub
        finally:
            pub.kill()
    finally:
        eng.close()

