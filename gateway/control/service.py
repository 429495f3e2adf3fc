"""The control-plane service: a process of its own beside the engine and the gateway.

It attaches to the engine's shared memory as one producer (shm.client.EngineClient) and as one
reader of the event log (shm.client.EventStream), and keeps, from the events alone:
- live orders by account, displayed depth, phases, last prices (state.VenueState);
- positions and realized/unrealized P&L per account and instrument (pnl.PnlBook);
- post-trade risk per account (risk.RiskMonitor: VaR, drawdown, loss, concentration), with alerts
  and the optional automatic kill switch;
- price-band and market-wide circuit breakers (breakers.py) fed with trades on engine time.
Gateway sessions are read from the gateway's admin endpoint (gateway/gw_admin.py).

Invariant: every change the service makes to the venue at run time (instrument risk, account
limit, kill switch, post-trade limits, phase, halt, resume, the schedule, breaker halts and
reopenings) is a sequenced engine command (ENG_CMD_SET_*), so the engine journals it and a replay
of the journal reproduces it; the service never changes trading state any other way, and it
applies a change to its own view only once the engine has acknowledged it (CMD_ACK).

Start and restart (history.py): with a journal, the service first reads the venue's past from the
engine's journals - every released event up to some seq R (orders, books, positions, phases) and
every acknowledged control command up to R (kill switches, limits) - then continues from the live
event log, skipping events with seq <= R, so nothing is counted twice. This works after a restart
of the control plane alone and after an engine that recovered from its journal (whose fresh event
log does not hold the recovered history). Without a journal, the event log is read from its start
when it has not wrapped yet (the best the venue keeps), and kill switches and limits start from
the configuration.

The request/reply API (authentication, roles, audit) is api.py; this module answers commands that
api.py has already authorised, raising CommandError(code, message) on refusal.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
import os
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from gateway.control import protocol, replies
from gateway.control.breakers import Halt, MarketWideBreaker, PriceBandBreaker, Reopen
from gateway.control.config import INT64_MAX, VenueConfig, schedule_seconds
from gateway.control.history import JournalHistory
from gateway.control.order_velocity import NO_LIMIT as NO_VELOCITY_LIMIT
from gateway.control.order_velocity import OrderVelocity, VelocityError, parse_order_velocity
from gateway.regnms.audit import refusal_entry as regnms_refusal
from gateway.control.parent_orders import ParentCommands
from gateway.control.strategy_commands import StrategyCommands
from gateway.enginehost.journal import JournalError
from gateway.control.pnl import PnlBook
from gateway.control.risk import AccountLimits, RiskMonitor, compute_metrics
from gateway.control.state import PHASE_CODES, PHASE_NAMES, VenueState
import msgspec

from native import messages, records
from native.records import Command, Event
from shm import errors as shm_errors
from shm.client import EngineClient, EventStream

if TYPE_CHECKING:
    from trading.strategy.manager import StrategyManager

log = logging.getLogger("gateway.control")

CLOSED, PRE_OPEN, CONTINUOUS, HALTED = (int(records.Phase.CLOSED), int(records.Phase.PRE_OPEN),
                                        int(records.Phase.CONTINUOUS), int(records.Phase.HALTED))
# The engine's allowed transitions (ENGINE.md, SET_PHASE) composed into paths: from -> to -> steps.
PHASE_PATHS: dict[tuple[int, int], list[int]] = {
    (CLOSED, PRE_OPEN): [PRE_OPEN], (CLOSED, CONTINUOUS): [PRE_OPEN, CONTINUOUS],
    (PRE_OPEN, CONTINUOUS): [CONTINUOUS], (PRE_OPEN, CLOSED): [CLOSED],
    (CONTINUOUS, HALTED): [HALTED], (CONTINUOUS, CLOSED): [CLOSED],
    (CONTINUOUS, PRE_OPEN): [HALTED, PRE_OPEN],
    (HALTED, PRE_OPEN): [PRE_OPEN], (HALTED, CONTINUOUS): [PRE_OPEN, CONTINUOUS],
    (HALTED, CLOSED): [CLOSED],
}
POST_TRADE_METRIC = {"var_limit": "var", "drawdown_limit": "drawdown",
                     "concentration_limit": "concentration", "loss_limit": "loss",
                     "notional_limit": "notional", "auto_kill": "auto_kill"}
# SET_POST_TRADE_LIMIT.limit (native/layout/venue_layout.h eng_post_trade_limit_t) <-> risk.py metric
POST_TRADE_CODE = {"var": int(records.PostTradeLimit.VAR), "drawdown": int(records.PostTradeLimit.DRAWDOWN),
                   "concentration": int(records.PostTradeLimit.CONCENTRATION),
                   "loss": int(records.PostTradeLimit.LOSS), "notional": int(records.PostTradeLimit.NOTIONAL),
                   "auto_kill": int(records.PostTradeLimit.AUTO_KILL)}
POST_TRADE_METRIC_OF_CODE = {v: k for k, v in POST_TRADE_CODE.items()}
# Commands whose CMD_ACK changes what the service knows (kill switches and limits).
CONTROL_COMMANDS = frozenset({"SET_INSTRUMENT_RISK", "SET_ACCOUNT_LIMIT", "SET_KILL_SWITCH",
                              "SET_POST_TRADE_LIMIT", "SET_ORDER_VELOCITY"})
CONTROL_CMD_CODES = frozenset(int(records.CmdType[n]) for n in CONTROL_COMMANDS)
# The commands whose acknowledgement changes the service's view (_apply_control).
ControlCommand = (messages.SetInstrumentRisk | messages.SetAccountLimit | messages.SetKillSwitch
                  | messages.SetPostTradeLimit | messages.SetOrderVelocity)
CONTROL_CLASSES = (messages.SetInstrumentRisk, messages.SetAccountLimit, messages.SetKillSwitch,
                   messages.SetPostTradeLimit, messages.SetOrderVelocity)
RISK_EVAL_INTERVAL_NS = 20_000_000     # dirty accounts are re-evaluated at most every 20 ms
SYSTEM_USER = "system"



# The files a venue keeps in its journal directory beside the segments and snapshots, by name,
# with what each is (journal.status lists them apart from the segments).
_JOURNAL_DIR_FILES = {
    "gateway.state": "the gateway's flow store: sessions, sequence numbers, outbound log",
    "gateway.state.sessions": "the sessions the gateway's flow store was written for",
    "device-flush": "empty; on xfs or where the file system root is not visible, its fdatasync is a durable sync's disk cache flush (jrnl_durable.c)",
    "LOST-COMMANDS.txt": "acknowledged commands recovery could not find; journal verify fails while it exists",
}


def _journal_dir_file_role(name: str) -> str:
    """What a file of the journal directory that is no segment or snapshot is."""
    if name in _JOURNAL_DIR_FILES:
        return _JOURNAL_DIR_FILES[name]
    if name.startswith("gateway.state.") and name[len("gateway.state."):].replace("T", "").isdigit():
        return "a flow store set aside when the configured sessions changed (up.prepare_gateway_store)"
    return "not the venue's"


def _is_segment_name(name: str) -> bool:
    """A journal segment's file name: cmd-/evt- then its index in digits, then .jrnl."""
    return name[:4] in ("cmd-", "evt-") and name.endswith(".jrnl") and name[4:-5].isdigit()


class CommandError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _wire(x: Any) -> Any:
    """Fractions (exact P&L) -> int or float for msgpack; typed replies (replies.py) are encoded
    by msgspec as they are."""
    if isinstance(x, msgspec.Struct):
        return x
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else float(x)
    if isinstance(x, dict):
        return {k: _wire(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_wire(v) for v in x]
    return x


@dataclass
class Timer:
    due_ns: int          # time.monotonic_ns(), i.e. engine time (the sequencer stamps CLOCK_MONOTONIC)
    instrument: int
    target: int          # phase to move to
    reason: str


class BreakerSet:
    """The configured breakers (breakers.py) behind one feed: price band per instrument and, when
    enabled, the market-wide levels over an equal-weighted index of every instrument (previous
    close = configured reference price). Both run on engine time."""

    def __init__(self, cfg: VenueConfig) -> None:
        b = cfg.breakers
        refs = {i.id: i.reference_price for i in cfg.instruments}
        self.band = (PriceBandBreaker(b.price_band_pct, int(b.halt_s * 1e9), references=refs)
                     if b.price_band_pct > 0 else None)
        self.market = (MarketWideBreaker({i: 1.0 for i in refs}, refs, levels_pct=b.market_wide_levels_pct,
                                         halts_ns=[None if d < 0 else int(d * 1e9) for d in b.market_wide_halt_s])
                       if b.market_wide_enabled else None)

    def feed_event(self, ev: Event) -> list[Any]:
        out: list[Any] = []
        if self.band is not None:
            out += self.band.feed_event(ev)
        if self.market is not None:
            out += self.market.feed_event(ev)
        return self._filter(out)

    def poll(self, now_ns: int) -> list[Any]:
        out: list[Any] = []
        if self.band is not None:
            out += self.band.on_time(now_ns)
        if self.market is not None:
            out += self.market.on_time(now_ns)
        return self._filter(out)

    def _filter(self, actions: list[Any]) -> list[Any]:
        # A band reopening never lifts a market-wide halt that is still running.
        if self.market is not None and self.market.halted():
            actions = [a for a in actions if not isinstance(a, Reopen)]
        return actions


class ControlService(ParentCommands, StrategyCommands):
    def __init__(self, cfg: VenueConfig, publish: Callable[[bytes, dict[str, Any]], None] | None = None,
                 audit: Callable[..., Any] | None = None, gateway_admin: Any = None) -> None:
        self.cfg = cfg
        self.publish = publish or (lambda topic, body: None)
        self.audit = audit
        self.gateway_admin = gateway_admin          # gateway.orderentry.admin.GatewayAdmin or None
        self.symbols = {i.id: i.symbol for i in cfg.instruments}
        self.state = VenueState([i.id for i in cfg.instruments])
        self.book = PnlBook()
        limits = {a.id: self._limits_from_config(a) for a in cfg.accounts}
        self.monitor = RiskMonitor(limits=limits)
        self.instrument_risk = {i.id: {"max_order_qty": i.max_order_qty,
                                       "max_order_notional": i.max_order_notional,
                                       "price_collar_ticks": i.price_collar_ticks} for i in cfg.instruments}
        self.max_position: dict[tuple[int, int], int] = {}   # (account, instrument) -> engine limit
        for a in cfg.accounts:
            for i in cfg.instruments:
                self.max_position[(a.id, i.id)] = a.max_position
        # account -> the engine's order-velocity limit (SET_ORDER_VELOCITY), all instruments
        self.order_velocity = {a.id: parse_order_velocity(a.order_velocity) for a in cfg.accounts}
        self.kill_engaged: set[int] = set()
        self.alerts: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)
        self._next_alert_id = 1         # alert ids, for acknowledgement (alerts.ack)
        self.timers: dict[int, Timer] = {}
        self.breakers = BreakerSet(cfg)
        self.engine: EngineClient | None = None
        self.events: EventStream | None = None
        self.started_mono = time.monotonic()
        self._schedule_done: set[str] = set()
        self._dirty_accounts: set[int] = set()
        self._holders: dict[int, set[int]] = {}     # instrument -> accounts that traded it
        self._last_risk_eval_ns = 0
        self._lapped = False
        self._breaker_actions: list[Any] = []   # acted on in tick(), never inside an event pump
        self._sessions_cache: list[dict[str, Any]] | None = None
        self.engine_commands = 0
        self.history: JournalHistory | None = None
        self._skip_through = 0          # events with seq <= this came from the journal already
        self._own_seq = 0               # seq of the command this service is waiting on
        self._journal_keys: set[tuple[Any, ...]] = set()   # limits the journal has set
        self.rebuilt: dict[str, Any] = {"from": None}
        self._strategy_manager: StrategyManager | None = None   # started on first use

    # ---- set-up ---------------------------------------------------------------------------------

    @staticmethod
    def _limits_from_config(a: Any) -> AccountLimits:
        def opt(v: float) -> float | None:
            return v if v > 0 else None
        return AccountLimits(var=opt(a.var_limit), drawdown=opt(a.drawdown_limit),
                             concentration=opt(a.concentration_limit), loss=opt(a.loss_limit),
                             notional=opt(a.notional_limit), auto_kill=a.auto_kill)

    def attach(self, timeout_s: float = 30.0, stopping: Callable[[], bool] = lambda: False) -> None:
        """Attach to the engine (retrying while it boots), read its event log from the start when
        the log has not wrapped, then send the configured limits as sequenced commands."""
        name, shm_dir = self.cfg.venue.name, self.cfg.venue.shm_dir or None
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.events = EventStream(name, shm_dir)
                self.engine = EngineClient(name, shm_dir)
                break
            except (shm_errors.ShmError, OSError) as exc:
                if self.events is not None:
                    self.events.close()
                    self.events = None
                if time.monotonic() > deadline or stopping():
                    raise CommandError(protocol.CODE_UNAVAILABLE,
                                       f"cannot attach engine {name!r}: {exc}") from None
                time.sleep(0.05)   # the engine is still creating its segments: poll again
        rx = self.events.reader.rx
        if rx.cursor <= rx.capacity:
            # Nothing was overwritten yet: read the whole log (events already taken from the
            # journal are skipped by seq), so that orders, books and positions include what
            # happened before this service started.
            rx.cursor = 0
        if self.cfg.journal.dir:
            self.rebuild_from_journal(self.cfg.journal.dir)
        self.pump_events()
        self.push_config()
        self.rebuild_parents()

    def rebuild_from_journal(self, directory: str) -> None:
        """The venue's past from its journals (history.py): released events up to seq R, then the
        acknowledged control commands up to R. The live log then continues after R. Raises
        CommandError(unavailable) when the journal cannot be read."""
        try:
            self.history = JournalHistory(directory)
            evs = list(self.history.released_events())
            through = self.history.last_event_seq
            cmds = list(self.history.commands_through(through))
        except (JournalError, OSError) as exc:
            raise CommandError(protocol.CODE_UNAVAILABLE, f"journal {directory}: {exc}") from None
        first_seq = evs[0].seq if evs else 0
        if first_seq > 1:
            # Journal retention (engine --journal-keep-snapshots) removed the oldest segments: the
            # fills and orders before first_seq are gone, so positions and P&L would be partial.
            self.alert("breach", "engine", f"journal {directory} starts at seq {first_seq} (older segments "
                       "were removed by retention): positions, P&L and orders before it are missing")
        acked = {ev.seq for ev in evs if isinstance(ev, messages.CmdAckEvent)}
        for ev in evs:
            self._apply_event(ev, live=False)
        for cmd in cmds:
            if cmd.seq in acked and isinstance(cmd, CONTROL_CLASSES):
                self._apply_control(cmd)
        self._skip_through = through
        # Risk alerts are evaluated again on the next fill, never for the past: an automatic kill
        # switch the operator released before the restart stays released.
        self._dirty_accounts.clear()
        if evs:
            # Bring the breakers to the journal's engine time: reopenings that fell due in the past
            # happened then (a stale one must not reopen an instrument an operator halted since).
            self.breakers.poll(evs[-1].ts_ns)
        self._breaker_actions.clear()     # their SET_PHASE commands are in the journal already
        phases_seen = any(isinstance(ev, messages.PhaseEvent) for ev in evs)
        if phases_seen:
            # The schedule's steps due by now ran before the restart (their phase changes are in
            # the journal); only later steps run.
            now_s = self._schedule_now_s()
            self._schedule_done |= {step for t, step in self._schedule_times() if t <= now_s}
        self.rebuilt = {"from": directory, "first_seq": first_seq, "through_seq": through, "events": len(evs),
                        "commands": len(cmds), "orders_live": len(self.state.orders),
                        "kill_switches": sorted(self.kill_engaged)}
        # A normal start-up line (every start with a journal), not a warning: printed like the
        # other processes' start-up lines.
        print(f"control: rebuilt from journal {directory} through seq {through}: {len(evs)} "
              f"events, {len(cmds)} commands", file=sys.stderr, flush=True)

    def push_config(self) -> None:
        """The configured instrument risk, account limits and post-trade limits, as sequenced
        engine commands. A limit the journal already set is not sent again: the configuration
        gives the values a fresh venue starts with, run-time changes (risk.set) survive restarts."""
        cmds: list[Command] = []
        for ins_id, r in self.instrument_risk.items():
            if ("instrument_risk", ins_id) not in self._journal_keys:
                cmds.append(messages.SetInstrumentRisk(instrument_id=ins_id, **r))
        for (acct, ins_id), limit in sorted(self.max_position.items()):
            if limit != INT64_MAX and ("max_position", acct, ins_id) not in self._journal_keys:
                cmds.append(messages.SetAccountLimit(instrument_id=ins_id, account_id=acct, max_position=limit))
        for acct, velocity in sorted(self.order_velocity.items()):
            if velocity.limited and ("order_velocity", acct) not in self._journal_keys:
                cmds.append(messages.SetOrderVelocity(account_id=acct, max_orders=velocity.max_orders,
                                                      window_ns=velocity.window_ns))
        for a in self.cfg.accounts:
            lim = self.monitor.limits_for(a.id) or AccountLimits()
            for metric, code in POST_TRADE_CODE.items():
                value = getattr(lim, metric)
                if value is None or value is False or ("post_trade", a.id, metric) in self._journal_keys:
                    continue
                cmds.append(self._post_trade_command(a.id, metric, value))
        for cmd in cmds:
            self._engine_command(cmd)
        kept = self._journal_over_config()
        if kept:
            # A configured limit the journal already set is not sent (above); said, never silently:
            # an operator who edits a limit in the file and restarts expects it in force.
            line = (f"the journal's limits stay in force where the config now says otherwise (set at run "
                    f"time or by an earlier config; change them with the shell's `risk set`): {'; '.join(kept)}")
            print(f"control: {line}", file=sys.stderr, flush=True)

    def _journal_over_config(self) -> list[str]:
        """Each configured limit that differs from the value the journal set: 'WHAT JOURNAL (config CONFIG)'."""
        out: list[str] = []
        for i in self.cfg.instruments:
            conf = {"max_order_qty": i.max_order_qty, "max_order_notional": i.max_order_notional,
                    "price_collar_ticks": i.price_collar_ticks}
            if ("instrument_risk", i.id) in self._journal_keys:
                out += [f"{i.symbol} {k} {self.instrument_risk[i.id][k]} (config {v})"
                        for k, v in conf.items() if self.instrument_risk[i.id][k] != v]
        for a in self.cfg.accounts:
            for i in self.cfg.instruments:
                held = self.max_position.get((a.id, i.id))
                if ("max_position", a.id, i.id) in self._journal_keys and held != a.max_position:
                    out.append(f"account {a.id} max_position {i.symbol} {held} (config {a.max_position})")
            if ("order_velocity", a.id) in self._journal_keys:
                conf_v, held_v = parse_order_velocity(a.order_velocity), self.order_velocity[a.id]
                if (conf_v.max_orders, conf_v.window_ns) != (held_v.max_orders, held_v.window_ns):
                    out.append(f"account {a.id} order_velocity {held_v.max_orders}/{held_v.window_ns}ns "
                               f"(config {a.order_velocity})")
            conf_l, held_l = self._limits_from_config(a), self.monitor.limits_for(a.id) or AccountLimits()
            for metric in POST_TRADE_CODE:
                if ("post_trade", a.id, metric) in self._journal_keys and \
                        getattr(held_l, metric) != getattr(conf_l, metric):
                    out.append(f"account {a.id} {metric} {getattr(held_l, metric)} (config {getattr(conf_l, metric)})")
        return out

    @staticmethod
    def _post_trade_command(account: int, metric: str, value: float | bool | None) -> messages.SetPostTradeLimit:
        """SET_POST_TRADE_LIMIT for a risk.py metric; value None/False = no limit / off."""
        if metric == "auto_kill":
            e6 = records.POST_TRADE_SCALE if value else 0
        else:
            e6 = 0 if value is None else round(value * records.POST_TRADE_SCALE)
        if not 0 <= e6 <= INT64_MAX:
            raise CommandError(protocol.CODE_BAD_REQUEST, f"value: {value!r} is out of range "
                               f"(0..{protocol.POST_TRADE_LIMIT_MAX})")
        return messages.SetPostTradeLimit(account_id=account, limit=POST_TRADE_CODE[metric], value_e6=e6)

    def _apply_control(self, cmd: ControlCommand) -> None:
        """What an acknowledged control command changes in the service's view. The one place
        kill switches and limits change: for this service's own commands, for commands found in
        the journal at start, and for commands another instance sent (read from the journal)."""
        if isinstance(cmd, messages.SetInstrumentRisk):
            ins = cmd.instrument_id
            self.instrument_risk[ins] = {"max_order_qty": cmd.max_order_qty,
                                         "max_order_notional": cmd.max_order_notional,
                                         "price_collar_ticks": cmd.price_collar_ticks}
            self._journal_keys.add(("instrument_risk", ins))
        elif isinstance(cmd, messages.SetAccountLimit):
            key = (cmd.account_id, cmd.instrument_id)
            self.max_position[key] = cmd.max_position
            self._journal_keys.add(("max_position", *key))
        elif isinstance(cmd, messages.SetOrderVelocity):
            self.order_velocity[cmd.account_id] = OrderVelocity(cmd.max_orders, cmd.window_ns)
            self._journal_keys.add(("order_velocity", cmd.account_id))
        elif isinstance(cmd, messages.SetKillSwitch):
            if cmd.engaged:
                self.kill_engaged.add(cmd.account_id)
            else:
                self.kill_engaged.discard(cmd.account_id)
        else:
            self._apply_post_trade_limit(cmd)

    def _apply_post_trade_limit(self, cmd: messages.SetPostTradeLimit) -> None:
        acct, metric = cmd.account_id, POST_TRADE_METRIC_OF_CODE.get(cmd.limit)
        if metric is None:
            return
        e6 = cmd.value_e6
        value: float | bool | None = (bool(e6) if metric == "auto_kill"
                                      else (e6 / records.POST_TRADE_SCALE if e6 else None))
        try:
            self.monitor.set_limit(acct, metric, value)
        except ValueError as exc:      # e.g. concentration > 1 sent by another tool
            self.alert("warn", "risk", f"account {acct}: post-trade limit {metric} {value!r} "
                       f"(seq {cmd.seq}) not applied: {exc}")
            return
        self._journal_keys.add(("post_trade", acct, metric))
        self._dirty_accounts.add(acct)

    # ---- engine commands ------------------------------------------------------------------------

    def _engine_command(self, cmd: Command) -> replies.EngineAck:
        """Submit one sequenced command, wait until its events are applied, return its first event.
        Raises CommandError(engine_reject | unavailable)."""
        if self.engine is None:
            raise CommandError(protocol.CODE_UNAVAILABLE, "not attached to the engine")
        try:
            reply = self.engine.submit(cmd)
        except (shm_errors.ShmError, OSError) as exc:
            raise CommandError(protocol.CODE_UNAVAILABLE, f"engine: {exc}") from None
        self.engine_commands += 1
        # A control command's events end with its CMD_ACK (or are one REJECTED); the engine
        # answers after publishing them, so they are on the log already: apply them before replying.
        self._own_seq = reply.seq
        deadline = time.monotonic() + 2.0
        try:
            while self.state.last_outcome[0] < reply.seq and time.monotonic() < deadline:
                if not self.pump_events():
                    time.sleep(0)
        finally:
            self._own_seq = 0
        seq, outcome, value = self.state.last_outcome
        if seq != reply.seq:
            raise CommandError(protocol.CODE_INTERNAL, f"{records.type_name(cmd)} (seq {reply.seq}): its events did "
                               "not reach the control plane (event log lapped?)")
        if outcome == "rejected":
            reason = records.Reason(value).name
            raise CommandError(protocol.CODE_ENGINE_REJECT,
                               f"engine rejected {records.type_name(cmd)} (seq {reply.seq}): {reason}")
        if isinstance(cmd, CONTROL_CLASSES):
            self._apply_control(msgspec.structs.replace(cmd, seq=reply.seq))
        return replies.EngineAck(seq=reply.seq, affected=value)

    def pump_events(self, max_events: int = 1 << 14) -> int:
        if self.events is None:
            return 0
        try:
            decoded, lapped = self.events.poll_decoded(max_events)
            evs = decoded
        except shm_errors.ShmError as exc:
            self.alert("breach", "engine", f"event log unreadable: {exc}")
            return 0
        if lapped and not self._lapped:
            self._lapped = True
            self.alert("breach", "engine", "event log lapped: the control plane missed events; "
                       "orders, books and positions may be stale")
        for ev in evs:
            if ev.seq <= self._skip_through:
                continue                    # read from the journal at start already
            self._apply_event(ev, live=True)
        return len(evs)

    def _apply_event(self, ev: Event, live: bool) -> None:
        """One engine event, from the live log or (live=False) from the journal at start."""
        self.state.apply(ev)
        if isinstance(ev, messages.TradeEvent):
            self.book.apply_event(ev)
            # The trade marks the instrument: every account holding it has a new equity.
            holders = self._holders.setdefault(ev.instrument_id, set())
            holders.add(ev.buy_account_id)
            holders.add(ev.sell_account_id)
            self._dirty_accounts |= holders
        if isinstance(ev, (messages.TradeEvent, messages.AuctionEvent)):
            # Fed in the past too: the breakers' state (references, running halts) is engine time.
            self._breaker_actions.extend(self.breakers.feed_event(ev))
        elif isinstance(ev, messages.PhaseEvent) and live:
            self.publish(protocol.TOPIC_STATUS, {"kind": "phase", "instrument": self.symbol(ev.instrument_id),
                                                 "phase": PHASE_NAMES.get(ev.phase, "?"),
                                                 "prev_phase": PHASE_NAMES.get(ev.prev_phase, "?"),
                                                 "seq": ev.seq})
        elif (isinstance(ev, messages.CmdAckEvent) and live and ev.cmd_type in CONTROL_CMD_CODES
              and ev.seq != self._own_seq):
            self._foreign_control(ev.seq)
        elif live and isinstance(ev, (messages.RejectedEvent, messages.CancelledEvent)):
            entry = regnms_refusal(ev)       # Reg NMS refusals the engine decided: one audit line each
            if entry is not None:
                self._system_audit(entry[0], entry[1], False, protocol.CODE_ENGINE_REJECT, entry[2])

    def _foreign_control(self, seq: int) -> None:
        """A control command this service did not send (e.g. sent by its previous instance just
        before a restart) was acknowledged: read its body from the command journal."""
        if self.history is None:
            self.alert("warn", "engine", f"a control command (seq {seq}) came from elsewhere and "
                       "the venue has no journal to read it from; kill switches or limits may be stale")
            return
        try:
            cmds = list(self.history.commands_through(seq))
        except JournalError as exc:
            self.alert("warn", "engine", f"control command seq {seq}: journal unreadable: {exc}")
            return
        for cmd in cmds:
            if cmd.seq == seq and isinstance(cmd, CONTROL_CLASSES):
                self._apply_control(cmd)

    # ---- helpers ------------------------------------------------------------------------------

    def symbol(self, instrument_id: int) -> str:
        return self.symbols.get(instrument_id, str(instrument_id))

    def resolve_instrument(self, key: Any) -> int:
        if isinstance(key, bool):
            raise CommandError(protocol.CODE_BAD_REQUEST, f"instrument: expected an id or a symbol, got {key!r}")
        ins = self.cfg.instrument(key) if isinstance(key, (int, str)) else None
        if ins is None:
            raise CommandError(protocol.CODE_BAD_REQUEST,
                               f"instrument: unknown instrument {key!r} (known: "
                               f"{', '.join(f'{i.id}={i.symbol}' for i in self.cfg.instruments)})")
        return int(ins.id)

    def resolve_instruments(self, key: Any) -> list[int]:
        if isinstance(key, str) and key.lower() == "all":
            return [i.id for i in self.cfg.instruments]
        return [self.resolve_instrument(key)]

    def resolve_account(self, key: Any) -> int:
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if isinstance(key, bool) or not isinstance(key, int) or key not in self.cfg.account_ids():
            raise CommandError(protocol.CODE_BAD_REQUEST,
                               f"account: unknown account {key!r} (known: {self.cfg.account_ids()})")
        return key

    def alert(self, level: str, kind: str, message: str, **extra: Any) -> dict[str, Any]:
        entry = {"id": self._next_alert_id, "ts_ns": time.time_ns(), "level": level, "kind": kind,
                 "message": message, **_wire(extra)}
        self._next_alert_id += 1
        self.alerts.append(entry)
        self.publish(protocol.TOPIC_ALERT, entry)
        log.warning("alert %s %s: %s", level, kind, message)
        return entry

    def _system_audit(self, command: str, args: dict[str, Any], ok: bool, code: str, message: str = "") -> None:
        if self.audit is not None:
            self.audit(SYSTEM_USER, SYSTEM_USER, command, args, ok, code, message)

    # ---- phases -------------------------------------------------------------------------------

    def move_phase(self, instrument: int, target: int) -> list[replies.EngineAck]:
        """Walk the engine's allowed transitions to `target`, one sequenced SET_PHASE per step."""
        current = self.state.instruments[instrument].phase
        if current == target:
            return []
        path = PHASE_PATHS.get((current, target))
        if path is None:
            raise CommandError(protocol.CODE_BAD_REQUEST,
                               f"{self.symbol(instrument)} is {PHASE_NAMES[current]}: cannot go to "
                               f"{PHASE_NAMES[target]} (allowed from there: "
                               f"{', '.join(PHASE_NAMES[t] for (f, t) in PHASE_PATHS if f == current)})")
        done = []
        for step in path:
            done.append(self._engine_command(messages.SetPhase(instrument_id=instrument, phase=step)))
        out = []
        auction = self.state.instruments[instrument].last_auction
        for r in done:
            if auction is not None and auction.seq == r.seq:
                out.append(msgspec.structs.replace(r, auction=auction))
            else:
                out.append(r)
        return out

    # ---- periodic work ------------------------------------------------------------------------

    def tick(self) -> None:
        """Schedule, breaker timers and actions, post-trade risk. Called by the main loop."""
        self._apply_schedule()
        now = time.monotonic_ns()
        for ins, t in list(self.timers.items()):
            if t.due_ns <= now:
                del self.timers[ins]
                self._timer_fire(t)
        actions, self._breaker_actions = self._breaker_actions, []
        for action in actions + self.breakers.poll(now):
            self._breaker_action(action)
        if self._dirty_accounts and now - self._last_risk_eval_ns >= RISK_EVAL_INTERVAL_NS:
            self._last_risk_eval_ns = now
            accounts, self._dirty_accounts = self._dirty_accounts, set()
            for acct in sorted(accounts):
                self._evaluate_risk(acct)

    def _schedule_times(self) -> list[tuple[int, str]]:
        s = self.cfg.schedule
        out = []
        for f in ("pre_open", "open", "closing_call", "close"):
            t = schedule_seconds(getattr(s, f), f"schedule.{f}")
            if t is not None:
                out.append((t, f))
        return out

    def _schedule_now_s(self) -> float:
        if self.cfg.schedule.clock == "utc":
            return time.time() % 86400
        return time.monotonic() - self.started_mono

    def _apply_schedule(self) -> None:
        now_s = self._schedule_now_s()
        for t, step in self._schedule_times():
            if step in self._schedule_done or t > now_s:
                continue
            self._schedule_done.add(step)
            for ins in self.symbols:
                phase = self.state.instruments[ins].phase
                target = {"pre_open": PRE_OPEN if phase == CLOSED else None,
                          "open": CONTINUOUS if phase == PRE_OPEN else None,
                          "closing_call": PRE_OPEN if phase == CONTINUOUS else None,
                          "close": CLOSED if phase != CLOSED else None}[step]
                if target is None:
                    continue
                self.timers.pop(ins, None)
                try:
                    if step == "close" and phase == PRE_OPEN and "closing_call" in self._schedule_done:
                        self.move_phase(ins, CONTINUOUS)          # closing auction uncross
                    self.move_phase(ins, target)
                    self._system_audit(f"schedule.{step}", {"instrument": self.symbol(ins)}, True, "ok")
                except CommandError as exc:
                    self._system_audit(f"schedule.{step}", {"instrument": self.symbol(ins)}, False,
                                       exc.code, exc.message)
                    self.alert("warn", "schedule", f"{step} of {self.symbol(ins)}: {exc.message}")

    def _timer_fire(self, t: Timer) -> None:
        try:
            self.move_phase(t.instrument, t.target)
            self._system_audit("timer." + t.reason, {"instrument": self.symbol(t.instrument),
                                                     "phase": PHASE_NAMES[t.target]}, True, "ok")
        except CommandError as exc:
            self._system_audit("timer." + t.reason, {"instrument": self.symbol(t.instrument)}, False,
                               exc.code, exc.message)
            self.alert("warn", "phase", f"{t.reason} of {self.symbol(t.instrument)}: {exc.message}")
            return
        if t.target == PRE_OPEN and t.reason in ("breaker_reopen",):
            call_ns = int(self.cfg.breakers.reopen_call_s * 1e9)
            self.timers[t.instrument] = Timer(time.monotonic_ns() + call_ns, t.instrument, CONTINUOUS,
                                              "reopen_auction")

    def _breaker_action(self, action: Any) -> None:
        if isinstance(action, Halt):
            ins = action.instrument
            if self.state.instruments[ins].phase != CONTINUOUS:
                return
            try:
                self.move_phase(ins, HALTED)
            except CommandError as exc:
                self.alert("warn", "breaker", f"halt of {self.symbol(ins)} failed: {exc.message}")
                return
            self.alert("breach", "breaker", f"{self.symbol(ins)} halted: {action.reason}",
                       instrument=self.symbol(ins), until_ts_ns=action.until_ts_ns)
            self._system_audit("breaker.halt", {"instrument": self.symbol(ins), "reason": action.reason},
                               True, "ok")
        elif isinstance(action, Reopen):
            ins = action.instrument
            if self.state.instruments[ins].phase == HALTED and ins not in self.timers:
                self.timers[ins] = Timer(time.monotonic_ns(), ins, PRE_OPEN, "breaker_reopen")

    def _evaluate_risk(self, acct: int) -> None:
        a = self.cfg.account(acct)
        try:
            metrics = compute_metrics(self.book, acct, interval_ns=int(a.var_interval_s * 1e9),
                                      confidence=a.var_confidence)
        except ValueError as exc:
            self.alert("warn", "risk", f"account {acct}: metrics unavailable: {exc}")
            return
        self.monitor.warn_fraction = a.warn_fraction
        for al in self.monitor.evaluate(acct, {k: (float(v) if isinstance(v, Fraction) else v)
                                               for k, v in metrics.items()}):
            self.alert(al.level, "risk", f"account {acct}: {al.metric} {float(al.value):.6g} "
                       f"{'>' if al.level == 'breach' else '>='} "
                       f"{'limit' if al.level == 'breach' else 'warn level of limit'} {al.limit}",
                       account=acct, metric=al.metric, value=al.value, limit=al.limit, kill=al.kill)
            if al.kill and acct not in self.kill_engaged:
                try:
                    r = self.set_kill_switch(acct, True)
                    self._system_audit("killswitch", {"account": acct, "engaged": True,
                                                      "auto": al.metric}, True, "ok")
                    self.alert("breach", "killswitch", f"account {acct}: kill switch engaged "
                               f"automatically ({al.metric} breach), {r.cancelled} orders cancelled",
                               account=acct)
                except CommandError as exc:
                    self._system_audit("killswitch", {"account": acct, "engaged": True, "auto": al.metric},
                                       False, exc.code, exc.message)

    # ---- commands (called by api.py once authorised) ------------------------------------------

    def set_kill_switch(self, account: int, engaged: bool) -> replies.KillSwitch:
        r = self._engine_command(messages.SetKillSwitch(account_id=account, engaged=int(engaged)))
        return replies.KillSwitch(account=account, engaged=engaged, cancelled=r.affected, seq=r.seq)

    def handle(self, command: str, args: dict[str, Any], user: str, role: str) -> Any:
        fn = getattr(self, "cmd_" + command.replace(".", "_"), None)
        if fn is None:
            raise CommandError(protocol.CODE_UNKNOWN_COMMAND, f"no handler for {command!r}")
        # Read-your-writes: whatever a client saw from the gateway (its execution report) is on
        # the event log already; apply it before answering.
        while self.pump_events():
            pass
        return _wire(fn(user=user, role=role, **args))

    def cmd_whoami(self, user: str, role: str) -> replies.Whoami:
        return replies.Whoami(user=user, role=role)

    def engine_info(self) -> replies.EngineInfo:
        if self.engine is None:
            return replies.EngineInfo(alive=False)
        ctl = self.engine.control.control()
        try:
            self.engine.control.check_live(2_000_000_000)
            alive = True
        except shm_errors.ShmError:
            alive = False
        return replies.EngineInfo(alive=alive, name=self.cfg.venue.name, seq=int(ctl.last_seq),
                                  commands=int(ctl.commands), events=int(ctl.events),
                                  producers=int(ctl.producer_count), cpu=int(ctl.engine_cpu),
                                  events_seen=self.state.events, lapped=self._lapped)

    def cmd_status(self, user: str, role: str) -> replies.Status:
        instruments = []
        for i in self.cfg.instruments:
            st = self.state.instruments[i.id]
            bids, asks = st.depth(1)
            timer = self.timers.get(i.id)
            instruments.append(replies.InstrumentStatus(
                id=i.id, symbol=i.symbol, tick_size=i.tick, lot_size=i.lot, phase=PHASE_NAMES.get(st.phase, "?"),
                last=st.last, ref=st.last if st.last is not None else i.reference_price,
                bid=bids[0][0] if bids else None, ask=asks[0][0] if asks else None, trades=st.trades,
                volume=st.volume,
                pending=f"{PHASE_NAMES[timer.target]} at engine ns {timer.due_ns}" if timer is not None else None))
        sessions = self._sessions(quiet=True)
        return replies.Status(
            venue=self.cfg.venue.name, engine=self.engine_info(), instruments=instruments,
            sessions_connected=sum(1 for s in sessions if s.get("connected")) if sessions is not None else None,
            alerts_open=len(self.monitor.open_alerts()), kill_switches=sorted(self.kill_engaged),
            orders_live=len(self.state.orders), price_scale=self.cfg.venue.price_scale,
            accounts=[replies.FirmAccount(id=a, firm=f.firm_id, firm_name=f.name)
                      for f in self.cfg.firms for a in f.accounts],
            history=self.rebuilt)

    def _sessions(self, quiet: bool = False) -> list[dict[str, Any]] | None:
        if self.gateway_admin is None:
            if quiet:
                return None
            raise CommandError(protocol.CODE_UNAVAILABLE, "no gateway admin endpoint configured "
                               "(gateway.admin_endpoint)")
        from gateway.orderentry.admin import GatewayAdminError
        try:
            self._sessions_cache = self.gateway_admin.sessions()
        except GatewayAdminError as exc:
            if quiet:
                return self._sessions_cache
            raise CommandError(protocol.CODE_UNAVAILABLE, f"gateway admin: {exc.message}") from None
        return self._sessions_cache

    def cmd_sessions_list(self, user: str, role: str) -> list[dict[str, Any]]:
        return self._sessions() or []

    def cmd_sessions_disconnect(self, user: str, role: str, session_id: Any) -> dict[str, Any]:
        if isinstance(session_id, str) and session_id.isdigit():
            session_id = int(session_id)
        if isinstance(session_id, bool) or not isinstance(session_id, int) or not 0 <= session_id < 1 << 64:
            raise CommandError(protocol.CODE_BAD_REQUEST,
                               f"session_id: expected an unsigned 64-bit integer, got {session_id!r}")
        if self.gateway_admin is None:
            raise CommandError(protocol.CODE_UNAVAILABLE, "no gateway admin endpoint configured")
        from gateway.orderentry.admin import GatewayAdminError
        try:
            answer: dict[str, Any] = self.gateway_admin.disconnect(session_id, f"operator {user}")
            return answer
        except GatewayAdminError as exc:
            code = protocol.CODE_BAD_REQUEST if exc.code in ("unknown_session", "bad_request") \
                else protocol.CODE_UNAVAILABLE
            raise CommandError(code, f"gateway admin: {exc.message}") from None

    def cmd_book(self, user: str, role: str, instrument: Any, levels: Any = 10) -> replies.Book:
        ins = self.resolve_instrument(instrument)
        if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 1000:
            raise CommandError(protocol.CODE_BAD_REQUEST, f"levels: expected 1..1000, got {levels!r}")
        st = self.state.instruments[ins]
        bids, asks = st.depth(levels)
        return replies.Book(instrument=self.symbol(ins), instrument_id=ins, phase=PHASE_NAMES.get(st.phase),
                            last=st.last, bids=bids, asks=asks)

    def cmd_orders(self, user: str, role: str, account: Any) -> list[replies.OrderRow]:
        acct = self.resolve_account(account)
        return [o.row(self.symbol(o.instrument)) for o in self.state.account_orders(acct)]

    def cmd_positions(self, user: str, role: str, account: Any = None) -> list[dict[str, Any]]:
        acct = None if account is None else self.resolve_account(account)
        rows = self.book.rows(acct)
        for r in rows:
            r["symbol"] = self.symbol(r["instrument"])
        return rows

    def cmd_halt(self, user: str, role: str, instrument: Any) -> list[replies.PhaseChange]:
        out = []
        for ins in self.resolve_instruments(instrument):
            phase = self.state.instruments[ins].phase
            if phase == HALTED:
                out.append(replies.PhaseChange(instrument=self.symbol(ins), phase="halted", steps=[], changed=False))
                continue
            if phase != CONTINUOUS:
                if isinstance(instrument, str) and instrument.lower() == "all":
                    continue
                raise CommandError(protocol.CODE_BAD_REQUEST,
                                   f"{self.symbol(ins)} is {PHASE_NAMES[phase]}: only continuous trading can be halted")
            self.timers.pop(ins, None)
            steps = self.move_phase(ins, HALTED)
            out.append(replies.PhaseChange(instrument=self.symbol(ins), phase="halted", steps=steps, changed=True))
        return out

    def cmd_resume(self, user: str, role: str, instrument: Any, call_s: Any = None) -> list[replies.PhaseChange]:
        if call_s is None:
            call_s = self.cfg.breakers.reopen_call_s
        if isinstance(call_s, bool) or not isinstance(call_s, (int, float)) or not 0 <= call_s <= 86400:
            raise CommandError(protocol.CODE_BAD_REQUEST, f"call_s: expected 0..86400 seconds, got {call_s!r}")
        out = []
        for ins in self.resolve_instruments(instrument):
            phase = self.state.instruments[ins].phase
            if phase not in (HALTED, PRE_OPEN):
                if isinstance(instrument, str) and instrument.lower() == "all":
                    continue
                sym = self.symbol(ins)
                what_to_do = (f"; open a closed one with `phase {sym} pre_open` (its opening call) or "
                              f"`phase {sym} continuous`" if phase == CLOSED else "")
                raise CommandError(protocol.CODE_BAD_REQUEST,
                                   f"{sym} is {PHASE_NAMES[phase]}: resume reopens a halted "
                                   f"(or pre-open) instrument{what_to_do}")
            self.timers.pop(ins, None)
            steps = self.move_phase(ins, PRE_OPEN) if phase == HALTED else []
            if call_s > 0:
                self.timers[ins] = Timer(time.monotonic_ns() + int(call_s * 1e9), ins, CONTINUOUS,
                                         "resume_auction")
                out.append(replies.PhaseChange(instrument=self.symbol(ins), phase="pre_open", steps=steps,
                                               auction_in_s=call_s))
            else:
                steps = steps + self.move_phase(ins, CONTINUOUS)
                out.append(replies.PhaseChange(instrument=self.symbol(ins), phase="continuous", steps=steps,
                                               auction=self.state.instruments[ins].last_auction))
        if not out:         # `resume all` with nothing halted: said, not a bare "ok" that did nothing
            phases = ", ".join(f"{self.symbol(i)} {PHASE_NAMES[self.state.instruments[i].phase]}"
                               for i in self.resolve_instruments(instrument))
            raise CommandError(protocol.CODE_BAD_REQUEST, f"nothing to resume: no instrument is halted "
                               f"or pre-open ({phases})")
        return out

    def cmd_phase(self, user: str, role: str, instrument: Any, phase: Any) -> list[replies.PhaseChange]:
        if phase not in PHASE_CODES:
            raise CommandError(protocol.CODE_BAD_REQUEST,
                               f"phase: expected one of {', '.join(protocol.PHASES)}, got {phase!r}")
        target = PHASE_CODES[phase]
        out = []
        for ins in self.resolve_instruments(instrument):
            self.timers.pop(ins, None)
            steps = self.move_phase(ins, target)
            out.append(replies.PhaseChange(instrument=self.symbol(ins), phase=phase, steps=steps, changed=bool(steps)))
        return out

    def cmd_killswitch(self, user: str, role: str, account: Any, engaged: Any) -> replies.KillSwitch:
        acct = self.resolve_account(account)
        if isinstance(engaged, str) and engaged.lower() in ("on", "true", "1", "off", "false", "0"):
            engaged = engaged.lower() in ("on", "true", "1")
        if not isinstance(engaged, bool):
            raise CommandError(protocol.CODE_BAD_REQUEST, f"engaged: expected true or false, got {engaged!r}")
        return self.set_kill_switch(acct, engaged)

    def cmd_risk_show(self, user: str, role: str, account: Any = None) -> dict[str, Any]:
        accounts = [self.resolve_account(account)] if account is not None else self.cfg.account_ids()
        out_accounts = []
        for acct in accounts:
            a = self.cfg.account(acct)
            lim = self.monitor.limits_for(acct) or AccountLimits()
            try:
                usage = compute_metrics(self.book, acct, interval_ns=int(a.var_interval_s * 1e9),
                                        confidence=a.var_confidence)
            except ValueError as exc:
                usage = {"error": str(exc)}
            out_accounts.append({
                "account": acct, "kill_switch": acct in self.kill_engaged,
                "max_position": {self.symbol(i): self.max_position.get((acct, i), INT64_MAX) for i in self.symbols},
                "order_velocity": self.order_velocity.get(acct, NO_VELOCITY_LIMIT).describe(),
                "limits": {k: getattr(lim, v) for k, v in POST_TRADE_METRIC.items()},
                "usage": usage,
                "open_alerts": [al.as_dict() for al in self.monitor.open_alerts(acct)]})
        return {"accounts": out_accounts,
                "instruments": {self.symbol(i): dict(r) for i, r in self.instrument_risk.items()}}

    def cmd_risk_set(self, user: str, role: str, scope: Any, id: Any, limit: Any, value: Any,
                     instrument: Any = None) -> dict[str, Any]:
        if scope not in protocol.RISK_SCOPES:
            raise CommandError(protocol.CODE_BAD_REQUEST, f"scope: expected account or instrument, got {scope!r}")
        if scope == "instrument":
            ins = self.resolve_instrument(id)
            if limit not in protocol.INSTRUMENT_LIMITS:
                raise CommandError(protocol.CODE_BAD_REQUEST, f"limit: instrument limits are "
                                   f"{', '.join(protocol.INSTRUMENT_LIMITS)}; got {limit!r}")
            v = self._int_limit(value)
            new = {**self.instrument_risk[ins], limit: v}
            r = self._engine_command(messages.SetInstrumentRisk(instrument_id=ins, **new))
            return {"instrument": self.symbol(ins), **new, "seq": r.seq}
        acct = self.resolve_account(id)
        if limit in protocol.ACCOUNT_ENGINE_LIMITS:
            v = self._int_limit(value)
            targets = list(self.symbols) if instrument is None else [self.resolve_instrument(instrument)]
            seqs = []
            for ins in targets:
                r = self._engine_command(messages.SetAccountLimit(instrument_id=ins, account_id=acct,
                                                                  max_position=v))
                seqs.append(r.seq)
            return {"account": acct, "max_position": v, "instruments": [self.symbol(i) for i in targets],
                    "seqs": seqs}
        if limit in protocol.ACCOUNT_VELOCITY_LIMITS:
            try:
                velocity = parse_order_velocity(value)
            except VelocityError as exc:
                raise CommandError(protocol.CODE_BAD_REQUEST, f"value: {exc}") from None
            r = self._engine_command(messages.SetOrderVelocity(account_id=acct, max_orders=velocity.max_orders,
                                                               window_ns=velocity.window_ns))
            return {"account": acct, "order_velocity": velocity.describe(), "max_orders": velocity.max_orders,
                    "window_ns": velocity.window_ns, "seq": r.seq}
        if limit in protocol.ACCOUNT_POST_TRADE_LIMITS:
            metric = POST_TRADE_METRIC[limit]
            if metric == "auto_kill":
                if not isinstance(value, bool):
                    raise CommandError(protocol.CODE_BAD_REQUEST, f"value: auto_kill takes true or false, got {value!r}")
                v2: Any = value
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise CommandError(protocol.CODE_BAD_REQUEST, f"value: expected a number >= 0 (0 = no limit), got {value!r}")
                v2 = value if value > 0 else None
            try:    # refused here, before anything reaches the engine
                dataclasses.replace(self.monitor.limits_for(acct) or AccountLimits(), **{metric: v2})
            except ValueError as exc:
                raise CommandError(protocol.CODE_BAD_REQUEST, f"value: {exc}") from None
            # Sequenced and journaled by the engine; applied (to the monitor) once acknowledged.
            r = self._engine_command(self._post_trade_command(acct, metric, v2))
            new_limits = self.monitor.limits_for(acct) or AccountLimits()
            return {"account": acct, "limit": limit, "value": getattr(new_limits, metric),
                    "limits": new_limits.as_dict(), "seq": r.seq}
        raise CommandError(protocol.CODE_BAD_REQUEST, f"limit: account limits are "
                           f"{', '.join(protocol.ACCOUNT_LIMITS)}; got {limit!r}")

    @staticmethod
    def _int_limit(value: Any) -> int:
        if isinstance(value, str) and value.lower() in ("none", "max", "unlimited"):
            return INT64_MAX
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
            raise CommandError(protocol.CODE_BAD_REQUEST,
                               f"value: expected an integer 0..{INT64_MAX} (or 'none'), got {value!r}")
        return value

    def cmd_alerts(self, user: str, role: str, limit: Any = 50) -> list[dict[str, Any]]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise CommandError(protocol.CODE_BAD_REQUEST, f"limit: expected a positive integer, got {limit!r}")
        return list(self.alerts)[-limit:]

    def cmd_alerts_ack(self, user: str, role: str, id: Any) -> replies.AlertAck:
        """Marks an alert acknowledged by `user` (the service's own record, like the alerts: not
        trading state, so not an engine command); published on the status topic as
        {kind: "alert_ack", id, acked_by, acked_ts_ns}. Acknowledging one twice changes nothing."""
        if isinstance(id, str) and id.isdigit():
            id = int(id)
        if isinstance(id, bool) or not isinstance(id, int):
            raise CommandError(protocol.CODE_BAD_REQUEST, f"id: expected an alert id, got {id!r}")
        entry = next((a for a in self.alerts if a.get("id") == id), None)
        if entry is None:
            raise CommandError(protocol.CODE_BAD_REQUEST, f"id: no alert {id} (the latest "
                               f"{self.alerts.maxlen} are kept)")
        if entry.get("acked_by"):
            return replies.AlertAck(id=id, changed=False, acked_by=entry["acked_by"], acked_ts_ns=entry["acked_ts_ns"])
        entry["acked_by"], entry["acked_ts_ns"] = user, time.time_ns()
        self.publish(protocol.TOPIC_STATUS, {"kind": "alert_ack", "id": id, "acked_by": user,
                                             "acked_ts_ns": entry["acked_ts_ns"]})
        return replies.AlertAck(id=id, changed=True, acked_by=user, acked_ts_ns=entry["acked_ts_ns"])

    def cmd_latency(self, user: str, role: str) -> dict[str, replies.StageLatency]:
        """The order path's stages since the venue started, from the processes' latency regions
        (gateway/latency/venue.py: engine and gateways added up stage by stage)."""
        try:
            from gateway.latency.errors import LatencyError
            from gateway.latency.venue import snapshot_venue
        except ImportError as exc:
            raise CommandError(protocol.CODE_UNAVAILABLE, f"latency recording not available: {exc}") from None
        try:
            snap = snapshot_venue(self.cfg.venue.name, self.cfg.venue.shm_dir or None)
        except (LatencyError, OSError) as exc:
            raise CommandError(protocol.CODE_UNAVAILABLE, f"latency: {exc}") from None
        out: dict[str, replies.StageLatency] = {}
        for hist in snap.hists:
            p = hist.percentiles_ns((50.0, 99.0, 99.9))
            out[hist.name] = replies.StageLatency(p50_ns=p[50.0], p99_ns=p[99.0], p999_ns=p[99.9],
                                                  max_ns=hist.max_ns(), count=hist.total_count)
        return out

    def cmd_tuning_audit(self, user: str, role: str) -> list[dict[str, Any]]:
        try:
            from tuning.profile import DEFAULT_PROFILE
            from tuning.runner import Tuner
            findings = Tuner(DEFAULT_PROFILE).audit()
        except Exception as exc:    # the host audit is best effort: report why it is missing
            raise CommandError(protocol.CODE_UNAVAILABLE, f"tuning audit failed: {exc}") from None
        rows = []
        for f in findings:
            d = f.as_dict()
            rows.append({"setting": d.get("name"), "state": d.get("status"), "current": d.get("current"),
                         "wanted": d.get("wanted"), "reason": d.get("reason")})
        return rows

    def cmd_journal_status(self, user: str, role: str) -> dict[str, Any]:
        j = self.cfg.journal
        info = self.engine_info()
        out: dict[str, Any] = {"dir": j.dir or None, "durability": j.durability if j.dir else None,
                               "last_seq": info.seq, "segments": [], "snapshots": []}
        if not j.dir:
            return out
        d = Path(j.dir)
        if d.is_dir():
            try:
                from gateway.enginehost import journal as jr
                out["snapshots"] = [{"seq": seq, "path": path, "bytes": os.path.getsize(path)}
                                    for seq, path in jr.snapshots(str(d))]
            except Exception as exc:   # listing is best effort; say why
                out["snapshots_error"] = str(exc)
            snap_paths = {s["path"] for s in out["snapshots"]}
            files = [p for p in sorted(d.iterdir()) if p.is_file() and str(p) not in snap_paths]
            out["segments"] = [{"path": str(p), "bytes": p.stat().st_size} for p in files
                               if _is_segment_name(p.name)]
            out["other_files"] = [{"path": str(p), "bytes": p.stat().st_size,
                                   "role": _journal_dir_file_role(p.name)}
                                  for p in files if not _is_segment_name(p.name)]
        return out

    def close(self) -> None:
        if self._strategy_manager is not None:
            self._strategy_manager.close()      # their orders are cancelled before the engine goes
            self._strategy_manager = None
        if self._parent_desk is not None:
            self._parent_desk.close()           # parent orders' processes too (relaunched at the next start)
            self._parent_desk = None
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self.events is not None:
            self.events.close()
            self.events = None
