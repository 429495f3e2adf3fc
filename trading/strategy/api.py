"""The strategy API: what a strategy is, and the records its callbacks receive.

A strategy subclasses ``Strategy`` and overrides the callbacks it needs; the runtime calls only
those (a strategy without ``on_book`` is never woken for book changes, which is what lets a replay
run the engine in long batches). Every callback gets the ``Context`` (trading/strategy/context.py)
through which it places, cancels and replaces orders and reads its orders, position, P&L, limits,
the book and the clock. The same class runs live and in replay; nothing here says which.

Parameters: ``defaults`` lists every parameter with its default; ``Strategy(**params)`` accepts
only those names and converts each value to its default's type (so ``--param size=200`` from the
command line arrives as an int).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, NamedTuple

if TYPE_CHECKING:
    from trading.strategy.context import Context

BUY, SELL = 1, 2


@dataclass(frozen=True)
class PublicTrade:
    """A trade on the instrument (anyone's). aggressor: BUY, SELL or 0 (auction / unknown);
    hidden: it executed hidden liquidity (no book change)."""
    ts_ns: int
    price: int
    qty: int
    aggressor: int
    hidden: bool = False


class Fill(NamedTuple):
    """One execution of the strategy's own order. maker: its order was resting (passive).

    Immutable, read by attribute, equal and printed by its fields (``Fill(ts_ns=..., ...)``). A
    NamedTuple, not a frozen dataclass: one is built per own fill, and tuple.__new__ builds it in
    about a quarter of the time a frozen dataclass takes (its fields set one object.__setattr__
    each, or its __dict__ written whole), measured in bench/replay.py's quoting run. So it also
    unpacks and indexes as a tuple; dataclasses.fields / asdict / replace do not apply
    (``Fill._fields``, ``fill._asdict()``, ``fill._replace(...)`` do)."""
    ts_ns: int
    order_id: int
    side: int
    price: int
    qty: int
    leaves_qty: int
    maker: bool
    fee: float              # currency units; negative is a rebate
    instrument_id: int = 0  # the instrument it traded in (0: the context's primary instrument)


@dataclass
class OwnOrder:
    """One of the strategy's orders as the strategy knows it (from its own acks and fills).
    status: 'pending' (sent, no ack yet), 'live', 'done'."""
    order_id: int
    side: int
    price: int
    qty: int
    leaves_qty: int
    tif: str
    status: str = "pending"
    filled_qty: int = 0
    sent_ns: int = 0
    display_qty: int = 0     # an iceberg's shown size (0: all of it shows)
    instrument_id: int = 0   # the instrument it rests in (0: the context's primary instrument)


class ParamError(ValueError):
    """A parameter the strategy does not have, or a value of the wrong type."""


class Strategy:
    """Base class: override what you need. ``name`` is the short name `--strategy` accepts."""

    name: ClassVar[str] = ""
    defaults: ClassVar[Mapping[str, Any]] = {}
    # the parameters that may change while the strategy runs (the ops shell's `strategy set`):
    # those it reads afresh at each decision. Others are refused then (live_params.py).
    live_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(self.defaults)
        for key, value in params.items():
            if key not in self.defaults:
                known = ", ".join(sorted(self.defaults)) or "none"
                raise ParamError(f"{type(self).__name__} has no parameter {key!r} (parameters: {known})")
            self.params[key] = _coerce(key, value, self.defaults[key])

    # ---- callbacks (all optional) ---------------------------------------------------------------
    def on_start(self, ctx: Context) -> None:
        """Once, before any market data; set timers here."""

    def on_book(self, ctx: Context) -> None:
        """The book changed (ctx.book is the book as the strategy sees it now)."""

    def on_other_book(self, ctx: Context, instrument_id: int) -> None:
        """The book of another instrument the strategy follows changed (ctx.instrument(id).book);
        only for instruments the runtime was told to follow besides the primary one."""

    def on_trade(self, ctx: Context, trade: PublicTrade) -> None:
        """A trade printed on the instrument (the strategy's own fills also come to on_fill)."""

    def on_accepted(self, ctx: Context, order: OwnOrder) -> None:
        """The engine accepted one of the strategy's orders."""

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        """One of the strategy's orders traded."""

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        """The engine refused a command about order_id (a new order, cancel or replace)."""

    def on_cancelled(self, ctx: Context, order: OwnOrder, reason: str) -> None:
        """One of the strategy's orders left the book without trading its rest."""

    def on_phase(self, ctx: Context, phase: str, previous: str) -> None:
        """The instrument's trading phase changed (CLOSED, PRE_OPEN, CONTINUOUS, HALTED: a halt, a
        reopening auction, the close); ctx.phase is the new one. Orders the strategy sends while
        the instrument is halted are refused by the engine (on_rejected)."""

    def on_timer(self, ctx: Context) -> None:
        """A timer set with ctx.set_timer fired (ctx.now is its time)."""

    def on_params(self, ctx: Context, changed: Mapping[str, Any]) -> None:
        """Live only: parameters of ``live_params`` changed while running (self.params and
        ctx.params already hold the new values)."""

    def check_live_change(self) -> None:
        """Raises ParamError naming the field when self.params (a running strategy's parameters
        with a live change merged in) could not be applied; called in the control plane before the
        change is sent (live_params.checked_change), so a change on_params would refuse never
        reaches the running strategy, and before a strategy is started (manager.py). The default
        accepts what the constructor converted."""

    def on_stop(self, ctx: Context) -> None:
        """Once, at the end of the run (orders still live are cancelled after it)."""


# what a value of the default's type is called in an error (not "a int")
_KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def _not_a(key: str, value: Any, default: Any) -> ParamError:
    kind = _KIND_WORDS.get(type(default), f"a {type(default).__name__}")
    return ParamError(f"parameter {key!r}: {value!r} is not {kind}")


def _coerce(key: str, value: Any, default: Any) -> Any:
    if default is None or isinstance(value, type(default)) and not (isinstance(value, bool) != isinstance(default, bool)):
        return value
    if not isinstance(value, str):
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise _not_a(key, value, default)
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        return type(default)(value)
    except ValueError:
        raise _not_a(key, value, default) from None


def overrides(strategy: Strategy, callback: str) -> bool:
    """Whether the strategy's class replaces the base class's (empty) callback."""
    return getattr(type(strategy), callback) is not getattr(Strategy, callback)
