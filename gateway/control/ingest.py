"""The publish ingest: how a reader of the venue that runs as its own process (the live order-flow
monitor, trading/analytics/monitor.py) publishes on the control plane's channel, and how the
dashboard reports its login failures and lockouts for the audit log (topic SECURITY_TOPIC: never
republished, handed to the handler the control plane installs, gateway/control/intrusion.py).

The control plane binds a ZeroMQ PULL socket on an ipc:// endpoint inside the venue's private run
directory (mode 0700, so only the venue's own user can connect: the trust boundary is the file
system, as for the session keys beside it). A publisher PUSHes two frames, a topic and a msgpack
map; the control plane checks both and republishes them on its PUB socket unchanged in meaning, so
subscribers see one channel, with the status, alerts, metrics and audit records of the control
plane itself.

What is refused (counted per reason in ``refused``, and logged once a second at most): a message
that is not exactly two frames, a topic outside INGEST_TOPICS, a body over MAX_INGEST_BYTES, a body
that is not a msgpack map of at most MAX_INGEST_FIELDS scalar values under short string keys, or
one without a "source" string. Nothing refused reaches a subscriber; nothing is refused silently.
"""
from __future__ import annotations

import logging
import time
from typing import Annotated, Any, Callable, Final

import msgspec
import zmq

from gateway.control import protocol

log = logging.getLogger("control.ingest")

SECURITY_TOPIC: Final = b"security"
INGEST_TOPICS: Final = (protocol.TOPIC_ANALYTICS, protocol.TOPIC_ALERT, SECURITY_TOPIC)
MAX_INGEST_BYTES: Final = 16 * 1024
MAX_INGEST_FIELDS: Final = 64
MESSAGES_PER_PASS: Final = 1000          # bounded work per loop pass: requests are not starved

Scalar = Annotated[str, msgspec.Meta(max_length=protocol.MAX_TEXT_CHARS)] | int | float | bool | None
IngestBody = Annotated[dict[protocol.Name, Scalar], msgspec.Meta(max_length=MAX_INGEST_FIELDS)]
_decoder = msgspec.msgpack.Decoder(IngestBody)


def ingest_endpoint(run_dir: str) -> str:
    """The ingest's endpoint for a venue whose run directory is run_dir."""
    return f"ipc://{run_dir}/publish-ingest"


def check(frames: list[bytes]) -> tuple[bytes, dict[str, Any]] | str:
    """(topic, body) of a well-formed ingest message, else the reason it is refused."""
    if len(frames) != 2:
        return f"{len(frames)} frames (a topic and a body expected)"
    topic, raw = frames
    if topic not in INGEST_TOPICS:
        return f"topic {topic[:32]!r} not accepted (accepted: {', '.join(t.decode() for t in INGEST_TOPICS)})"
    if len(raw) > MAX_INGEST_BYTES:
        return f"body of {len(raw)} bytes (at most {MAX_INGEST_BYTES})"
    try:
        body = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return f"body is not a map of at most {MAX_INGEST_FIELDS} scalars: {exc}"
    if not isinstance(body.get("source"), str) or not body["source"]:
        return "body has no 'source' string"
    return topic, body


class PublishIngest:
    """The bound PULL socket; drain() republishes what passes check() through publish."""

    def __init__(self, endpoint: str, publish: Callable[[bytes, Any], None],
                 context: zmq.Context[Any] | None = None) -> None:
        ctx = context or zmq.Context.instance()
        self.socket = ctx.socket(zmq.PULL)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_INGEST_BYTES + 64)
        self.socket.setsockopt(zmq.RCVHWM, 10000)
        try:
            self.socket.bind(endpoint)
        except zmq.ZMQError as exc:
            self.socket.close()
            raise OSError(f"cannot bind the publish ingest {endpoint}: {exc}") from None
        self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._publish = publish
        self._handlers: dict[bytes, Callable[[dict[str, Any]], None]] = {}
        self.forwarded = 0
        self.refused: dict[str, int] = {}
        self._last_log = 0.0

    def handle(self, topic: bytes, handler: Callable[[dict[str, Any]], None]) -> None:
        """Messages of `topic` go to handler instead of the channel."""
        self._handlers[topic] = handler

    def drain(self) -> int:
        """Republishes the waiting messages (at most MESSAGES_PER_PASS); returns how many were read."""
        n = 0
        while n < MESSAGES_PER_PASS:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            n += 1
            got = check(frames)
            if isinstance(got, str):
                self._refuse(got)
                continue
            topic, body = got
            handler = self._handlers.get(topic)
            if handler is not None:
                handler(body)
            elif topic == SECURITY_TOPIC:
                self._refuse("security report with no handler installed")
                continue
            else:
                self._publish(topic, body)
            self.forwarded += 1
        return n

    def _refuse(self, why: str) -> None:
        key = why.split(" (")[0][:80]
        self.refused[key] = self.refused.get(key, 0) + 1
        now = time.monotonic()
        if now - self._last_log >= 1.0:
            self._last_log = now
            log.warning("publish ingest refused a message: %s (refused so far: %d)", why,
                        sum(self.refused.values()))

    def close(self) -> None:
        self.socket.close()
