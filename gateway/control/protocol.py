"""Wire contract of the control-plane API: the single source of truth for its messages and commands.

Transport: ZeroMQ. Commands go to a ROUTER socket in the service (clients use REQ or DEALER); status,
alerts, metrics and audit records are published on a PUB socket under the topics below. Every message
body is msgpack encoded with msgspec (``encode`` / ``decode_*`` here), so the shell, tests and tools
never hand-roll bytes.

Authentication: a client first asks AUTH_SALT (no proof needed) for its user's salt and scrypt
parameters, derives its key once, then signs each request (gateway/security/credentials.py).
Roles: the permission matrix gateway/security/roles.py says which role may run which command.
Every WRITE command (accepted or refused) and every refused request is written to the audit log.

Prices and quantities are integers in engine units everywhere on this wire; presentation (ticks,
decimals) is the shell's business.
"""
from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec

DEFAULT_COMMAND_ENDPOINT: Final = "tcp://127.0.0.1:5710"
DEFAULT_PUBLISH_ENDPOINT: Final = "tcp://127.0.0.1:5711"

# PUB topics (first frame of every published message; the second frame is the msgpack body).
TOPIC_STATUS: Final = b"status"
TOPIC_ALERT: Final = b"alert"
TOPIC_METRICS: Final = b"metrics"
TOPIC_AUDIT: Final = b"audit"
# published by the live order-flow monitor through the ingest (gateway/control/ingest.py)
TOPIC_ANALYTICS: Final = b"analytics"
TOPICS: Final = (TOPIC_STATUS, TOPIC_ALERT, TOPIC_METRICS, TOPIC_AUDIT, TOPIC_ANALYTICS)

ROLE_VIEWER: Final = "viewer"
ROLE_OPERATOR: Final = "operator"
AUTH_SALT: Final = "auth.salt"          # args {}; answered without a proof: {salt, n, r, p}


MAX_REQUEST_BYTES: Final = 64 * 1024     # a larger request is refused before it is decoded

# Every field of a request is typed and bounded, so the decoder refuses an oversized or misshapen
# request at the first offending header: an argument is one scalar (a list or map where a scalar
# belongs is refused as soon as its header is seen, so no request nests or makes the decoder
# recurse), names and texts have a maximum length, and a request has at most MAX_ARGS arguments.
MAX_NAME_CHARS: Final = 64               # user, command, argument names
MAX_TEXT_CHARS: Final = 256              # a string argument
MAX_ARGS: Final = 16
Name = Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)]
ArgValue = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)] | int | float | bool | None


class Request(msgspec.Struct, forbid_unknown_fields=True):
    """One command. The token itself never travels: proof signs (request_id, user, command, args,
    ts_ns, nonce) with the user's credentials (gateway/security/credentials.py), and the server
    refuses a timestamp outside its replay window or a nonce it has seen within it."""
    request_id: Annotated[int, msgspec.Meta(ge=0)]
    user: Name
    command: Name
    args: Annotated[dict[Name, ArgValue], msgspec.Meta(max_length=MAX_ARGS)] = {}
    ts_ns: Annotated[int, msgspec.Meta(ge=0)] = 0
    nonce: Annotated[str, msgspec.Meta(max_length=64)] = ""
    proof: Annotated[str, msgspec.Meta(max_length=64)] = ""


class Reply(msgspec.Struct, forbid_unknown_fields=True):
    request_id: int
    ok: bool
    code: str
    message: str = ""
    data: Any = None


# Reply codes. "ok" is the only success code.
CODE_OK: Final = "ok"
CODE_UNAUTHENTICATED: Final = "unauthenticated"   # unknown user or wrong token
CODE_FORBIDDEN: Final = "forbidden"               # the user's roles do not allow the command (or account)
CODE_REPLAYED: Final = "replayed"                 # timestamp outside the window, or a nonce seen before
CODE_BAD_REQUEST: Final = "bad_request"           # undecodable message, missing/invalid argument
CODE_UNKNOWN_COMMAND: Final = "unknown_command"
CODE_ENGINE_REJECT: Final = "engine_reject"       # the engine refused the sequenced command
CODE_UNAVAILABLE: Final = "unavailable"           # the engine / gateway needed for the command is not reachable
CODE_INTERNAL: Final = "internal"                 # a bug in the service; the message says what
CODES: Final = (CODE_OK, CODE_UNAUTHENTICATED, CODE_FORBIDDEN, CODE_REPLAYED, CODE_BAD_REQUEST, CODE_UNKNOWN_COMMAND,
                CODE_ENGINE_REJECT, CODE_UNAVAILABLE, CODE_INTERNAL)

READ: Final = "read"
WRITE: Final = "write"

# command -> (access class, argument names (optional ones end with '?'), one-line help)
# The shell builds its completion and help from this table; the service dispatches on it.
COMMANDS: Final[dict[str, tuple[str, tuple[str, ...], str]]] = {
    "whoami": (READ, (), "who the server thinks you are: {user, role}"),
    "status": (READ, (), "venue, engine liveness and sequence, instrument phases, sessions, open alerts"),
    "sessions.list": (READ, (), "gateway sessions: id, firm, connected, peer, sequence numbers"),
    "sessions.disconnect": (WRITE, ("session_id",), "disconnect a gateway session"),
    "book": (READ, ("instrument", "levels?"), "live depth of an instrument (id or symbol)"),
    "orders": (READ, ("account",), "resting orders of an account"),
    "positions": (READ, ("account?",), "positions and realized/unrealized P&L"),
    "halt": (WRITE, ("instrument",), "halt an instrument (id, symbol or 'all')"),
    "resume": (WRITE, ("instrument", "call_s?"),
               "reopen: halted -> pre-open now, then after call_s seconds (default: config) the "
               "auction and continuous; from pre-open: the auction after call_s"),
    "phase": (WRITE, ("instrument", "phase"), "set an instrument's phase: closed|pre_open|continuous|halted"),
    "killswitch": (WRITE, ("account", "engaged"), "engage (cancel all + reject new) or release an account's kill switch"),
    "risk.show": (READ, ("account?",), "limits and current usage (position, VaR, drawdown, concentration)"),
    "risk.set": (WRITE, ("scope", "id", "limit", "value", "instrument?"),
                 "change a risk limit (scope account|instrument); account max_position applies to "
                 "every instrument unless instrument is given"),
    "alerts": (READ, ("limit?",), "recent alerts (each with its id, and who acknowledged it)"),
    "alerts.ack": (WRITE, ("id",), "acknowledge an alert by its id: the alert feed says who and when"),
    "latency": (READ, (), "per-stage latency summary"),
    "tuning.audit": (READ, (), "host tuning audit rows"),
    "journal.status": (READ, (), "journal directory, durability, segments, last sequence, snapshots, the other files there and what each is"),
    "strategy.list": (READ, (), "strategies the control plane runs: id, name, account, instrument, state"),
    "strategy.params": (READ, ("strategy",), "parameters of a strategy (name or dotted path: defaults; id: running)"),
    "strategy.start": (WRITE, ("strategy", "account", "instrument", "params?", "via?", "other_instruments?",
                               "session?", "key_file?", "gateway?", "md?", "md_recovery?"),
                       "start a strategy in its own process under an account (k=v,k=v params); via slot "
                       "(default) or tcp (session, key_file, gateway, md, md_recovery); other_instruments: "
                       "INSTR[:TICK],..."),
    "strategy.set": (WRITE, ("id", "params"), "change live parameters of a running strategy (k=v,k=v)"),
    "strategy.pause": (WRITE, ("id",), "pause a running strategy: its orders cancelled, no market data or timer "
                       "callbacks until strategy.resume"),
    "strategy.resume": (WRITE, ("id",), "resume a paused strategy"),
    "strategy.stop": (WRITE, ("id",), "stop a running strategy (its orders are cancelled)"),
    "parent.list": (READ, (), "parent orders (execution algorithms): state, progress, shortfall"),
    "parent.show": (READ, ("id",), "one parent order: state, fills against schedule, child orders working"),
    "parent.add": (WRITE, ("account", "instrument", "side", "qty", "algo", "duration_s", "params?"),
                   "start a parent order: TWAP|VWAP|POV|IS over duration_s seconds (k=v,k=v params)"),
    "parent.pause": (WRITE, ("id",), "pause a parent order (its working child orders are cancelled)"),
    "parent.resume": (WRITE, ("id",), "resume a paused parent order"),
    "parent.amend": (WRITE, ("id", "changes"), "amend a parent order: qty, duration_s, limit_price, risk_aversion, "
                                               "max/target/min_participation (k=v,k=v)"),
    "parent.cancel": (WRITE, ("id",), "cancel a parent order (its child orders are cancelled)"),
    "users.list": (READ, (), "users and their roles (admin)"),
    "audit.verify": (READ, (), "check the audit log's hash chain; every edited, removed or reordered record"),
}

PHASES: Final = ("closed", "pre_open", "continuous", "halted")
RISK_SCOPES: Final = ("account", "instrument")
# risk.set limit names per scope. Instrument limits and account max_position are enforced by the
# engine (sequenced SET_INSTRUMENT_RISK / SET_ACCOUNT_LIMIT commands, journaled); the post-trade
# ones are evaluated by the service on every fill, and each change is a sequenced, journaled
# SET_POST_TRADE_LIMIT command too (the engine only acknowledges it), so a replay reproduces it.
INSTRUMENT_LIMITS: Final = ("max_order_qty", "max_order_notional", "price_collar_ticks")
ACCOUNT_ENGINE_LIMITS: Final = ("max_position",)
# the order-velocity limit: engine-enforced too (SET_ORDER_VELOCITY), one per account over all its
# instruments, its value "N/DURATION" or "none" (gateway/control/order_velocity.py)
ACCOUNT_VELOCITY_LIMITS: Final = ("order_velocity",)
ACCOUNT_POST_TRADE_LIMITS: Final = ("var_limit", "drawdown_limit", "concentration_limit", "loss_limit",
                                    "notional_limit", "auto_kill")
ACCOUNT_LIMITS: Final = ACCOUNT_ENGINE_LIMITS + ACCOUNT_VELOCITY_LIMITS + ACCOUNT_POST_TRADE_LIMITS
# the largest post-trade limit value (in its own unit, e.g. price units x qty for var_limit): the engine
# holds it in millionths in an int64 (SET_POST_TRADE_LIMIT.value_e6, native.records.POST_TRADE_SCALE;
# tests/control checks the two agree)
POST_TRADE_LIMIT_MAX: Final = (2**63 - 1) // 1_000_000


def is_write(command: str) -> bool:
    """True for commands that change the venue (audited when accepted too); unknown commands are
    not writes (they are refused as unknown)."""
    entry = COMMANDS.get(command)
    return entry is not None and entry[0] == WRITE


def required_args(command: str) -> tuple[str, ...]:
    return tuple(a for a in COMMANDS[command][1] if not a.endswith("?"))


def optional_args(command: str) -> tuple[str, ...]:
    return tuple(a[:-1] for a in COMMANDS[command][1] if a.endswith("?"))


_encoder = msgspec.msgpack.Encoder()
_request_decoder = msgspec.msgpack.Decoder(Request)
_reply_decoder = msgspec.msgpack.Decoder(Reply)
_any_decoder = msgspec.msgpack.Decoder()


def encode(message: Any) -> bytes:
    return _encoder.encode(message)


def decode_request(body: bytes) -> Request:
    """Raises msgspec.DecodeError / msgspec.ValidationError with the offending field on bad input."""
    return _request_decoder.decode(body)


def salvage_request_id(body: bytes) -> int:
    """The request_id of a request the typed decoder refused (a list among its args, a field out of
    bounds), so the refusal reaches the client that waits for it instead of being discarded as a
    reply to some abandoned request; 0 when the body is not a msgpack map with a usable id."""
    try:
        loose = _any_decoder.decode(body)
    except Exception:           # not msgpack at all: nothing to salvage
        return 0
    rid = loose.get("request_id") if isinstance(loose, dict) else None
    if isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid < 2**63:
        return rid
    return 0


def decode_reply(body: bytes) -> Reply:
    return _reply_decoder.decode(body)


def decode_published(body: bytes) -> Any:
    """Body of a PUB message: a plain dict (the topic is the first frame)."""
    return _any_decoder.decode(body)
