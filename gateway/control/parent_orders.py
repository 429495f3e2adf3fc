"""The control plane's parent-order commands (issue 22): ``parent.add / list / show / pause /
resume / amend / cancel``, a mixin of ControlService. The orders themselves are
trading/execution/desk.py's: each runs as its own strategy process under its account; the desk's
journal (append-only, fsynced) rebuilds them when the control plane starts again.

``params`` is ``k=v,k=v``: the parent's own fields (start_in_s, limit_price, risk_aversion,
max_participation, target_participation, min_participation) and the strategy's pass-through ones
(desk.PASS_THROUGH: slice_s, decision_ms, seed, profile, impact model). Every refusal is a
bad_request naming the field; nothing is journaled or started. Under a multi-venue deployment
(``up --config`` with [[venues]] sets VENUE_DEPLOYMENT_CONFIG for every venue it starts), a parent
with ``route_session=N`` in its params runs across all the deployment's venues through the smart
order router (desk.py, routed_live.py).
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.control.config import VenueConfig
    from trading.execution.desk import ParentDesk

from gateway.control import protocol
from gateway.venues.up_env import DEPLOYMENT_ENV

ORDER_FIELDS = {"start_in_s": float, "limit_price": int, "risk_aversion": float, "max_participation": float,
                "target_participation": float, "min_participation": float}
AMEND_FIELDS = {"qty": int, "duration_s": float, "limit_price": int, "risk_aversion": float,
                "max_participation": float, "target_participation": float, "min_participation": float}


def _pairs(text: Any, name: str = "params") -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in str(text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{name}: expected k=v[,k=v...], got {part!r}")
        out[key.strip()] = value.strip()
    return out


def _typed(pairs: dict[str, str], fields: dict[str, type]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs.items():
        try:
            out[key] = fields[key](value)
        except ValueError:
            raise ValueError(f"{key}: {value!r} is not a {fields[key].__name__}") from None
        if isinstance(out[key], float) and not math.isfinite(out[key]):
            raise ValueError(f"{key}: must be a finite number, got {value!r}")
    return out


def _whole(name: str, value: Any) -> int:
    """A whole-number argument (an id, a quantity): an int, an integral float or a decimal string;
    a boolean, 1.5, NaN or 'abc' is refused naming the argument (int() took True as 1 and 1.5 as 1,
    and int(inf) was an OverflowError answered as an internal error)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():          # False for NaN and the infinities
            return int(value)
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None


def _finite(name: str, value: Any) -> float:
    """A number of seconds or a price: a finite int/float or a decimal string."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: must be a finite number, got {value!r}")
    return number


class ParentCommands:
    """Mixed into ControlService (which supplies cfg, resolve_account, resolve_instrument)."""

    cfg: VenueConfig
    _parent_desk: ParentDesk | None = None     # started on first use

    def parents_dir(self) -> Path:
        return Path(self.cfg.journal.dir or tempfile.gettempdir()) / f"parents-{self.cfg.venue.name}"

    def _desk(self) -> ParentDesk:
        if self._parent_desk is None:
            from trading.execution.desk import ParentDesk
            from trading.execution.parent import InstrumentRules
            rules = {i.id: InstrumentRules(i.lot, i.tick) for i in self.cfg.instruments}
            # under a multi-venue `up --config`, the deployment's file: routed parents use its venues
            deployment = os.environ.get(DEPLOYMENT_ENV) or None
            sessions = {s.session_id: (s.firm_id, s.key) for s in self.cfg.sessions}
            self._parent_desk = ParentDesk(self.cfg.venue.name, self.parents_dir(), rules,
                                           self.cfg.venue.shm_dir or None, deployment=deployment, sessions=sessions)
        return self._parent_desk

    def rebuild_parents(self) -> None:
        """At start: parent orders from a previous run come back (attached or relaunched)."""
        if (self.parents_dir() / "parents.jsonl").exists():
            self._desk()

    def _parent_call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from trading.execution.parent import ParentOrderRefused
        try:
            return fn(*args, **kwargs)
        except (ParentOrderRefused, ValueError, TypeError, LookupError) as exc:
            from gateway.control.service import CommandError
            raise CommandError(protocol.CODE_BAD_REQUEST, str(exc)) from None

    def cmd_parent_add(self, user: str, role: str, account: Any, instrument: Any, side: Any, qty: Any, algo: Any,
                       duration_s: Any, params: Any = None) -> dict[str, Any]:
        acct = self.resolve_account(account)          # type: ignore[attr-defined]
        ins = self.resolve_instrument(instrument)     # type: ignore[attr-defined]

        def add() -> dict[str, Any]:
            pairs = _pairs(params)
            own = _typed({k: v for k, v in pairs.items() if k in ORDER_FIELDS}, ORDER_FIELDS)
            rest = {k: v for k, v in pairs.items() if k not in ORDER_FIELDS}
            return dict(self._desk().add(acct, ins, side, _whole("qty", qty), str(algo),
                                         _finite("duration_s", duration_s), params=rest, **own))
        return dict(self._parent_call(add))

    def cmd_parent_list(self, user: str, role: str) -> list[dict[str, Any]]:
        if not (self.parents_dir() / "parents.jsonl").exists() and self._parent_desk is None:
            return []
        return list(self._desk().list())

    def cmd_parent_show(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().show(_whole("id", id))))

    def cmd_parent_pause(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().pause(_whole("id", id))))

    def cmd_parent_resume(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().resume(_whole("id", id))))

    def cmd_parent_cancel(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().cancel(_whole("id", id))))

    def cmd_parent_amend(self, user: str, role: str, id: Any, changes: Any) -> dict[str, Any]:
        def amend() -> dict[str, Any]:
            pairs = _pairs(changes, "changes")
            unknown = sorted(set(pairs) - set(AMEND_FIELDS))
            if unknown:
                raise ValueError(f"{unknown[0]}: cannot be amended (amendable: {', '.join(AMEND_FIELDS)})")
            return dict(self._desk().amend(_whole("id", id), **_typed(pairs, AMEND_FIELDS)))
        return dict(self._parent_call(amend))
