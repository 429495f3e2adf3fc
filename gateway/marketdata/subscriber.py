"""Subscriber library: receive the order-by-order feed (UDP or ZeroMQ), apply it in sequence to a
FeedBook, recover gaps from the retransmission server, join late from a snapshot; and a Level 2 /
Level 1 subscriber for the conflated channel with numpy depth arrays.

Recovery rules (MoldUDP64): a packet that starts after the next needed seq is a gap; the missing
range is requested, applied, and the packet offered again. A range the server no longer holds, or a
feed that contradicts the book, means resync from a snapshot. Malformed datagrams are counted,
logged and skipped; they never stop the subscriber.
"""
from __future__ import annotations

import logging
import time
from typing import Protocol

import numpy as np

from gateway.marketdata.book import FeedBook
from gateway.marketdata.decoder import decode_packet
from gateway.marketdata.errors import BookError, MalformedError, NotAvailableError
from gateway.marketdata.recovery import RecoveryClient
from native._venue import lib

log = logging.getLogger("gateway.marketdata")

MD_GAP = int(lib.MD_GAP)
MD_END = int(lib.MD_END_OF_SESSION)


class PacketSource(Protocol):
    def recv(self, timeout_s: float) -> bytes | None: ...


class Subscriber:
    def __init__(self, source: PacketSource, recovery: RecoveryClient | None, session: str = "VENUE",
                 late_join: bool = False, max_orders: int = 200_000, max_levels: int = 20_000,
                 max_instruments: int = 64) -> None:
        self.source = source
        self.recovery = recovery
        self.book = FeedBook(session, max_orders, max_levels, max_instruments)
        self.malformed = 0
        self.recovered_messages = 0
        self.resyncs = 0
        self.ended = False
        self.snapshot_seq: int | None = None
        self.last_error = ""
        if late_join:
            self.resync()

    def resync(self) -> None:
        """Replaces the book with a snapshot; live packets then apply from its seq on."""
        if self.recovery is None:
            raise BookError("resync needs a recovery server", int(lib.MD_E_BOOK))
        self.book.apply_snapshot(self.recovery.snapshot())
        self.snapshot_seq = self.book.next_seq - 1
        self.resyncs += 1

    def poll(self, timeout_s: float = 0.0, max_packets: int = 10_000) -> int:
        """Processes the datagrams available (waiting up to timeout_s for the first). Returns the
        number of packets taken from the source."""
        n = 0
        wait = timeout_s
        while n < max_packets:
            pkt = self.source.recv(wait)
            if pkt is None:
                break
            wait = 0.0
            n += 1
            self.offer(pkt)
        return n

    def offer(self, pkt: bytes) -> None:
        try:
            status, first, count = self.book.apply_packet(pkt)
            if status == MD_GAP:
                self._recover(first)
                self.book.apply_packet(pkt)
            elif status == MD_END:
                self.ended = True
        except MalformedError as exc:
            self.malformed += 1
            self.last_error = str(exc)
            log.warning("market data: dropped a malformed datagram: %s", exc)
        except BookError as exc:
            log.error("market data: %s; resyncing from a snapshot", exc)
            self.resync()

    def _recover(self, up_to_seq: int) -> None:
        """Fetches and applies [next_seq, up_to_seq)."""
        if self.recovery is None:
            raise BookError(f"gap before seq {up_to_seq} and no recovery server", int(lib.MD_E_BOOK))
        while self.book.next_seq < up_to_seq:
            first = self.book.next_seq
            count = min(up_to_seq - first, int(lib.MD_RQ_MAX_COUNT))
            try:
                packets = self.recovery.retransmit(first, count)
            except NotAvailableError as exc:
                log.warning("market data: %s; resyncing from a snapshot", exc)
                self.resync()
                return
            for p in packets:
                self.book.apply_packet(p)
            self.recovered_messages += self.book.next_seq - first
            if self.book.next_seq == first:
                raise BookError(f"retransmission of {first}.. applied nothing", int(lib.MD_E_BOOK))


class DepthSubscriber:
    """The conflated Level 2 / Level 1 channel: per instrument the last depth as numpy arrays
    (schema.DEPTH_LEVEL records, bids and asks best first) and the last BBO record. Each message
    carries full state, so a lost datagram is only counted: the next update repairs it."""

    def __init__(self, source: PacketSource, session: str = "VENUEL2") -> None:
        self.source = source
        self.session = session
        self.bids: dict[int, np.ndarray] = {}
        self.asks: dict[int, np.ndarray] = {}
        self.bbo: dict[int, np.void] = {}
        self.next_seq = 1
        self.lost_messages = 0
        self.malformed = 0

    def poll(self, timeout_s: float = 0.0, max_packets: int = 10_000) -> int:
        n = 0
        wait = timeout_s
        while n < max_packets:
            pkt = self.source.recv(wait)
            if pkt is None:
                break
            wait = 0.0
            n += 1
            try:
                decoded = decode_packet(pkt, session=self.session)
            except MalformedError as exc:
                self.malformed += 1
                log.warning("market data L2: dropped a malformed datagram: %s", exc)
                continue
            if decoded.sequence_number < self.next_seq:
                continue
            self.lost_messages += decoded.sequence_number - self.next_seq
            self.next_seq = decoded.sequence_number + decoded.message_count
            for m in decoded.messages:
                inst = int(m.record["instrument_id"])
                if m.type == "DEPTH" and m.levels is not None:
                    nb = int(m.record["bid_levels"])
                    self.bids[inst] = m.levels[:nb]
                    self.asks[inst] = m.levels[nb:]
                elif m.type == "BBO":
                    self.bbo[inst] = m.record
        return n


def wait_for_seq(sub: Subscriber, seq: int, timeout_s: float = 10.0) -> None:
    """Polls until the subscriber has applied every message before `seq`."""
    deadline = time.monotonic() + timeout_s
    while sub.book.next_seq < seq:
        if time.monotonic() > deadline:
            raise TimeoutError(f"subscriber did not reach seq {seq} within {timeout_s}s "
                               f"(at {sub.book.next_seq}, stats {sub.book.stats()})")
        sub.poll(0.05)


