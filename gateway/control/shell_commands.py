"""The ops shell's command language: parsing, validation and completion, with no I/O.

A line such as ``halt AAPL`` or ``risk set account 12 max_position 5000`` becomes a `Command`:
the control-plane command name and its arguments exactly as the wire carries them
(gateway/control/protocol.py), or a local action (help, quit). Everything a person can
get wrong is caught here and reported as a `UsageError` whose message is one line that names the
command and the problem, e.g. ``halt: unknown instrument 'XYZ' (known: AAPL, MSFT)``; a line that
fails here sends nothing to the venue.

What the venue knows (instruments, accounts, sessions) comes in a `Catalog`; command names,
phases and limit names come from gateway/control/protocol.py, the wire's source of truth. Parsing
with ``catalog=None`` checks the syntax only: the driver does that before it connects, so a typo in
a script is a usage error (exit 2) even when the venue is down (exit 3).

The grammar is a tree of keywords (`Group`) whose leaves (`Leaf`) take positional arguments of a
few kinds (`Kind`); completion walks the same tree, so what completes is what parses.
"""
from __future__ import annotations

import difflib
import enum
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence, Union

from gateway.control import protocol
from gateway.control.order_velocity import VelocityError, parse_order_velocity

PHASES = protocol.PHASES
ON_OFF = ("on", "off")
ACCOUNT_LIMITS = protocol.ACCOUNT_LIMITS
INSTRUMENT_LIMITS = protocol.INSTRUMENT_LIMITS
# How each limit's value is written. Engine-enforced limits (every instrument limit, account
# max_position) are whole numbers in engine units: a fraction would be rounded somewhere, so it is
# refused. Post-trade limits are evaluated in floating point by the service (price units x qty).
SWITCH_LIMITS = ("auto_kill",)                  # on | off
FRACTION_LIMITS = ("concentration_limit",)      # share of gross exposure, (0, 1]
DECIMAL_LIMITS = tuple(x for x in protocol.ACCOUNT_POST_TRADE_LIMITS
                       if x not in SWITCH_LIMITS + FRACTION_LIMITS)
MAX_CALL_S = 3600
_NO_LIMIT = ("none", "unlimited")
MAX_BOOK_LEVELS = 1000
MAX_ALERTS = 10_000
ACCOUNT_MAX = 2**32 - 2      # the engine's account ids are uint32; all-ones means "none"
SESSION_MAX = 2**64 - 1
_KNOWN_LIST_MAX = 12         # an error lists at most this many known names, then "..."


class UsageError(ValueError):
    """A line the shell will not send: unknown command, missing, extra or bad argument.
    str(error) is the one-line message a person sees."""


@dataclass(frozen=True)
class Instrument:
    id: int
    symbol: str


@dataclass(frozen=True)
class Catalog:
    """What the venue knows, for validation and completion. A field that is None is not known
    (the venue did not say), and then any well-formed value is accepted and left to the venue."""
    instruments: tuple[Instrument, ...] = ()
    accounts: tuple[int, ...] | None = None
    sessions: tuple[int, ...] | None = None

    def instrument(self, token: str) -> Instrument | None:
        """By symbol (any case) or by id."""
        want = token.upper()
        for inst in self.instruments:
            if inst.symbol.upper() == want:
                return inst
        if token.isdigit():
            for inst in self.instruments:
                if inst.id == int(token):
                    return inst
        return None

    def with_sessions(self, sessions: Sequence[Any]) -> "Catalog":
        """The same catalog with the session ids of a `sessions.list` reply."""
        return Catalog(self.instruments, self.accounts, _ints(sessions, "session_id"))

    def symbol(self, instrument: object) -> str:
        """The symbol of an instrument id (or the value itself when unknown), for display."""
        for inst in self.instruments:
            if inst.id == instrument or inst.symbol == instrument:
                return inst.symbol
        return str(instrument)


class Kind(enum.Enum):
    """What a positional argument is; decides its validation and its completions."""
    INSTRUMENT = "INSTR"
    INSTRUMENT_OR_ALL = "INSTR|all"
    ACCOUNT = "ACCOUNT"
    SESSION = "SESSION_ID"
    PHASE = "PHASE"
    ON_OFF = "on|off"
    LEVELS = "LEVELS"
    STRATEGY = "STRATEGY"        # a shipped strategy name or a dotted path (or a running id)
    PARAMS = "K=V,..."
    STRATEGY_ID = "ID"
    COUNT = "N"
    SECONDS = "CALL_S"
    ACCOUNT_LIMIT = "LIMIT"
    INSTRUMENT_LIMIT = "INSTR_LIMIT"
    VALUE = "VALUE"
    COMMAND = "COMMAND"
    SIDE = "buy|sell"
    QTY = "QTY"
    ALGO = "TWAP|VWAP|POV|IS"
    DURATION = "DURATION_S"
    PARENT_ID = "PARENT_ID"


@dataclass(frozen=True)
class Arg:
    name: str            # the wire argument it fills
    kind: Kind
    optional: bool = False
    default: Any = None  # sent when an optional argument is omitted (None: not sent at all)

    @property
    def label(self) -> str:
        """How usage lines name it: the kind's value (account and instrument limits are both LIMIT)."""
        return "LIMIT" if self.kind is Kind.INSTRUMENT_LIMIT else self.kind.value

    @property
    def usage(self) -> str:
        return f"[{self.label}]" if self.optional else self.label


@dataclass(frozen=True)
class Opt:
    """A ``--flag VALUE`` option of a leaf, after its positional arguments, in any order. It fills
    the wire argument `name` (when `repeat`: every value, joined by commas); `check` converts and validates the value
    (UsageError), `label` names the value in usage lines."""
    flag: str
    name: str
    label: str
    check: Any                  # Callable[[str, str, Catalog | None], Any]: (value, cmd, catalog)
    repeat: bool = False
    completes: Kind | tuple[str, ...] | None = None   # what Tab offers for the value

    @property
    def usage(self) -> str:
        return f"[{self.flag} {self.label}]" + ("..." if self.repeat else "")


@dataclass(frozen=True)
class Leaf:
    """A command a person can type: its wire name (None: handled by the shell itself), its
    arguments in order, whether it changes the venue (operator only), and its help."""
    wire: str | None
    args: tuple[Arg, ...]
    summary: str
    write: bool = False
    fixed: Mapping[str, Any] = field(default_factory=dict)   # wire args implied by the keywords
    live: bool = False                                        # a refreshing view (depth)
    details: str = ""
    options: tuple[Opt, ...] = ()
    check: Any = None           # Callable[[dict[str, Any], str], None]: the options taken together


@dataclass(frozen=True)
class Group:
    """A keyword with sub-keywords; `default` is the sub-keyword used when none is typed."""
    children: Mapping[str, "Node"]
    summary: str
    default: str | None = None


Node = Union[Leaf, Group]


@dataclass(frozen=True)
class Command:
    """A parsed, validated line. `path` is what was typed to pick the leaf (('risk', 'set',
    'account')); `wire`/`args` are what goes to the control plane."""
    path: tuple[str, ...]
    wire: str | None
    args: dict[str, Any]
    write: bool
    live: bool = False
    text: str = ""

    @property
    def name(self) -> str:
        return " ".join(self.path)


_INSTR = Arg("instrument", Kind.INSTRUMENT)
_ACCOUNT = Arg("account", Kind.ACCOUNT)


def _via(value: str, cmd: str, catalog: Catalog | None) -> str:
    if value.lower() not in ("slot", "tcp"):
        raise UsageError(f"{cmd}: --via must be slot or tcp, got {value!r}")
    return value.lower()


def _other_instrument(value: str, cmd: str, catalog: Catalog | None) -> str:
    """INSTR or INSTR:TICK -> 'SYMBOL[:TICK]' (the instrument checked against the catalog)."""
    name, sep, tick = value.partition(":")
    if not name or (sep and not (tick.isdigit() and int(tick) > 0)):
        raise UsageError(f"{cmd}: --other-instrument expects INSTR or INSTR:TICK (a tick > 0), got {value!r}")
    symbol = _convert(_INSTR, name, cmd, catalog, {})
    return f"{symbol}{sep}{tick}"


def _session_opt(value: str, cmd: str, catalog: Catalog | None) -> int:
    return int(_convert(Arg("session", Kind.SESSION), value, cmd, catalog, {}))


def _host_port(flag: str) -> Any:
    def check(value: str, cmd: str, catalog: Catalog | None) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"{cmd}: {flag} expects HOST:PORT, got {value!r}")
        return value
    return check


def _endpoint(value: str, cmd: str, catalog: Catalog | None) -> str:
    if not value.startswith(("tcp://", "ipc://")):
        raise UsageError(f"{cmd}: --md expects a ZeroMQ endpoint (tcp://HOST:PORT or ipc://PATH), got {value!r}")
    return value


def _path(value: str, cmd: str, catalog: Catalog | None) -> str:
    return value


_STRATEGY_START_OPTIONS = (
    Opt("--via", "via", "slot|tcp", _via, completes=("slot", "tcp")),
    Opt("--other-instrument", "other_instruments", "INSTR[:TICK]", _other_instrument, repeat=True,
        completes=Kind.INSTRUMENT),
    Opt("--session", "session", "ID", _session_opt, completes=Kind.SESSION),
    Opt("--key-file", "key_file", "FILE", _path),
    Opt("--gateway", "gateway", "HOST:PORT", _host_port("--gateway")),
    Opt("--md", "md", "ENDPOINT", _endpoint),
    Opt("--md-recovery", "md_recovery", "HOST:PORT", _host_port("--md-recovery")),
)
_TCP_ONLY = {"session": "--session", "key_file": "--key-file", "gateway": "--gateway", "md": "--md",
             "md_recovery": "--md-recovery"}


def _check_strategy_start(args: dict[str, Any], cmd: str) -> None:
    if args.get("via") == "tcp":
        missing = [flag for name, flag in _TCP_ONLY.items() if name in ("session", "md", "md_recovery")
                   and name not in args]
        if missing:
            raise UsageError(f"{cmd}: --via tcp needs {', '.join(missing)}")
    else:
        stray = [flag for name, flag in _TCP_ONLY.items() if name in args]
        if stray:
            raise UsageError(f"{cmd}: {', '.join(stray)} {'is' if len(stray) == 1 else 'are'} for --via tcp")

GRAMMAR: dict[str, Node] = {
    "status": Leaf("status", (), "venue status: engine, instruments and their phases, sessions, alerts"),
    "sessions": Group({
        "list": Leaf("sessions.list", (), "order-entry sessions: firm, connected, peer, sequence numbers"),
        "disconnect": Leaf("sessions.disconnect", (Arg("session_id", Kind.SESSION),),
                           "disconnect an order-entry session (its orders are cancelled if it has "
                           "cancel-on-disconnect)", write=True),
    }, "order-entry sessions (list, disconnect)", default="list"),
    "book": Leaf("book", (_INSTR, Arg("levels", Kind.LEVELS, optional=True, default=10)),
                 "order book of an instrument, LEVELS price levels a side (default 10)"),
    "depth": Leaf("book", (_INSTR, Arg("levels", Kind.LEVELS, optional=True, default=10)),
                  "live depth view of an instrument, refreshed until a key or Ctrl-C", live=True),
    "orders": Leaf("orders", (_ACCOUNT,), "live orders of an account"),
    "positions": Leaf("positions", (Arg("account", Kind.ACCOUNT, optional=True),),
                      "positions and P&L, of one account or of all"),
    "halt": Leaf("halt", (Arg("instrument", Kind.INSTRUMENT_OR_ALL),),
                 "halt an instrument, or all (no matching, no new orders)", write=True),
    "resume": Leaf("resume", (Arg("instrument", Kind.INSTRUMENT_OR_ALL), Arg("call_s", Kind.SECONDS, optional=True)),
                   "reopen a halted instrument, or all halted ones (after `halt all`): pre-open now, "
                   "the auction and continuous trading after CALL_S seconds (default: the venue's)",
                   write=True),
    "phase": Leaf("phase", (Arg("instrument", Kind.INSTRUMENT_OR_ALL), Arg("phase", Kind.PHASE)),
                  "set the trading phase of an instrument or of all", write=True,
                  details="phases: " + ", ".join(PHASES)),
    "kill": Leaf("killswitch", (_ACCOUNT, Arg("engaged", Kind.ON_OFF)),
                 "engage (on: cancel the account's orders, reject new ones) or release (off) "
                 "an account's kill switch", write=True),
    "risk": Group({
        "show": Leaf("risk.show", (Arg("account", Kind.ACCOUNT, optional=True),),
                     "risk limits and current usage, of one account or of all"),
        "set": Group({
            "account": Leaf("risk.set", (Arg("id", Kind.ACCOUNT), Arg("limit", Kind.ACCOUNT_LIMIT),
                                         Arg("value", Kind.VALUE),
                                         Arg("instrument", Kind.INSTRUMENT, optional=True)),
                            "set a limit of an account (max_position: of one instrument, or of "
                            "every instrument when INSTR is left out)", write=True,
                            fixed={"scope": "account"},
                            details="limits: " + ", ".join(ACCOUNT_LIMITS)
                            + "; auto_kill takes on|off, concentration_limit a fraction, "
                            "order_velocity N/DURATION (new orders + replaces, e.g. 100/1s); "
                            "VALUE none removes a limit"),
            "instrument": Leaf("risk.set", (Arg("id", Kind.INSTRUMENT),
                                            Arg("limit", Kind.INSTRUMENT_LIMIT),
                                            Arg("value", Kind.VALUE)),
                               "set a limit of an instrument", write=True,
                               fixed={"scope": "instrument"},
                               details="limits: " + ", ".join(INSTRUMENT_LIMITS)
                               + "; whole numbers in engine units; VALUE none removes a limit"),
        }, "set a risk limit: risk set account|instrument ID LIMIT VALUE"),
    }, "risk limits (show, set)", default="show"),
    "alerts": Leaf("alerts", (Arg("limit", Kind.COUNT, optional=True),), "recent alerts (newest last)"),
    "ack": Leaf("alerts.ack", (Arg("id", Kind.COUNT),), "acknowledge an alert by its id (see alerts)",
                write=True),
    "latency": Leaf("latency", (), "per-stage latency summary (p50, p99, p99.9, max)"),
    "tuning": Leaf("tuning.audit", (), "host tuning audit: each setting, its state and the wanted value"),
    "journal": Leaf("journal.status", (), "journal and snapshot status"),
    "strategy": Group({
        "list": Leaf("strategy.list", (), "strategies the control plane runs: id, account, instrument, state"),
        "params": Leaf("strategy.params", (Arg("strategy", Kind.STRATEGY),),
                       "parameters of a strategy: a name or dotted path (defaults) or a running id"),
        "start": Leaf("strategy.start", (Arg("strategy", Kind.STRATEGY), _ACCOUNT, _INSTR,
                                         Arg("params", Kind.PARAMS, optional=True)),
                      "start a strategy in its own process under an account (limits: risk set account)",
                      write=True, options=_STRATEGY_START_OPTIONS, check=_check_strategy_start,
                      details="--via slot (default): its own producer slot and the event log; --via tcp: an "
                      "external participant over the gateway (--session ID, its key from the venue's config "
                      "or --key-file FILE on the venue's host, --gateway HOST:PORT when the gateway's port "
                      "is not fixed) and the market-data feed (--md tcp://HOST:PORT --md-recovery HOST:PORT); "
                      "either way --other-instrument INSTR[:TICK] (repeatable) to follow more instruments"),
        "set": Leaf("strategy.set", (Arg("id", Kind.STRATEGY_ID), Arg("params", Kind.PARAMS)),
                    "change parameters of a running strategy (those it can change live)", write=True),
        "pause": Leaf("strategy.pause", (Arg("id", Kind.STRATEGY_ID),),
                      "pause a running strategy: its orders cancelled, no market data or timers until resumed "
                      "(its own fills and cancels still reach it)", write=True),
        "resume": Leaf("strategy.resume", (Arg("id", Kind.STRATEGY_ID),), "resume a paused strategy", write=True),
        "stop": Leaf("strategy.stop", (Arg("id", Kind.STRATEGY_ID),),
                     "stop a running strategy; its orders are cancelled", write=True),
    }, "strategies run by the control plane (list, params, start, set, pause, resume, stop)", default="list"),
    "parent": Group({
        "list": Leaf("parent.list", (), "parent orders: id, algorithm, state, filled against target, shortfall"),
        "show": Leaf("parent.show", (Arg("id", Kind.PARENT_ID),), "one parent order and its progress"),
        "add": Leaf("parent.add", (_ACCOUNT, _INSTR, Arg("side", Kind.SIDE), Arg("qty", Kind.QTY),
                                   Arg("algo", Kind.ALGO), Arg("duration_s", Kind.DURATION),
                                   Arg("params", Kind.PARAMS, optional=True)),
                    "start a parent order executed by an algorithm over DURATION_S seconds", write=True,
                    details="params: start_in_s, limit_price, risk_aversion, max_participation, "
                            "target_participation, min_participation, slice_s, decision_ms, seed, profile "
                            "(VWAP), impact_y, sigma_day, adv, half_spread, kyle (IS)"),
        "pause": Leaf("parent.pause", (Arg("id", Kind.PARENT_ID),), "pause a parent order", write=True),
        "resume": Leaf("parent.resume", (Arg("id", Kind.PARENT_ID),), "resume a paused parent order", write=True),
        "amend": Leaf("parent.amend", (Arg("id", Kind.PARENT_ID), Arg("changes", Kind.PARAMS)),
                      "amend a parent order (qty, duration_s, limit_price, risk_aversion, participation)",
                      write=True),
        "cancel": Leaf("parent.cancel", (Arg("id", Kind.PARENT_ID),), "cancel a parent order", write=True),
    }, "parent orders run by execution algorithms (list, show, add, pause, resume, amend, cancel)",
        default="list"),
    "whoami": Leaf("whoami", (), "the user and role this shell is authenticated as"),
    "users": Leaf("users.list", (), "users and their roles (admin)"),
    "audit": Leaf("audit.verify", (), "check the audit log's hash chain: each edited, removed or "
                                     "reordered record (compliance)"),
    "help": Leaf(None, (Arg("topic", Kind.COMMAND, optional=True),), "list commands, or explain one"),
    "quit": Leaf(None, (), "leave the shell"),
    "exit": Leaf(None, (), "leave the shell"),
}


# ---------------------------------------------------------------------------------------------
# statements: splitting script text and -c strings

def split_statements(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """Splits text into statements at newlines and at ';' outside quotes; '#' outside quotes starts
    a comment to the end of the line. Returns (line number, statement) for each non-empty one.
    Quotes are kept (the statement is re-tokenized by `parse`); an unterminated quote is a
    UsageError."""
    out: list[tuple[int, str]] = []
    line = first_line
    start_line = line
    buf: list[str] = []
    quote: str | None = None
    in_comment = False

    def flush() -> None:
        s = "".join(buf).strip()
        if s:
            out.append((start_line, s))
        buf.clear()

    for ch in text:
        if in_comment:
            if ch == "\n":
                in_comment = False
                flush()
                line += 1
                start_line = line
            continue
        if quote:
            if ch == "\n":
                raise UsageError(f"line {start_line}: unterminated quote {quote}")
            buf.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == "#":
            in_comment = True
        elif ch == ";":
            flush()
            start_line = line
        elif ch == "\n":
            flush()
            line += 1
            start_line = line
        else:
            buf.append(ch)
    if quote:
        raise UsageError(f"line {start_line}: unterminated quote {quote}")
    flush()
    return out


def tokenize(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError as e:       # shlex: "No closing quotation" / "No escaped character"
        raise UsageError(f"cannot read {line!r}: {str(e).lower()}") from None


# ---------------------------------------------------------------------------------------------
# parsing

def command_names() -> list[str]:
    return sorted(GRAMMAR)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word.lower(), list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _known(values: Iterable[object]) -> str:
    vals = [str(v) for v in values]
    if not vals:
        return "none known"
    if len(vals) > _KNOWN_LIST_MAX:
        return "known: " + ", ".join(vals[:_KNOWN_LIST_MAX]) + ", ..."
    return "known: " + ", ".join(vals)


def usage(path: Sequence[str]) -> str:
    """``halt INSTR``, ``risk set account|instrument ...``: the usage line of a node."""
    node = _node_at(path)
    prefix = " ".join(path)
    if isinstance(node, Group):
        return f"{prefix} {'|'.join(node.children)} ..."
    return " ".join([prefix, *(a.usage for a in node.args), *(o.usage for o in node.options)])


def _node_at(path: Sequence[str]) -> Node:
    node: Node = Group(GRAMMAR, "")
    for word in path:
        assert isinstance(node, Group)
        node = node.children[word]
    return node


def _int(text: str, what: str, lo: int, hi: int, cmd: str) -> int:
    t = text.replace("_", "")
    if not re.fullmatch(r"[+-]?\d+", t):
        raise UsageError(f"{cmd}: {what} must be a whole number, got {text!r}")
    v = int(t)
    if not lo <= v <= hi:
        raise UsageError(f"{cmd}: {what} must be {lo}..{hi}, got {v}")
    return v


def _number(text: str, what: str, cmd: str) -> float:
    try:
        v = float(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"{cmd}: {what} must be a number, got {text!r}") from None
    if not v == v or v in (float("inf"), float("-inf")):
        raise UsageError(f"{cmd}: {what} must be a number, got {text!r}")
    return v


def _limit_value(limit: str, token: str, cmd: str) -> Any:
    if limit in protocol.ACCOUNT_VELOCITY_LIMITS:
        try:                      # checked here for a one-line usage error; sent as typed
            parse_order_velocity(token)
        except VelocityError as exc:
            raise UsageError(f"{cmd}: {limit}: {exc}") from None
        return token
    if limit in SWITCH_LIMITS:
        t = token.lower()
        if t not in ON_OFF:
            raise UsageError(f"{cmd}: {limit} takes on or off, got {token!r}")
        return t == "on"
    if limit in FRACTION_LIMITS:
        v = _number(token, limit, cmd)
        if not 0 < v <= 1:
            raise UsageError(f"{cmd}: {limit} must be a fraction in (0, 1], got {token}")
        return v
    if limit in DECIMAL_LIMITS:
        if token.lower() in _NO_LIMIT:
            return 0              # post-trade limits: 0 means none
        v = _number(token, limit, cmd)
        if not 0 <= v <= protocol.POST_TRADE_LIMIT_MAX:     # 1e308 was sent as a 309-digit int
            raise UsageError(f"{cmd}: {limit} must be 0..{protocol.POST_TRADE_LIMIT_MAX} (0: no limit), "
                             f"got {token}")
        return int(v) if v == int(v) and "." not in token else v
    if token.lower() in _NO_LIMIT:
        return "none"             # the service's word for "no limit" (INT64_MAX in the engine)
    if token.replace("_", "").lstrip("+") in ("0", "-0"):
        # An engine limit of 0 refuses every order: almost always a slip for "none".
        stop = ("halt the instrument with `halt INSTR`" if limit in INSTRUMENT_LIMITS
                else "stop the account with `kill ACCOUNT on`")
        raise UsageError(f"{cmd}: {limit} 0 would refuse every order: give a limit >= 1, 'none' "
                         f"for no limit, or {stop}")
    return _int(token, limit, 1, 2**63 - 1, cmd)


def _convert(arg: Arg, token: str, cmd: str, catalog: Catalog | None,
             so_far: Mapping[str, Any]) -> Any:
    kind = arg.kind
    if kind in (Kind.INSTRUMENT, Kind.INSTRUMENT_OR_ALL):
        if kind is Kind.INSTRUMENT_OR_ALL and token.lower() == "all":
            return "all"
        if catalog is None:
            return int(token) if token.isdigit() else token.upper()
        inst = catalog.instrument(token)
        if inst is None:
            known = [i.symbol for i in catalog.instruments]
            if kind is Kind.INSTRUMENT_OR_ALL:
                known.append("all")
            raise UsageError(f"{cmd}: unknown instrument {token!r} ({_known(known)})")
        return inst.symbol
    if kind is Kind.ACCOUNT:
        v = _int(token, "account", 0, ACCOUNT_MAX, cmd)
        if catalog is not None and catalog.accounts is not None and v not in catalog.accounts:
            raise UsageError(f"{cmd}: unknown account {v} ({_known(sorted(catalog.accounts))})")
        return v
    if kind is Kind.SESSION:
        v = _int(token, "session id", 1, SESSION_MAX, cmd)
        if catalog is not None and catalog.sessions is not None and v not in catalog.sessions:
            raise UsageError(f"{cmd}: unknown session {v} ({_known(sorted(catalog.sessions))})")
        return v
    if kind is Kind.PHASE:
        p = token.lower().replace("-", "_")
        if p == "preopen":
            p = "pre_open"
        if p not in PHASES:
            raise UsageError(f"{cmd}: unknown phase {token!r} (phases: {', '.join(PHASES)})")
        return p
    if kind is Kind.ON_OFF:
        t = token.lower()
        if t not in ON_OFF:
            raise UsageError(f"{cmd}: expected on or off, got {token!r}")
        return t == "on"
    if kind is Kind.LEVELS:
        return _int(token, "levels", 1, MAX_BOOK_LEVELS, cmd)
    if kind is Kind.COUNT:
        return _int(token, "count", 1, MAX_ALERTS, cmd)
    if kind is Kind.SECONDS:
        secs = _number(token, "call_s", cmd)
        if not 0 <= secs <= MAX_CALL_S:
            raise UsageError(f"{cmd}: call_s must be 0..{MAX_CALL_S} seconds, got {token}")
        return int(secs) if secs == int(secs) else secs
    if kind in (Kind.ACCOUNT_LIMIT, Kind.INSTRUMENT_LIMIT):
        name = token.lower().replace("-", "_")
        limits = ACCOUNT_LIMITS if kind is Kind.ACCOUNT_LIMIT else INSTRUMENT_LIMITS
        if name not in limits:
            raise UsageError(f"{cmd}: unknown limit {token!r} ({_known(list(limits))})")
        return name
    if kind is Kind.VALUE:
        return _limit_value(str(so_far.get("limit", "")), token, cmd)
    if kind is Kind.STRATEGY:
        if not all(c.isalnum() or c in "._:" for c in token):
            raise UsageError(f"{cmd}: {token!r} is not a strategy name or dotted path")
        return token
    if kind is Kind.PARAMS:
        if not all("=" in p for p in token.split(",") if p):
            raise UsageError(f"{cmd}: params are k=v[,k=v...], got {token!r}")
        return token
    if kind is Kind.STRATEGY_ID:
        return _int(token, "strategy id", 1, 1 << 31, cmd)
    if kind is Kind.SIDE:
        if token.lower() not in ("buy", "sell"):
            raise UsageError(f"{cmd}: side must be buy or sell, got {token!r}")
        return token.lower()
    if kind is Kind.QTY:
        return _int(token, "qty", 1, 1 << 40, cmd)
    if kind is Kind.ALGO:
        if token.upper() not in ("TWAP", "VWAP", "POV", "IS"):
            raise UsageError(f"{cmd}: algorithm must be TWAP, VWAP, POV or IS, got {token!r}")
        return token.upper()
    if kind is Kind.DURATION:
        duration = _number(token, "duration_s", cmd)
        if not duration > 0:
            raise UsageError(f"{cmd}: duration_s must be positive (the end after the start), got {token}")
        return duration
    if kind is Kind.PARENT_ID:
        return _int(token, "parent id", 1, 1 << 31, cmd)
    if kind is Kind.COMMAND:
        if token not in GRAMMAR:
            raise UsageError(f"help: unknown command {token!r}{_did_you_mean(token, GRAMMAR)}")
        return token
    raise AssertionError(kind)


def parse(line: str, catalog: Catalog | None = None) -> Command | None:
    """Parses one statement. Returns None for an empty line or a comment; raises UsageError."""
    words = tokenize(line)
    if not words:
        return None
    node: Node = Group(GRAMMAR, "")
    path: list[str] = []
    i = 0
    while isinstance(node, Group):
        if i >= len(words):
            if node.default is None:
                raise UsageError(f"{' '.join(path)}: missing {'|'.join(node.children)} "
                                 f"(usage: {usage(path)})")
            word = node.default
        else:
            word = words[i].lower()
            i += 1
            if word not in node.children:
                if not path:
                    raise UsageError(f"unknown command {words[i - 1]!r}"
                                     f"{_did_you_mean(word, node.children)}; 'help' lists commands")
                raise UsageError(f"{' '.join(path)}: unknown subcommand {words[i - 1]!r} "
                                 f"(expected {' or '.join(node.children)})")
        path.append(word)
        node = node.children[word]
    cmd = " ".join(path)
    rest, options = _split_options(node, words[i:], cmd, catalog)
    if len(rest) > len(node.args):
        raise UsageError(f"{cmd}: too many arguments (usage: {usage(path)})")
    args: dict[str, Any] = dict(node.fixed)
    for n, arg in enumerate(node.args):
        if n < len(rest):
            args[arg.name] = _convert(arg, rest[n], cmd, catalog, args)
        elif not arg.optional:
            raise UsageError(f"{cmd}: missing {arg.label} (usage: {usage(path)})")
        elif arg.default is not None:
            args[arg.name] = arg.default
    args.update(options)
    if node.check is not None:
        node.check(args, cmd)
    return Command(tuple(path), node.wire, args, node.write, node.live, line.strip())


def _split_options(node: Leaf, words: list[str], cmd: str, catalog: Catalog | None) -> tuple[list[str], dict[str, Any]]:
    """The positional words, and the leaf's ``--flag VALUE`` options converted (wire name ->
    value). A word starting with -- is an option wherever it is."""
    positional: list[str] = []
    options: dict[str, Any] = {}
    known = {o.flag: o for o in node.options}
    n = 0
    while n < len(words):
        word = words[n]
        if not word.startswith("--"):
            positional.append(word)
            n += 1
            continue
        flag, eq, value = word.partition("=")
        opt = known.get(flag)
        if opt is None:
            offered = f" (options: {', '.join(known)})" if known else " (it takes no options)"
            raise UsageError(f"{cmd}: unknown option {flag!r}{offered}")
        if not eq:
            if n + 1 >= len(words) or words[n + 1].startswith("--"):
                raise UsageError(f"{cmd}: {flag} needs a value ({opt.label})")
            value = words[n + 1]
            n += 1
        n += 1
        converted = opt.check(value, cmd, catalog)
        if opt.repeat:          # the wire carries scalars: a repeated option's values joined by commas
            options[opt.name] = f"{options[opt.name]},{converted}" if opt.name in options else converted
        elif opt.name in options:
            raise UsageError(f"{cmd}: {flag} given twice")
        else:
            options[opt.name] = converted
    return positional, options


def parse_script(text: str, catalog: Catalog | None = None, where: str = "") -> list[Command]:
    """Parses every statement of a script (or a -c string) before any runs, so a typo anywhere
    sends nothing. Errors are prefixed with ``where:LINE:`` when `where` is given."""
    cmds: list[Command] = []
    try:
        statements = split_statements(text)
    except UsageError as e:
        raise UsageError(f"{where}: {e}" if where else str(e)) from None
    for lineno, stmt in statements:
        try:
            c = parse(stmt, catalog)
        except UsageError as e:
            raise UsageError(f"{where}:{lineno}: {e}" if where else str(e)) from None
        if c is not None:
            cmds.append(c)
    return cmds


# ---------------------------------------------------------------------------------------------
# help

def help_text(topic: str | None = None) -> str:
    """`help` lists every command with its usage; `help CMD` explains one (and its subcommands)."""
    if topic is None:
        rows = []
        for path, leaf in _leaves(GRAMMAR, ()):
            rows.append((usage(path), leaf.summary + ("  [operator]" if leaf.write else "")))
        width = max(len(u) for u, _ in rows)
        lines = [f"  {u:<{width}}  {s}" for u, s in rows]
        return "\n".join(["commands:", *lines, "",
                          "INSTR is a symbol or an instrument id; Tab completes commands, "
                          "symbols, accounts and phases."])
    node = GRAMMAR[topic]
    lines = []
    for path, leaf in _leaves({topic: node}, ()):
        lines.append(f"{usage(path)}\n    {leaf.summary}" + (" (operator only)" if leaf.write else ""))
        if leaf.details:
            lines.append(f"    {leaf.details}")
    return "\n".join(lines)


def _leaves(children: Mapping[str, Node], prefix: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Leaf]]:
    for word, node in children.items():
        if isinstance(node, Group):
            yield from _leaves(node.children, (*prefix, word))
        else:
            yield (*prefix, word), node


# ---------------------------------------------------------------------------------------------
# completion

def _candidates(kind: Kind, catalog: Catalog | None) -> list[str]:
    cat = catalog or Catalog()
    if kind is Kind.INSTRUMENT:
        return [i.symbol for i in cat.instruments]
    if kind is Kind.INSTRUMENT_OR_ALL:
        return [i.symbol for i in cat.instruments] + ["all"]
    if kind is Kind.ACCOUNT:
        return [str(a) for a in sorted(cat.accounts or ())]
    if kind is Kind.SESSION:
        return [str(s) for s in sorted(cat.sessions or ())]
    if kind is Kind.PHASE:
        return list(PHASES)
    if kind is Kind.ON_OFF:
        return list(ON_OFF)
    if kind is Kind.ACCOUNT_LIMIT:
        return list(ACCOUNT_LIMITS)
    if kind is Kind.INSTRUMENT_LIMIT:
        return list(INSTRUMENT_LIMITS)
    if kind is Kind.COMMAND:
        return command_names()
    return []      # numbers: nothing sensible to offer


def _leaf_candidates(node: Leaf, words: Sequence[str], prefix: str, catalog: Catalog | None) -> list[str]:
    """What may come after a leaf's `words`: an option's values after its flag, the flags not
    given yet where an option may start (a word beginning with -), else the next positional
    argument's candidates."""
    flags = {o.flag: o for o in node.options}
    if words and words[-1] in flags:
        done = flags[words[-1]].completes
        return list(done) if isinstance(done, tuple) else _candidates(done, catalog) if done else []
    if prefix.startswith("-"):
        return [f for f, o in flags.items() if o.repeat or f not in words]
    positional = [w for i, w in enumerate(words) if not w.startswith("--") and (i == 0 or words[i - 1] not in flags)]
    if len(positional) >= len(node.args):
        return []
    return _candidates(node.args[len(positional)].kind, catalog)


def current_word(text_before_cursor: str) -> str:
    """The partial word under the cursor, which a completion replaces ('' after a space or ';')."""
    stmt = text_before_cursor.rsplit(";", 1)[-1]
    if not stmt or stmt[-1].isspace():
        return ""
    return stmt.split()[-1]


def complete(text_before_cursor: str, catalog: Catalog | None = None) -> list[str]:
    """The words that can replace the word under the cursor (the text after the last space),
    filtered by its prefix (case-insensitive). Only the current statement (after the last ';')
    counts."""
    stmt = text_before_cursor.rsplit(";", 1)[-1]
    try:
        words = shlex.split(stmt)
    except ValueError:           # inside an open quote: nothing to offer
        return []
    if stmt and not stmt[-1].isspace() and words:
        prefix = words.pop()
    else:
        prefix = ""
    node: Node = Group(GRAMMAR, "")
    n = 0
    while isinstance(node, Group) and n < len(words):
        word = words[n].lower()
        if word not in node.children:
            return []
        node = node.children[word]
        n += 1
    if isinstance(node, Group):
        options = list(node.children)
    else:
        options = _leaf_candidates(node, words[n:], prefix, catalog)
    p = prefix.lower()
    return [o for o in options if o.lower().startswith(p)]


# ---------------------------------------------------------------------------------------------
# building a catalog from the venue's own replies

def _ints(values: Iterable[Any], *keys: str) -> tuple[int, ...]:
    out: set[int] = set()
    for v in values:
        if isinstance(v, int):
            out.add(v)
        elif isinstance(v, Mapping):
            for k in keys:
                if isinstance(v.get(k), int):
                    out.add(v[k])
                    break
    return tuple(sorted(out))


def catalog_from(status: Mapping[str, Any] | None, sessions: Sequence[Mapping[str, Any]] | None = None,
                 extra: Mapping[str, Any] | None = None) -> Catalog:
    """Builds a Catalog from a `status` reply (instruments; accounts when the venue reports them,
    as `accounts` or `firms`), a `sessions.list` reply, and optional extra data of the same shape."""
    status = dict(status or {})
    status.update(extra or {})
    instruments = tuple(
        Instrument(int(i.get("id", i.get("instrument_id", 0))), str(i.get("symbol", "")))
        for i in status.get("instruments", ()) if isinstance(i, Mapping))
    accounts: tuple[int, ...] | None = None
    if isinstance(status.get("accounts"), (list, tuple)):
        accounts = _ints(status["accounts"], "account", "account_id", "id")
    elif isinstance(status.get("firms"), (list, tuple)):
        accounts = _ints((a for f in status["firms"] if isinstance(f, Mapping)
                          for a in f.get("accounts", ())), "account", "account_id", "id")
    sess = _ints(sessions, "session_id") if sessions is not None else None
    return Catalog(instruments=instruments, accounts=accounts, sessions=sess)

