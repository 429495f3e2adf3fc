"""Reading the consolidator's feed: the latest NBBO update per instrument, its stats, and lost
updates counted from the sequence numbers."""
from __future__ import annotations

import logging

import msgspec
import zmq

from gateway.sip import messages

log = logging.getLogger("gateway.sip")


class SipSubscriber:
    def __init__(self, endpoint: str, context: "zmq.Context[zmq.Socket[bytes]] | None" = None) -> None:
        self._sock = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.SUBSCRIBE, b"")
        self._sock.connect(endpoint)
        self.latest: dict[int, messages.NbboUpdate] = {}
        self.stats: messages.SipStats | None = None
        self.next_seq: int | None = None
        self.lost = 0
        self.malformed = 0

    def poll(self, timeout_s: float = 0.0) -> list[messages.NbboUpdate]:
        """The NBBO updates that arrived (waiting up to timeout_s for the first)."""
        out: list[messages.NbboUpdate] = []
        wait_ms = int(timeout_s * 1000)
        while self._sock.poll(wait_ms):
            wait_ms = 0
            frames = self._sock.recv_multipart()
            try:
                if len(frames) != 2:
                    raise msgspec.DecodeError(f"{len(frames)} frames, expected [topic, body]")
                msg = messages.decode(frames[1])
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                self.malformed += 1
                log.warning("sip feed: dropped a malformed message: %s", exc)
                continue
            if isinstance(msg, messages.SipStats):
                self.stats = msg
                continue
            if self.next_seq is not None and msg.seq > self.next_seq:
                self.lost += msg.seq - self.next_seq
            self.next_seq = msg.seq + 1
            self.latest[msg.instrument_id] = msg
            out.append(msg)
        return out

    def close(self) -> None:
        self._sock.close(0)
