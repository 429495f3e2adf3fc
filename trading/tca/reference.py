"""Reference data the journal does not carry: symbols, ISINs, the venue's MIC and LEI, which firm,
strategy and decision maker stand behind each account, and the fee schedule.

It comes from a TOML file (``--reference FILE``), optionally on top of the venue's own config
(symbols, firms and price scale from ``gateway/control/config.py``). Layout::

    [venue]            name = "main"  mic = "XVNU"  lei = "..."  price_scale = 10000  currency = "USD"
    [fees]             taker_per_share = 0.0030  maker_per_share = -0.0020  auction_per_share = 0.0010
    [[instruments]]    id = 1  symbol = "AAPL"  isin = "US0378331005"  round_lot = 100
    [[accounts]]       id = 1  firm = "alpha"  strategy = "mm"  lei = "..."  decision_maker = "ALGO1"

Fees are in currency per share: positive is paid, negative is a rebate. Unknown keys are refused
with the section and key named (a typo must not silently fall back to a default).
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.small_files import NotASmallFile, read_small_text
from trading.tca.errors import TcaInputError, UnknownInstrument


@dataclass(frozen=True)
class FeeSchedule:
    """Currency per share by liquidity flag: taker (removed liquidity), maker (added), auction."""
    taker_per_share: float = 0.0030
    maker_per_share: float = -0.0020
    auction_per_share: float = 0.0010


@dataclass(frozen=True)
class InstrumentRef:
    id: int
    symbol: str
    isin: str = ""
    currency: str = "USD"
    round_lot: int = 100


@dataclass(frozen=True)
class AccountRef:
    id: int
    firm: str = ""
    strategy: str = ""
    lei: str = ""
    decision_maker: str = ""


@dataclass(frozen=True)
class Reference:
    venue_name: str = "venue"
    venue_mic: str = "XXXX"
    venue_lei: str = ""
    price_scale: int = 10_000
    currency: str = "USD"
    fees: FeeSchedule = FeeSchedule()
    instruments: dict[int, InstrumentRef] = field(default_factory=dict)
    accounts: dict[int, AccountRef] = field(default_factory=dict)

    def instrument(self, instrument_id: int) -> InstrumentRef:
        ref = self.instruments.get(instrument_id)
        return ref if ref is not None else InstrumentRef(instrument_id, f"INS{instrument_id}")

    def account(self, account_id: int) -> AccountRef:
        ref = self.accounts.get(account_id)
        return ref if ref is not None else AccountRef(account_id, strategy=f"acct{account_id}")

    def symbol(self, instrument_id: int) -> str:
        return self.instrument(instrument_id).symbol

    def resolve_instrument(self, key: int | str, known_ids: set[int] | None = None) -> int:
        """A symbol or id -> instrument id; UnknownInstrument names the known ones otherwise."""
        ids = set(self.instruments) | (known_ids or set())
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            if int(key) in ids:
                return int(key)
        else:
            for ref in self.instruments.values():
                if ref.symbol == key:
                    return ref.id
            for i in ids:
                if self.symbol(i) == key:
                    return i
        known = ", ".join(sorted(f"{self.symbol(i)} ({i})" for i in ids)) or "none"
        raise UnknownInstrument(f"unknown instrument {key!r}; known: {known}")


_SECTIONS = {"venue": {"name", "mic", "lei", "price_scale", "currency"},
             "fees": {"taker_per_share", "maker_per_share", "auction_per_share"},
             "instruments": {"id", "symbol", "isin", "currency", "round_lot"},
             "accounts": {"id", "firm", "strategy", "lei", "decision_maker"}}


def _check_keys(where: str, table: dict[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise TcaInputError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")


def _typed(where: str, value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TcaInputError(f"{where}: must be {kind.__name__}, got {value!r}")
    if kind is float and not math.isfinite(value):      # a NaN fee would turn every cost into NaN
        raise TcaInputError(f"{where}: must be a finite number, got {value!r}")
    return value


def _table(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TcaInputError(f"{where}: must be a table, got {value!r}")
    return value


def _tables(where: str, value: Any) -> list[dict[str, Any]]:
    """An array of tables ([[NAME]]), each checked to be a table."""
    if not isinstance(value, list):
        raise TcaInputError(f"{where}: must be an array of tables ([[...]]), got {value!r}")
    return [_table(f"{where}[{n}]", t) for n, t in enumerate(value)]


def _unique_id(where: str, value: Any, seen: set[int], lowest: int) -> int:
    """An instrument id (>= 1: the engine's ids start at 1) or account id (>= 0), once per file."""
    ident = _typed(where, value, int)
    if not lowest <= ident < 1 << 32:
        raise TcaInputError(f"{where}: must be {lowest}..{(1 << 32) - 1}, got {ident}")
    if ident in seen:
        raise TcaInputError(f"{where}: {ident} appears twice")
    seen.add(ident)
    return int(ident)


def parse_reference(data: dict[str, Any], where: str = "reference",
                    base: Reference | None = None) -> Reference:
    """A parsed TOML document -> Reference (on top of base). TcaInputError names the bad field."""
    base = base or Reference()
    for sec in data:
        if sec not in _SECTIONS:
            raise TcaInputError(f"{where}: unknown section [{sec}] (known: {', '.join(sorted(_SECTIONS))})")
    venue = _table(f"{where} [venue]", data.get("venue", {}))
    _check_keys(f"{where} [venue]", venue, _SECTIONS["venue"])
    fees_t = _table(f"{where} [fees]", data.get("fees", {}))
    _check_keys(f"{where} [fees]", fees_t, _SECTIONS["fees"])
    fees = FeeSchedule(**{k: _typed(f"{where} [fees].{k}", v, float) for k, v in fees_t.items()}) \
        if fees_t else base.fees
    instruments = dict(base.instruments)
    seen: set[int] = set()
    for n, t in enumerate(_tables(f"{where} instruments", data.get("instruments", []))):
        w = f"{where} instruments[{n}]"
        _check_keys(w, t, _SECTIONS["instruments"])
        if "id" not in t or "symbol" not in t:
            raise TcaInputError(f"{w}: needs id and symbol")
        if not _typed(f"{w}.symbol", t["symbol"], str):
            raise TcaInputError(f"{w}.symbol: must not be empty")
        ref = InstrumentRef(_unique_id(f"{w}.id", t["id"], seen, 1), t["symbol"],
                            _typed(f"{w}.isin", t.get("isin", ""), str),
                            _typed(f"{w}.currency", t.get("currency", "USD"), str),
                            _typed(f"{w}.round_lot", t.get("round_lot", 100), int))
        if ref.round_lot <= 0:
            raise TcaInputError(f"{w}.round_lot: must be > 0, got {ref.round_lot}")
        instruments[ref.id] = ref
    accounts = dict(base.accounts)
    seen = set()
    for n, t in enumerate(_tables(f"{where} accounts", data.get("accounts", []))):
        w = f"{where} accounts[{n}]"
        _check_keys(w, t, _SECTIONS["accounts"])
        if "id" not in t:
            raise TcaInputError(f"{w}: needs id")
        aid = _unique_id(f"{w}.id", t["id"], seen, 0)
        accounts[aid] = AccountRef(aid, *(_typed(f"{w}.{k}", t.get(k, ""), str)
                                          for k in ("firm", "strategy", "lei", "decision_maker")))
    scale = _typed(f"{where} [venue].price_scale", venue.get("price_scale", base.price_scale), int)
    if scale <= 0:
        raise TcaInputError(f"{where} [venue].price_scale: must be > 0, got {scale}")
    return Reference(_typed(f"{where} [venue].name", venue.get("name", base.venue_name), str),
                     _typed(f"{where} [venue].mic", venue.get("mic", base.venue_mic), str),
                     _typed(f"{where} [venue].lei", venue.get("lei", base.venue_lei), str),
                     scale, _typed(f"{where} [venue].currency", venue.get("currency", base.currency), str),
                     fees, instruments, accounts)


def from_venue_config(path: str | Path) -> Reference:
    """Symbols, firms (as the accounts' firm) and price scale from a venue TOML (python -m gateway up)."""
    from gateway.control.config import ConfigError, load_config
    try:
        cfg = load_config(path)
    except (ConfigError, OSError) as exc:
        raise TcaInputError(f"venue config {path}: {exc}") from exc
    firm_of = {a: f.name for f in cfg.firms for a in f.accounts}
    instruments = {i.id: InstrumentRef(i.id, i.symbol) for i in cfg.instruments}
    accounts = {a: AccountRef(a, firm=name, strategy=name) for a, name in firm_of.items()}
    return Reference(cfg.venue.name, price_scale=cfg.venue.price_scale, instruments=instruments,
                     accounts=accounts)


def load_reference(path: str | Path | None, venue_config: str | Path | None = None) -> Reference:
    """The reference data for an analysis: defaults, then the venue config, then the TOML file."""
    base = from_venue_config(venue_config) if venue_config else Reference()
    if path is None:
        return base
    try:
        data = tomllib.loads(read_small_text(path))
    except OSError as exc:
        raise TcaInputError(f"reference file {path}: {exc.strerror or exc}") from exc
    except NotASmallFile as exc:
        raise TcaInputError(f"reference file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TcaInputError(f"reference file {path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise TcaInputError(f"reference file {path}: not UTF-8 text: {exc}") from exc
    return parse_reference(data, str(path), base)
