"""Bad input at the gateway's socket (hypothesis, bounded, seeded): truncated frames, oversize
lengths, wrong encoding type, schema id or version, unknown templates, out-of-range enums and
random bytes. Each frame the gateway can delimit gets a BusinessMessageReject or a Terminate whose
reason is the decoder's; the gateway never crashes, and a bystander session's resting order and
its round trips are unaffected."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gateway.client import (BusinessMessageReject, Client, ClientTimeout, ConnectionClosed,
                            ExecType, ExecutionReport, OrderRequest, Side, Terminate)
from gateway.reasons import Reason
from gateway.orderentry.sbe_codec import Encoder

from .gw_venue import Venue, start_venue

NOS = OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1, account_id=1, price=9000)
ENC = Encoder()
DECODER_REASONS = {r for r in Reason if 900 <= r <= 912}


@pytest.fixture(scope="module")
def fuzz_venue(tmp_path_factory: pytest.TempPathFactory, gw_io_backend: str | None) -> Iterator[Venue]:
    # gw_io_backend: one venue per gateway I/O backend (tests/gw_io_backends.py)
    yield from start_venue(Path(tmp_path_factory.mktemp("fuzz")))


def _valid_frame(seq: int) -> bytearray:
    return bytearray(ENC.encode(NOS.message(seq, 0, seq)))


def _mutate(kind: str, data: st.DataObject, seq: int) -> tuple[bytes, set[int]]:
    """A bad frame of one kind and the reason codes it may be answered with."""
    f = _valid_frame(seq)
    if kind == "truncated":
        cut = data.draw(st.integers(14, len(f) - 1))
        f = f[:cut]
        struct.pack_into("<I", f, 0, cut)
        # The C framer refuses a length it can tell is too short for any message (902); longer
        # ones reach the decoder, which finds the block cut short (906/907).
        return bytes(f), {Reason.ENG_GW_FRAME_LENGTH, Reason.ENG_GW_BLOCK_LENGTH,
                          Reason.ENG_GW_BODY_TRUNCATED}
    if kind == "oversize":
        struct.pack_into("<I", f, 0, data.draw(st.integers(1025, 2**32 - 1)))
        return bytes(f), {Reason.ENG_GW_FRAME_LENGTH}
    if kind == "undersize":
        struct.pack_into("<I", f, 0, data.draw(st.integers(0, 13)))
        return bytes(f), {Reason.ENG_GW_FRAME_LENGTH}
    if kind == "encoding":
        struct.pack_into("<H", f, 4, data.draw(st.integers(0, 0xFFFF).filter(lambda v: v != 0xEB50)))
        return bytes(f), {Reason.ENG_GW_ENCODING_TYPE}
    if kind == "schema":
        struct.pack_into("<H", f, 10, data.draw(st.integers(0, 0xFFFF).filter(lambda v: v != 8601)))
        return bytes(f), {Reason.ENG_GW_SCHEMA_ID}
    if kind == "version":
        struct.pack_into("<H", f, 12, data.draw(st.sampled_from([0, 2, 3, 0xFFFF])))
        return bytes(f), {Reason.ENG_GW_SCHEMA_VERSION}
    if kind == "template":
        known = {1, 2, 3, 4, 10, 11, 12, 13, *range(500, 511)}
        struct.pack_into("<H", f, 8, data.draw(st.integers(0, 0xFFFF).filter(lambda v: v not in known)))
        return bytes(f), {Reason.ENG_GW_UNKNOWN_TEMPLATE}
    if kind == "enum":
        # side, ordType, timeInForce, stpMode sit at block offsets 76..79 (after 3 uint32 ids).
        off = 14 + data.draw(st.sampled_from([76, 77, 78, 79]))
        f[off] = data.draw(st.integers(9, 255))
        return bytes(f), {Reason.ENG_GW_BAD_ENUM}
    raise AssertionError(kind)


class Fuzzer:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.client: Client | None = None
        self.seq = 1

    def session(self) -> Client:
        if self.client is None or self.client.closed:
            self.client = self.venue.connect(103)
            self.seq = 1
        return self.client


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@seed(4242)
@given(kind=st.sampled_from(["truncated", "oversize", "undersize", "encoding", "schema",
                             "version", "template", "enum"]), data=st.data())
def _check_malformed(fz: Fuzzer, kind: str, data: st.DataObject) -> None:
    c = fz.session()
    frame, reasons = _mutate(kind, data, c.core.next_seq_out)
    c.send_raw(frame)
    msg = c.recv(timeout_s=10)
    if isinstance(msg, Terminate):
        c.close()
    assert isinstance(msg, (BusinessMessageReject, Terminate)), msg
    assert msg.reason_code in reasons, (kind, msg)
    assert fz.venue.alive()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@seed(4243)
@given(junk=st.binary(min_size=1, max_size=3000))
def _check_random_bytes(fz: Fuzzer, junk: bytes) -> None:
    c = fz.session()
    c.send_raw(junk)
    c.sock.shutdown(1)                 # nothing more: a partial frame ends at EOF
    try:
        while True:
            msg = c.recv(timeout_s=10)
            if isinstance(msg, Terminate):
                assert msg.reason_code in DECODER_REASONS | {Reason.ENG_GW_NOT_ESTABLISHED,
                                                             Reason.ENG_GW_ALREADY_NEGOTIATED}
                break
    except ConnectionClosed:
        pass                           # EOF after the gateway closed: also a clean end
    except ClientTimeout:
        raise AssertionError("the gateway neither answered nor closed after random bytes")
    c.close()
    assert fz.venue.alive()


def test_malformed_frames_get_a_reject_or_terminate_with_the_decoders_reason(
        fuzz_venue: Venue) -> None:
    bystander = fuzz_venue.connect(101)
    bystander.new_order(1, Side.SELL, 5, 1, price=15000)
    resting = bystander.recv()
    assert isinstance(resting, ExecutionReport)
    _check_malformed(Fuzzer(fuzz_venue))
    _check_random_bytes(Fuzzer(fuzz_venue))
    # The bystander's order is still live and its session still round-trips.
    bystander.new_order(1, Side.BUY, 1, 1, price=9000)
    assert bystander.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
    bystander.cancel(resting.order_id, 1)
    cxl = bystander.recv()
    assert isinstance(cxl, ExecutionReport) and cxl.exec_type == ExecType.CANCELED
    assert cxl.last_qty == 5
