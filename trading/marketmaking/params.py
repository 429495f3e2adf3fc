"""Parameters of a market maker, validated as a whole before anything is sent.

One frozen dataclass per concern: the quoting model (which model, risk aversion, arrival intensity,
volatility, horizon), the instrument's grid (tick, lot), the inventory and size limits, the refresh
rules and the guard's thresholds. ``MarketMakerParams.from_strings`` parses ``--param k=v`` pairs
(the backtest command line, the ops shell's ``params`` verb) with the same checks; every refusal is
a ParameterError naming the field.

Units: prices in currency units, time in seconds, sizes in shares. sigma is the mid price's standard
deviation per square-root second; A is fills per second at zero distance from the mid; k is per
currency unit of distance (fill intensity A*exp(-k*delta), Avellaneda and Stoikov 2008, section 2.2).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Mapping

from trading.marketmaking.errors import ParameterError

ModelName = Literal["as", "glft"]
MODELS: tuple[str, ...] = ("as", "glft")


def _finite(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ParameterError(name, value, "must be a finite number")


def _positive(name: str, value: float) -> None:
    _finite(name, value)
    if value <= 0:
        raise ParameterError(name, value, "must be > 0")


def _non_negative(name: str, value: float) -> None:
    _finite(name, value)
    if value < 0:
        raise ParameterError(name, value, "must be >= 0")


@dataclass(frozen=True)
class ModelParams:
    """The quoting model and its parameters (None: estimated online from the market data).

    gamma: risk aversion (CARA utility), > 0. sigma: volatility per sqrt(second). A, k: fill
    intensity A*exp(-k*delta). horizon_s: time to the end of the session for the finite-horizon
    Avellaneda-Stoikov form; None selects the infinite-horizon (stationary) form, in which AS uses
    ``tau_s`` as a constant time-to-horizon and GLFT uses its asymptotic closed form.
    """
    model: ModelName = "as"
    gamma: float = 0.1
    sigma: float | None = None
    A: float | None = None
    k: float | None = None
    horizon_s: float | None = None
    tau_s: float = 60.0

    def validate(self) -> None:
        if self.model not in MODELS:
            raise ParameterError("model", self.model, f"must be one of {', '.join(MODELS)}")
        _positive("gamma", self.gamma)
        for name in ("sigma", "A", "k", "horizon_s"):
            value = getattr(self, name)
            if value is not None:
                _positive(name, value)
        _positive("tau_s", self.tau_s)


@dataclass(frozen=True)
class GridParams:
    """The instrument's price and size grid: tick (currency), lot (shares, the smallest order)."""
    tick: float = 0.01
    lot: int = 100

    def validate(self) -> None:
        _positive("tick", self.tick)
        if not isinstance(self.lot, int) or isinstance(self.lot, bool) or self.lot < 1:
            raise ParameterError("lot", self.lot, "must be an integer >= 1 share")


@dataclass(frozen=True)
class LimitParams:
    """Inventory and size limits, in shares. Quote sizes come from them: a side quotes at most
    ``quote_size`` and never more than what keeps |inventory| <= max_inventory after a full fill."""
    max_inventory: int = 1000
    quote_size: int = 100

    def validate(self, lot: int) -> None:
        for name in ("max_inventory", "quote_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ParameterError(name, value, "must be an integer number of shares")
            if value < lot:
                raise ParameterError(name, value, f"must be at least one lot ({lot} shares)")
            if value % lot:
                raise ParameterError(name, value, f"must be a whole number of lots ({lot} shares)")
        if self.quote_size > self.max_inventory:
            raise ParameterError("quote_size", self.quote_size,
                                 f"exceeds max_inventory={self.max_inventory}")


@dataclass(frozen=True)
class RefreshParams:
    """When a quote is resent. A new price is sent only if it moved by at least
    ``price_threshold_ticks`` ticks (>= 1: never less than a tick); a new size only if it changed by
    at least ``size_threshold_lots`` lots. Shrinking the size at the same price is a replace that
    keeps time priority (ENGINE.md, REPLACE)."""
    price_threshold_ticks: int = 1
    size_threshold_lots: int = 1

    def validate(self) -> None:
        for name in ("price_threshold_ticks", "size_threshold_lots"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ParameterError(name, value, "must be an integer >= 1")


@dataclass(frozen=True)
class GuardParams:
    """When quoting stops or widens. stale_after_s: market data older than this pulls the quotes.
    markout_horizons_s: the horizons at which own fills are marked to the mid. toxicity_widen and
    toxicity_pull: thresholds on the toxicity score (0..1) for widening and for pulling. widen_max:
    the spread multiplier at toxicity 1."""
    stale_after_s: float = 2.0
    markout_horizons_s: tuple[float, ...] = (0.1, 1.0, 10.0)
    toxicity_widen: float = 0.5
    toxicity_pull: float = 0.8
    widen_max: float = 3.0

    def validate(self) -> None:
        _positive("stale_after_s", self.stale_after_s)
        if not self.markout_horizons_s:
            raise ParameterError("markout_horizons_s", self.markout_horizons_s, "must not be empty")
        for h in self.markout_horizons_s:
            _positive("markout_horizons_s", h)
        for name in ("toxicity_widen", "toxicity_pull"):
            value = getattr(self, name)
            _finite(name, value)
            if not 0.0 <= value <= 1.0:
                raise ParameterError(name, value, "must be within [0, 1]")
        if self.toxicity_pull < self.toxicity_widen:
            raise ParameterError("toxicity_pull", self.toxicity_pull,
                                 f"must be >= toxicity_widen={self.toxicity_widen}")
        _finite("widen_max", self.widen_max)
        if self.widen_max < 1.0:
            raise ParameterError("widen_max", self.widen_max, "must be >= 1")


@dataclass(frozen=True)
class FeeParams:
    """Fees per share in currency: a positive maker_rebate is paid to the passive side, taker_fee is
    paid by the aggressor (hedges). They enter the pricing: a rebate narrows the optimal quote
    distance by its amount (see quoting.py)."""
    maker_rebate: float = 0.0
    taker_fee: float = 0.0

    def validate(self) -> None:
        _finite("maker_rebate", self.maker_rebate)
        _non_negative("taker_fee", self.taker_fee)


@dataclass(frozen=True)
class MarketMakerParams:
    """Everything a market maker needs, checked together by ``validate``."""
    model: ModelParams = field(default_factory=ModelParams)
    grid: GridParams = field(default_factory=GridParams)
    limits: LimitParams = field(default_factory=LimitParams)
    refresh: RefreshParams = field(default_factory=RefreshParams)
    guard: GuardParams = field(default_factory=GuardParams)
    fees: FeeParams = field(default_factory=FeeParams)

    def validate(self) -> "MarketMakerParams":
        self.model.validate()
        self.grid.validate()
        self.limits.validate(self.grid.lot)
        self.refresh.validate()
        self.guard.validate()
        self.fees.validate()
        return self

    @classmethod
    def from_strings(cls, pairs: Mapping[str, str]) -> "MarketMakerParams":
        """Build from ``name=value`` strings (flat names, e.g. gamma, tick, max_inventory); an
        unknown name or an unparsable value is a ParameterError naming it. Validated."""
        groups: dict[str, dict[str, Any]] = {f.name: {} for f in fields(cls)}
        owners: dict[str, tuple[str, type]] = {}
        defaults = cls()
        for group in fields(cls):
            for f in fields(getattr(defaults, group.name)):
                owners[f.name] = (group.name, type(getattr(getattr(defaults, group.name), f.name)))
        for name, text in pairs.items():
            if name not in owners:
                raise ParameterError(name, text, f"unknown parameter (known: {', '.join(sorted(owners))})")
            group_name, _ = owners[name]
            groups[group_name][name] = _parse(group_name, name, text)
        built = {g: dataclasses.replace(getattr(defaults, g), **vals) for g, vals in groups.items()}
        return cls(**built).validate()


_INT_FIELDS = {"lot", "max_inventory", "quote_size", "price_threshold_ticks", "size_threshold_lots"}
_OPTIONAL_FIELDS = {"sigma", "A", "k", "horizon_s"}


def _parse(group: str, name: str, text: str) -> Any:
    if name == "model":
        return text
    if name in _OPTIONAL_FIELDS and text.strip().lower() in ("", "none", "auto", "estimate"):
        return None
    try:
        if name == "markout_horizons_s":
            return tuple(float(x) for x in text.split(",") if x.strip())
        if name in _INT_FIELDS:
            return int(text)
        return float(text)
    except ValueError:
        raise ParameterError(name, text, "not a number") from None
