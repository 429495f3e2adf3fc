"""The client's exceptions: one per way a session can fail, each carrying the gateway's reason."""
from __future__ import annotations

from gateway.reasons import Reason


def _reason_name(code: int) -> str:
    try:
        return Reason(code).name
    except ValueError:
        return f"reason {code}"


class ClientError(Exception):
    """Base of every gateway.client error."""


class ClientTimeout(ClientError, TimeoutError):
    """What was waited for did not arrive in time (try again or give up: the session is intact)."""


class ConnectionClosed(ClientError, ConnectionError):
    """The TCP connection ended."""


class SessionRejected(ClientError):
    """Negotiate or Establish was refused (NegotiationReject / EstablishmentReject)."""

    def __init__(self, message: object) -> None:
        self.message = message
        self.reason_code = int(getattr(message, "reason_code", 0))
        super().__init__(f"{type(message).__name__}: {_reason_name(self.reason_code)}")


class SessionTerminated(ClientError):
    """The gateway sent Terminate."""

    def __init__(self, message: object) -> None:
        self.message = message
        self.reason_code = int(getattr(message, "reason_code", 0))
        super().__init__(f"Terminate: {_reason_name(self.reason_code)}")


class RequestRejected(ClientError):
    """The gateway refused a request before the engine saw it (BusinessMessageReject): the
    message says why by name; a duplicate sequence number also says how to go on."""

    def __init__(self, message: object, text: str) -> None:
        self.message = message
        self.reason_code = int(getattr(message, "reason_code", 0))
        if self.reason_code == Reason["ENG_GW_SEQ_TOO_LOW"]:
            text += (" - this session's sequence numbers go on from an earlier connection, and "
                     "the gateway never executes a seqNum twice: connect with next_seq_no= above "
                     "the last one used")
        super().__init__(text)
