"""The control plane's strategy commands (issues 19 and 20): ``strategy.list / params / start /
set / pause / resume / stop``, a mixin of ControlService. The strategies themselves are processes of
trading/strategy/manager.py, one per account.

``strategy.start`` runs a strategy either through its own producer slot (``via`` "slot", the
default) or as an external participant over the order-entry gateway and
the market-data feed (``via`` "tcp": ``session`` names its gateway session, whose firm must own the
account; the key comes from ``key_file`` (read by the strategy process) or, for a session whose
key is in the venue's config, from there, handed over in the process's environment; ``gateway``
defaults to the config's listen address when that has a fixed port; ``md`` and ``md_recovery``
name the feed, as ``python -m gateway md publish --zmq ... --recovery-port ...`` serves it). Either
way ``other_instruments``, "INSTR[:TICK],...", makes it follow more instruments, each with the
configured tick when none is given. Every
refusal is a bad_request naming the field, before any process starts.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.control import protocol
from gateway.control.arguments import key_values, whole_number

if TYPE_CHECKING:
    from gateway.control.config import VenueConfig
    from trading.strategy.manager import StrategyManager, TcpAccess

TCP_OPTIONS = ("session", "key_file", "gateway", "md", "md_recovery")


def _bad(message: str) -> Exception:
    from gateway.control.service import CommandError
    return CommandError(protocol.CODE_BAD_REQUEST, message)


def host_port(text: Any, field: str) -> str:
    """'HOST:PORT' with a port 1..65535, else a bad_request naming the field."""
    host, sep, port = str(text).rpartition(":")
    if not isinstance(text, str) or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _bad(f"strategy.start: {field} must be HOST:PORT, got {text!r}")
    return text


class StrategyCommands:
    """Mixed into ControlService (which supplies cfg, resolve_account, resolve_instrument)."""

    cfg: VenueConfig
    _strategy_manager: StrategyManager | None

    def _strategies(self) -> StrategyManager:
        if self._strategy_manager is None:
            from trading.strategy.manager import StrategyManager
            log_dir = Path(self.cfg.journal.dir or "/tmp") / f"strategies-{self.cfg.venue.name}"
            self._strategy_manager = StrategyManager(self.cfg.venue.name, log_dir, self.cfg.venue.shm_dir or None,
                                                     journal_dir=self.cfg.journal.dir or None)
        return self._strategy_manager

    def cmd_strategy_list(self, user: str, role: str) -> list[dict[str, Any]]:
        return list(self._strategies().list())

    def cmd_strategy_params(self, user: str, role: str, strategy: Any) -> dict[str, Any]:
        try:
            return dict(self._strategies().params(str(strategy)))
        except LookupError as exc:
            raise _bad(str(exc)) from None

    def cmd_strategy_start(self, user: str, role: str, strategy: Any, account: Any, instrument: Any,
                           params: Any = None, via: Any = "slot", other_instruments: Any = None,
                           **tcp_options: Any) -> dict[str, Any]:
        acct = self.resolve_account(account)              # type: ignore[attr-defined]
        ins = self.resolve_instrument(instrument)         # type: ignore[attr-defined]
        if via not in ("slot", "tcp"):
            raise _bad(f"strategy.start: via must be slot or tcp, got {via!r}")
        others = self._other_instruments(other_instruments, ins)
        given = sorted(k for k, v in tcp_options.items() if v is not None)
        if via == "slot" and given:
            raise _bad(f"strategy.start: {', '.join(given)} are for via tcp")
        tcp = self._tcp_access(acct, **tcp_options) if via == "tcp" else None
        try:
            return dict(self._strategies().start(str(strategy), acct, ins, key_values(params), via, others, tcp,
                                                 self._tick(ins)))
        except (LookupError, ValueError) as exc:
            raise _bad(str(exc)) from None

    def cmd_strategy_set(self, user: str, role: str, id: Any, params: Any) -> dict[str, Any]:
        try:
            return dict(self._strategies().set_params(whole_number("id", id), key_values(params)))
        except (LookupError, ValueError) as exc:
            raise _bad(str(exc)) from None

    def cmd_strategy_pause(self, user: str, role: str, id: Any) -> dict[str, Any]:
        try:
            return dict(self._strategies().pause(whole_number("id", id), True))
        except (LookupError, ValueError) as exc:
            raise _bad(str(exc)) from None

    def cmd_strategy_resume(self, user: str, role: str, id: Any) -> dict[str, Any]:
        try:
            return dict(self._strategies().pause(whole_number("id", id), False))
        except (LookupError, ValueError) as exc:
            raise _bad(str(exc)) from None

    def cmd_strategy_stop(self, user: str, role: str, id: Any) -> dict[str, Any]:
        try:
            return dict(self._strategies().stop(whole_number("id", id)))
        except (LookupError, ValueError) as exc:
            raise _bad(str(exc)) from None

    # ---- option checks ----------------------------------------------------------------------------
    def _tick(self, instrument_id: int) -> int:
        ins = self.cfg.instrument(instrument_id)
        return int(ins.tick) if ins is not None else 1

    def _other_instruments(self, texts: Any, primary: int) -> tuple[tuple[int, int], ...]:
        """'MSFT,3:5' -> ((id, tick), ...): known instruments, ticks > 0, no repeats."""
        if texts is None:
            return ()
        if not isinstance(texts, str):
            raise _bad(f"strategy.start: other_instruments must be INSTR[:TICK][,INSTR[:TICK]...], got {texts!r}")
        out: list[tuple[int, int]] = []
        for text in texts.split(","):
            name, sep, tick_text = text.partition(":")
            if not name or (sep and not tick_text.isdigit()) or (sep and int(tick_text) <= 0):
                raise _bad(f"strategy.start: other instrument {text!r}: expected INSTR or INSTR:TICK (a tick > 0)")
            other = self.resolve_instrument(name)         # type: ignore[attr-defined]
            if other == primary or other in [o for o, _ in out]:
                raise _bad(f"strategy.start: other instrument {text!r}: instrument {other} is already followed")
            out.append((other, int(tick_text) if sep else self._tick(other)))
        return tuple(out)

    def _tcp_access(self, account: int, session: Any = None, key_file: Any = None, gateway: Any = None,
                    md: Any = None, md_recovery: Any = None) -> TcpAccess:
        from trading.strategy.manager import TcpAccess
        if isinstance(session, str) and session.isdigit():
            session = int(session)
        sessions = {s.session_id: s for s in self.cfg.sessions}
        if not isinstance(session, int) or isinstance(session, bool) or session not in sessions:
            raise _bad(f"strategy.start: via tcp needs session, one of the venue's sessions "
                       f"({', '.join(map(str, sorted(sessions))) or 'none'}), got {session!r}")
        firm = sessions[session].firm_id
        accounts = next((f.accounts for f in self.cfg.firms if f.firm_id == firm), [])
        if account not in accounts:
            raise _bad(f"strategy.start: account {account} is not firm {firm}'s (session {session}): "
                       f"its accounts are {', '.join(map(str, accounts)) or 'none'}")
        key = sessions[session].key or None
        if key_file is not None:
            if not isinstance(key_file, str) or not os.path.isfile(key_file):
                raise _bad(f"strategy.start: key_file {key_file!r}: no such file on the venue's host")
        elif key is None:
            raise _bad(f"strategy.start: session {session} keeps only its key's hash in the config: "
                       "give key_file (a file holding the key, on the venue's host)")
        if gateway is None:
            port = self.cfg.gateway.listen.rpartition(":")[2]
            if port in ("", "0"):
                raise _bad("strategy.start: give gateway HOST:PORT (the venue's gateway listens on a port "
                           "chosen at start)")
            gateway = self.cfg.gateway.listen
        if md is None or md_recovery is None:
            raise _bad("strategy.start: via tcp needs md (the feed's ZeroMQ endpoint, tcp://HOST:PORT) and "
                       "md_recovery (HOST:PORT of its recovery server)")
        if not isinstance(md, str) or not md.startswith(("tcp://", "ipc://")):
            raise _bad(f"strategy.start: md must be a ZeroMQ endpoint (tcp://HOST:PORT or ipc://PATH), got {md!r}")
        return TcpAccess(host_port(gateway, "gateway"), session, firm, md, host_port(md_recovery, "md_recovery"),
                         key_file=key_file, key=None if key_file is not None else key)
