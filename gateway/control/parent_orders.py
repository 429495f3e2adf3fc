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

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.control.config import VenueConfig
    from trading.execution.desk import ParentDesk

from gateway.control import protocol
from gateway.control.arguments import finite_number, key_values, typed_values, whole_number
from gateway.venues.up_env import DEPLOYMENT_ENV

ORDER_FIELDS = {"start_in_s": float, "limit_price": int, "risk_aversion": float, "max_participation": float,
                "target_participation": float, "min_participation": float}
AMEND_FIELDS = {"qty": int, "duration_s": float, "limit_price": int, "risk_aversion": float,
                "max_participation": float, "target_participation": float, "min_participation": float}


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
            pairs = key_values(params)
            own = typed_values({k: v for k, v in pairs.items() if k in ORDER_FIELDS}, ORDER_FIELDS)
            rest = {k: v for k, v in pairs.items() if k not in ORDER_FIELDS}
            return dict(self._desk().add(acct, ins, side, whole_number("qty", qty), str(algo),
                                         finite_number("duration_s", duration_s), params=rest, **own))
        return dict(self._parent_call(add))

    def cmd_parent_list(self, user: str, role: str) -> list[dict[str, Any]]:
        if not (self.parents_dir() / "parents.jsonl").exists() and self._parent_desk is None:
            return []
        return list(self._desk().list())

    def cmd_parent_show(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().show(whole_number("id", id))))

    def cmd_parent_pause(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().pause(whole_number("id", id))))

    def cmd_parent_resume(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().resume(whole_number("id", id))))

    def cmd_parent_cancel(self, user: str, role: str, id: Any) -> dict[str, Any]:
        return dict(self._parent_call(lambda: self._desk().cancel(whole_number("id", id))))

    def cmd_parent_amend(self, user: str, role: str, id: Any, changes: Any) -> dict[str, Any]:
        def amend() -> dict[str, Any]:
            pairs = key_values(changes, "changes")
            unknown = sorted(set(pairs) - set(AMEND_FIELDS))
            if unknown:
                raise ValueError(f"{unknown[0]}: cannot be amended (amendable: {', '.join(AMEND_FIELDS)})")
            return dict(self._desk().amend(whole_number("id", id), **typed_values(pairs, AMEND_FIELDS)))
        return dict(self._parent_call(amend))
