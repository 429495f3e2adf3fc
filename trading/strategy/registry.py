"""Finding a strategy by short name or dotted path, and building it from `k=v` parameters.

``resolve("quote")`` -> a shipped strategy class; ``resolve("mypkg.mod.MyStrategy")`` or
``resolve("mypkg.mod:MyStrategy")`` imports the user's own. Errors say what was tried.
"""
from __future__ import annotations

import importlib
from typing import Any

from trading.strategy.api import ParamError, Strategy
from trading.strategy.examples import NoOp, TouchQuoter

BUILTIN: dict[str, type[Strategy]] = {cls.name: cls for cls in (NoOp, TouchQuoter)}
# strategies other rooms ship, by short name: imported only when named, so the runtime does not
# load every room (the market maker: `strategy start mm ...` in the ops shell, `--strategy mm`)
SHIPPED: dict[str, str] = {"mm": "trading.marketmaking.strategy:MarketMakingStrategy"}


def shipped() -> dict[str, type[Strategy]]:
    """Every strategy known by a short name (the built-in ones and the rooms' SHIPPED)."""
    return {**{name: resolve(name) for name in SHIPPED}, **BUILTIN}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: makes a strategy available by its `name` (other rooms register theirs)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a class attribute `name` to be registered")
    BUILTIN[cls.name] = cls
    return cls


def resolve(spec: str) -> type[Strategy]:
    if spec in BUILTIN:
        return BUILTIN[spec]
    spec = SHIPPED.get(spec, spec)
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise LookupError(f"unknown strategy {spec!r}: not one of {', '.join(sorted({*BUILTIN, *SHIPPED}))} "
                          "and not a dotted path")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"strategy {spec!r}: cannot import {module_name!r}: {exc}") from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise LookupError(f"strategy {spec!r}: {module_name}.{attr} is not a Strategy subclass")
    return cls


def parse_params(items: list[str]) -> dict[str, str]:
    """['k=v', ...] -> {'k': 'v'}; the strategy converts each to its default's type."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param expects k=v, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def build(spec: str, params: dict[str, Any]) -> Strategy:
    return resolve(spec)(**params)
