"""Command builders and random command streams for the engine tests.

CommandStream stamps every command it builds with the next seq and a ts_ns that grows by
ts_step_ns, so hand-written scenarios read as plain calls (s.new_order(...), s.cancel(...)).
RandomFlow turns a seeded random.Random into long, realistic streams: a few accounts and 2-3
instruments, prices clustered around each instrument's centre so orders really cross, every
order type / TIF / flag / STP mode, phase cycles through halt and auction, expiry, mass cancels,
kill switches, risk changes and a share of invalid commands. The hypothesis strategy `streams`
draws the op list so that shrinking removes whole operations.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import msgspec
from hypothesis import strategies as st

from native.messages import COMMAND_CLASSES, Command, UnknownCommand

from tests.oracle import ENG

Cmd = Command


def make_command(kind: str | int, **fields: int) -> Command:
    """A command Struct from its type name or raw code (an unknown code gives UnknownCommand)."""
    if isinstance(kind, int):
        cls = COMMAND_CLASSES.get(kind)
        if cls is None:
            return UnknownCommand(code=kind, **fields)
        return cls(**fields)  # type: ignore[return-value]
    return msgspec.convert({"type": kind, **fields}, Command)


class CommandStream:
    """Builds command Structs with strictly increasing seq and ts_ns (engine clock) stamps."""

    def __init__(self, first_seq: int = 1, first_ts_ns: int = 1_000, ts_step_ns: int = 1_000) -> None:
        self.seq = first_seq - 1
        self.ts_ns = first_ts_ns - ts_step_ns
        self.ts_step_ns = ts_step_ns

    def _stamp(self, kind: str | int, instrument_id: int, **fields: int) -> Cmd:
        self.seq += 1
        self.ts_ns += self.ts_step_ns
        return make_command(kind, instrument_id=instrument_id, seq=self.seq, ts_ns=self.ts_ns, **fields)

    def add_instrument(self, instrument_id: int, tick_size: int = 1, lot_size: int = 1,
                       reference_price: int = 10_000, market_collar_ticks: int = 100) -> Cmd:
        return self._stamp("ADD_INSTRUMENT", instrument_id, tick_size=tick_size,
                           lot_size=lot_size, reference_price=reference_price,
                           market_collar_ticks=market_collar_ticks)

    def set_phase(self, instrument_id: int, phase: int) -> Cmd:
        return self._stamp("SET_PHASE", instrument_id, phase=phase)

    def new_order(self, instrument_id: int, order_id: int, side: int, qty: int, price: int = 0,
                  ord_type: int = ENG.ORD_LIMIT, tif: int = ENG.TIF_GTC, account_id: int = 0,
                  client_order_id: int = 0, stop_price: int = 0, display_qty: int = 0,
                  expire_ts_ns: int = 0, stp_group: int = 0, stp_mode: int = ENG.STP_NONE,
                  flags: int = 0) -> Cmd:
        return self._stamp("NEW_ORDER", instrument_id, order_id=order_id,
                           client_order_id=client_order_id, price=price, stop_price=stop_price,
                           qty=qty, display_qty=display_qty, expire_ts_ns=expire_ts_ns,
                           account_id=account_id, stp_group=stp_group, side=side,
                           ord_type=ord_type, tif=tif, stp_mode=stp_mode, flags=flags)

    def limit(self, instrument_id: int, order_id: int, side: int, qty: int, price: int,
              **kw: int) -> Cmd:
        return self.new_order(instrument_id, order_id, side, qty, price, **kw)

    def market(self, instrument_id: int, order_id: int, side: int, qty: int,
               tif: int = ENG.TIF_IOC, **kw: int) -> Cmd:
        return self.new_order(instrument_id, order_id, side, qty, ord_type=ENG.ORD_MARKET,
                              tif=tif, **kw)

    def cancel(self, instrument_id: int, order_id: int) -> Cmd:
        return self._stamp("CANCEL", instrument_id, order_id=order_id)

    def replace(self, instrument_id: int, order_id: int, price: int, qty: int) -> Cmd:
        return self._stamp("REPLACE", instrument_id, order_id=order_id, price=price, qty=qty)

    def mass_cancel(self, instrument_id: int = 0, account_id: int = 0, by_account: int = 0,
                    by_instrument: int = 0) -> Cmd:
        return self._stamp("MASS_CANCEL", instrument_id, account_id=account_id,
                           by_account=by_account, by_instrument=by_instrument)

    def end_of_day(self, instrument_id: int = 0, all_instruments: int = 0) -> Cmd:
        return self._stamp("END_OF_DAY", instrument_id, all_instruments=all_instruments)

    def time(self, advance_ns: int, instrument_id: int = 0) -> Cmd:
        """A TIME command advance_ns after the previous command (instead of the usual step);
        instrument_id is ignored by the engine (it is echoed in the CMD_ACK)."""
        self.ts_ns += advance_ns - self.ts_step_ns
        return self._stamp("TIME", instrument_id)

    def set_instrument_risk(self, instrument_id: int, max_order_qty: int,
                            max_order_notional: int, price_collar_ticks: int) -> Cmd:
        return self._stamp("SET_INSTRUMENT_RISK", instrument_id, max_order_qty=max_order_qty,
                           max_order_notional=max_order_notional,
                           price_collar_ticks=price_collar_ticks)

    def set_account_limit(self, instrument_id: int, account_id: int, max_position: int) -> Cmd:
        return self._stamp("SET_ACCOUNT_LIMIT", instrument_id, account_id=account_id,
                           max_position=max_position)

    def set_kill_switch(self, account_id: int, engaged: int, instrument_id: int = 0) -> Cmd:
        return self._stamp("SET_KILL_SWITCH", instrument_id, account_id=account_id,
                           engaged=engaged)

    def set_order_velocity(self, account_id: int, max_orders: int, window_ns: int,
                           instrument_id: int = 0) -> Cmd:
        return self._stamp("SET_ORDER_VELOCITY", instrument_id, account_id=account_id,
                           max_orders=max_orders, window_ns=window_ns)

    def set_post_trade_limit(self, account_id: int, limit: int, value_e6: int,
                             instrument_id: int = 0) -> Cmd:
        return self._stamp("SET_POST_TRADE_LIMIT", instrument_id, account_id=account_id,
                           limit=limit, value_e6=value_e6)

    def execute(self, instrument_id: int, order_id: int, qty: int, contra_account_id: int = 0) -> Cmd:
        return self._stamp("EXECUTE", instrument_id, order_id=order_id, qty=qty,
                           contra_account_id=contra_account_id)

    def reduce(self, instrument_id: int, order_id: int, qty: int) -> Cmd:
        return self._stamp("REDUCE", instrument_id, order_id=order_id, qty=qty)

    def seed_level(self, instrument_id: int, side: int, price: int, qty: int, account_id: int = 0,
                   stp_group: int = 0) -> Cmd:
        return self._stamp("SEED_LEVEL", instrument_id, side=side, price=price, qty=qty,
                           account_id=account_id, stp_group=stp_group)

    def add_dark_instrument(self, instrument_id: int, tick_size: int = 2, lot_size: int = 1,
                            reference_price: int = 10_000, nbbo_max_age_ns: int = 1_000_000) -> Cmd:
        """ADD_INSTRUMENT in venue mode DARK_MIDPOINT (tick_size must be even)."""
        return self._stamp("ADD_INSTRUMENT", instrument_id, tick_size=tick_size, lot_size=lot_size,
                           reference_price=reference_price, venue_mode=ENG.MODE_DARK_MIDPOINT,
                           nbbo_max_age_ns=nbbo_max_age_ns)

    def nbbo(self, instrument_id: int, bid_price: int, ask_price: int, bid_qty: int = 100,
             ask_qty: int = 100, age_ns: int = 0) -> Cmd:
        """An NBBO whose quote time is age_ns before the command's own stamp."""
        return self._stamp("NBBO", instrument_id, bid_price=bid_price, ask_price=ask_price,
                           bid_qty=bid_qty, ask_qty=ask_qty,
                           quote_ts_ns=self.ts_ns + self.ts_step_ns - age_ns)

    def peg(self, instrument_id: int, order_id: int, side: int, qty: int, limit: int = 0,
            min_qty: int = 0, tif: int = ENG.TIF_GTC, account_id: int = 0, stp_group: int = 0,
            expire_ts_ns: int = 0) -> Cmd:
        """A MIDPOINT_PEG order (dark instruments): optional limit, min_qty travels in display_qty."""
        return self.new_order(instrument_id, order_id, side, qty, limit, ord_type=ENG.ORD_MIDPOINT_PEG,
                              tif=tif, account_id=account_id, display_qty=min_qty,
                              stp_group=stp_group, expire_ts_ns=expire_ts_ns)

    def raw(self, kind: str | int, instrument_id: int = 0, **fields: int) -> Cmd:
        """Any command type, also unknown numeric ones, with the usual stamps."""
        return self._stamp(kind, instrument_id, **fields)


# ---- random streams ------------------------------------------------------------------------------

INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True)
class InstrumentSpec:
    instrument_id: int
    tick_size: int
    lot_size: int
    centre_price: int
    market_collar_ticks: int


INSTRUMENT_SPECS = (
    InstrumentSpec(1, tick_size=1, lot_size=1, centre_price=10_000, market_collar_ticks=3),
    InstrumentSpec(2, tick_size=5, lot_size=10, centre_price=5_000, market_collar_ticks=2),
    InstrumentSpec(3, tick_size=100, lot_size=100, centre_price=1_500_000, market_collar_ticks=50),
)
N_ACCOUNTS = 4

# Operation kinds, repeated by weight (a list drawn uniformly).
OP_WEIGHTS = {
    "limit": 34, "market": 6, "stop": 7, "cancel": 8, "replace": 8, "phase": 2, "time": 3,
    "end_of_day": 1, "mass_cancel": 1, "kill_switch": 1, "risk": 1, "account_limit": 2,
    "invalid": 4,
}
OP_KINDS = tuple(kind for kind, weight in OP_WEIGHTS.items() for _ in range(weight))
# Outside order flow (EXECUTE, REDUCE, SEED_LEVEL: replayed days) is opt-in, for the differential
# tests: consumers of the event stream built for participants' flow (market data) do not take it.
# The order-velocity limit rides with it (its rejects would only thin the others' flow).
OUTSIDE_WEIGHTS = {"execute": 4, "reduce": 3, "seed": 3, "velocity": 2}
OP_KINDS_WITH_OUTSIDE = OP_KINDS + tuple(k for k, w in OUTSIDE_WEIGHTS.items() for _ in range(w))

# A realistic trading day cycles through these; anything else is drawn rarely (rejections).
_NEXT_PHASE = {
    ENG.PHASE_CLOSED: (ENG.PHASE_PRE_OPEN,),
    ENG.PHASE_PRE_OPEN: (ENG.PHASE_CONTINUOUS, ENG.PHASE_CONTINUOUS, ENG.PHASE_CONTINUOUS,
                         ENG.PHASE_CLOSED),
    ENG.PHASE_CONTINUOUS: (ENG.PHASE_HALTED, ENG.PHASE_HALTED, ENG.PHASE_CLOSED),
    ENG.PHASE_HALTED: (ENG.PHASE_PRE_OPEN, ENG.PHASE_PRE_OPEN, ENG.PHASE_PRE_OPEN,
                       ENG.PHASE_CLOSED),
}
_VALID_TRANSITIONS = {(a, b) for a, targets in _NEXT_PHASE.items() for b in targets}


@dataclass
class RandomFlow:
    """Turns (op kind, random source) pairs into commands, tracking just enough to aim well:
    the order ids it issued, each instrument's phase, and the engine clock."""

    n_instruments: int = 2
    stream: CommandStream = field(default_factory=CommandStream)
    next_order_id: int = 1
    issued: list[tuple[int, int]] = field(default_factory=list)  # (order id, instrument id)
    issued_price: dict[int, int] = field(default_factory=dict)  # order id -> limit price
    phases: dict[int, int] = field(default_factory=dict)
    killed_accounts: set[int] = field(default_factory=set)

    @property
    def specs(self) -> tuple[InstrumentSpec, ...]:
        return INSTRUMENT_SPECS[: self.n_instruments]

    def preamble(self, rng: random.Random) -> list[Cmd]:
        """Adds the instruments and opens them through PRE_OPEN, with a pre-open book."""
        cmds = []
        for spec in self.specs:
            cmds.append(self.stream.add_instrument(
                spec.instrument_id, spec.tick_size, spec.lot_size, spec.centre_price,
                spec.market_collar_ticks))
            cmds.append(self.set_phase(spec.instrument_id, ENG.PHASE_PRE_OPEN))
        for _ in range(6 * self.n_instruments):
            cmds.append(self.limit_order(rng))
        for spec in self.specs:
            cmds.append(self.set_phase(spec.instrument_id, ENG.PHASE_CONTINUOUS))
        return cmds

    def set_phase(self, instrument_id: int, phase: int) -> Cmd:
        current = self.phases.get(instrument_id, ENG.PHASE_CLOSED)
        if (current, phase) in _VALID_TRANSITIONS:
            self.phases[instrument_id] = phase
        return self.stream.set_phase(instrument_id, phase)

    def op(self, kind: str, rng: random.Random) -> Cmd:
        # An instrument out of CONTINUOUS heads back soon (after a short pre-open for the
        # auction to have something to uncross), else most orders would just be PHASE rejects.
        if kind != "phase" and rng.random() < 0.08 and any(
                p != ENG.PHASE_CONTINUOUS for p in self.phases.values()):
            return self._reopen_one(rng)
        if kind != "kill_switch" and self.killed_accounts and rng.random() < 0.04:
            account = rng.choice(sorted(self.killed_accounts))
            self.killed_accounts.discard(account)
            return self.stream.set_kill_switch(account, 0)
        return getattr(self, f"_op_{kind}")(rng)

    def _reopen_one(self, rng: random.Random) -> Cmd:
        stopped = sorted(i for i, p in self.phases.items() if p != ENG.PHASE_CONTINUOUS)
        instrument_id = rng.choice(stopped)
        towards_open = {ENG.PHASE_CLOSED: ENG.PHASE_PRE_OPEN, ENG.PHASE_HALTED: ENG.PHASE_PRE_OPEN,
                        ENG.PHASE_PRE_OPEN: ENG.PHASE_CONTINUOUS}
        return self.set_phase(instrument_id, towards_open[self.phases[instrument_id]])

    # -- drawing helpers --

    def _spec(self, rng: random.Random) -> InstrumentSpec:
        # Favour an instrument in pre-open, so that its auction has a book to uncross.
        pre_open = [s for s in self.specs if self.phases.get(s.instrument_id) == ENG.PHASE_PRE_OPEN]
        if pre_open and rng.random() < 0.4:
            return rng.choice(pre_open)
        return rng.choice(self.specs)

    def _qty(self, rng: random.Random, spec: InstrumentSpec) -> int:
        return spec.lot_size * rng.choice((1, 1, 2, 3, 5, 8, 10, 20))

    def _price(self, rng: random.Random, spec: InstrumentSpec, side: int) -> int:
        # Buys centre a little below, sells a little above, with overlap: many crosses, a book.
        skew = -1 if side == ENG.SIDE_BUY else 1
        offset = int(round(rng.gauss(1.5 * skew, 3)))
        return spec.centre_price + spec.tick_size * offset

    def _account(self, rng: random.Random) -> int:
        return rng.randrange(N_ACCOUNTS)

    def _stp(self, rng: random.Random) -> dict[str, int]:
        if rng.random() < 0.6:
            return {}
        return {"stp_group": rng.choice((0, 1, 1, 2)), "stp_mode": rng.randrange(5)}

    def _expiry(self, rng: random.Random, tif: int) -> dict[str, int]:
        if tif != ENG.TIF_GTD:
            return {}
        return {"expire_ts_ns": self.stream.ts_ns + self.stream.ts_step_ns * rng.randint(2, 60)}

    def _new_id(self, spec: InstrumentSpec) -> int:
        order_id = self.next_order_id
        self.next_order_id += 1
        self.issued.append((order_id, spec.instrument_id))
        return order_id

    def _recent(self, rng: random.Random) -> tuple[int, int]:
        """A recently issued (order id, instrument): likely live, sometimes already gone."""
        if not self.issued:
            return 1, 1
        return self.issued[-1 - min(int(rng.expovariate(1 / 12)), len(self.issued) - 1)]

    # -- operations --

    def limit_order(self, rng: random.Random) -> Cmd:
        return self._op_limit(rng)

    def _op_limit(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        tif = rng.choice((ENG.TIF_GTC, ENG.TIF_GTC, ENG.TIF_DAY, ENG.TIF_DAY, ENG.TIF_GTD,
                          ENG.TIF_IOC, ENG.TIF_FOK))
        qty = self._qty(rng, spec)
        kw: dict[str, int] = {}
        if tif in (ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTD):
            if rng.random() < 0.12:
                kw["flags"] = ENG.FLAG_POST_ONLY
            if rng.random() < 0.15:
                kw["flags"] = kw.get("flags", 0) | ENG.FLAG_ICEBERG
                qty = max(qty, 3 * spec.lot_size)
                kw["display_qty"] = spec.lot_size * rng.randint(1, qty // spec.lot_size - 1)
        order_id, price = self._new_id(spec), self._price(rng, spec, side)
        self.issued_price[order_id] = price
        return self.stream.new_order(
            spec.instrument_id, order_id, side, qty, price,
            tif=tif, account_id=self._account(rng), client_order_id=rng.randrange(1 << 32),
            **self._stp(rng), **self._expiry(rng, tif), **kw)

    def _op_market(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        return self.stream.market(spec.instrument_id, self._new_id(spec), side,
                                  self._qty(rng, spec) * rng.choice((1, 1, 3)),
                                  tif=rng.choice((ENG.TIF_IOC, ENG.TIF_IOC, ENG.TIF_FOK)),
                                  account_id=self._account(rng), **self._stp(rng))

    def _op_stop(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        # Buy stops sit above the centre, sell stops below, close enough to trigger often.
        direction = 1 if side == ENG.SIDE_BUY else -1
        stop_price = spec.centre_price + spec.tick_size * direction * rng.randint(-1, 3)
        ord_type = rng.choice((ENG.ORD_STOP, ENG.ORD_STOP_LIMIT))
        tif = rng.choice((ENG.TIF_GTC, ENG.TIF_DAY, ENG.TIF_GTD, ENG.TIF_IOC, ENG.TIF_FOK))
        qty = self._qty(rng, spec)
        kw: dict[str, int] = {}
        price = 0
        if ord_type == ENG.ORD_STOP_LIMIT:
            price = stop_price + spec.tick_size * direction * rng.randint(-1, 2)
            if tif in (ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTD) and rng.random() < 0.2:
                qty = max(qty, 3 * spec.lot_size)
                kw = {"flags": ENG.FLAG_ICEBERG, "display_qty": spec.lot_size}
        return self.stream.new_order(
            spec.instrument_id, self._new_id(spec), side, qty, price, ord_type=ord_type,
            tif=tif, stop_price=stop_price, account_id=self._account(rng), **self._stp(rng),
            **self._expiry(rng, tif), **kw)

    def _op_cancel(self, rng: random.Random) -> Cmd:
        order_id, instrument_id = self._recent(rng)
        return self.stream.cancel(instrument_id, order_id)

    def _op_replace(self, rng: random.Random) -> Cmd:
        order_id, instrument_id = self._recent(rng)
        spec = INSTRUMENT_SPECS[instrument_id - 1]
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        price = self._price(rng, spec, side)
        if order_id in self.issued_price and rng.random() < 0.5:
            price = self.issued_price[order_id]  # same price: in place or to the back
        else:
            self.issued_price[order_id] = price
        return self.stream.replace(instrument_id, order_id, price, self._qty(rng, spec))

    def _op_phase(self, rng: random.Random) -> Cmd:
        if rng.random() < 0.5 and any(p != ENG.PHASE_CONTINUOUS for p in self.phases.values()):
            return self._reopen_one(rng)
        spec = self._spec(rng)
        current = self.phases.get(spec.instrument_id, ENG.PHASE_CLOSED)
        if rng.random() < 0.1:
            target = rng.randrange(5)  # often an invalid transition or an unknown phase
        else:
            target = rng.choice(_NEXT_PHASE[current])
        return self.set_phase(spec.instrument_id, target)

    def _op_time(self, rng: random.Random) -> Cmd:
        return self.stream.time(self.stream.ts_step_ns * rng.choice((1, 5, 20, 40)),
                                rng.choice((0, 0, 1, 2)))

    def _op_end_of_day(self, rng: random.Random) -> Cmd:
        if rng.random() < 0.3:
            return self.stream.end_of_day(rng.choice((0, 1, 2)), all_instruments=1)
        return self.stream.end_of_day(self._spec(rng).instrument_id)

    def _op_mass_cancel(self, rng: random.Random) -> Cmd:
        by_account, by_instrument = rng.choice(((1, 0), (1, 1), (0, 1), (1, 1), (1, 1), (0, 0)))
        return self.stream.mass_cancel(self._spec(rng).instrument_id, self._account(rng),
                                       by_account, by_instrument)

    def _op_kill_switch(self, rng: random.Random) -> Cmd:
        if self.killed_accounts and rng.random() < 0.7:
            account = rng.choice(sorted(self.killed_accounts))
            self.killed_accounts.discard(account)
            return self.stream.set_kill_switch(account, 0)
        account = self._account(rng)
        self.killed_accounts.add(account)
        return self.stream.set_kill_switch(account, rng.choice((1, 1, 1, 2)), rng.choice((0, 1, 2)))

    def _op_risk(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        if rng.random() < 0.5:
            return self.stream.set_instrument_risk(spec.instrument_id, INT64_MAX, INT64_MAX,
                                                   INT64_MAX)
        return self.stream.set_instrument_risk(
            spec.instrument_id, spec.lot_size * rng.choice((10, 20, 50)),
            spec.centre_price * spec.lot_size * rng.choice((5, 20, 1000)), rng.choice((4, 8, 50)))

    def _op_account_limit(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        limit = rng.choice((INT64_MAX, INT64_MAX, 10 * spec.lot_size, 30 * spec.lot_size, 100 * spec.lot_size))
        return self.stream.set_account_limit(spec.instrument_id, self._account(rng), limit)

    def _op_velocity(self, rng: random.Random) -> Cmd:
        """An account's order-velocity limit: tight enough that its flow (an order every few
        commands) runs into it, removed at times, and now and then a bad one."""
        account = rng.choice((0, 1, 2, 3, 3, N_ACCOUNTS)) if rng.random() < 0.1 else self._account(rng)
        step = self.stream.ts_step_ns
        if rng.random() < 0.15:
            return self.stream.set_order_velocity(account, 0, 0)
        if rng.random() < 0.1:
            max_orders, window = rng.choice(((0, 5 * step), (3, 0), (2, -step), (2**32 - 1, 2**62)))
            return self.stream.set_order_velocity(account, max_orders, window, rng.choice((0, 1)))
        return self.stream.set_order_velocity(account, rng.choice((2, 3, 5, 8)),
                                              step * rng.choice((3, 7, 20, 60)) + rng.choice((0, 0, 333)))

    def _op_execute(self, rng: random.Random) -> Cmd:
        order_id, instrument_id = self._recent(rng)
        spec = INSTRUMENT_SPECS[instrument_id - 1]
        qty = self._qty(rng, spec) if rng.random() < 0.9 else rng.choice((0, -spec.lot_size, 1))
        return self.stream.execute(instrument_id, order_id, qty,
                                   rng.choice((0, 1, 2, 3, 3, N_ACCOUNTS)))

    def _op_reduce(self, rng: random.Random) -> Cmd:
        order_id, instrument_id = self._recent(rng)
        spec = INSTRUMENT_SPECS[instrument_id - 1]
        qty = self._qty(rng, spec) if rng.random() < 0.9 else rng.choice((0, -spec.lot_size, 1))
        return self.stream.reduce(instrument_id, order_id, qty)

    def _op_seed(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        # away from the centre so it rarely crosses; negative removes seeded quantity
        price = spec.centre_price + spec.tick_size * (-1 if side == ENG.SIDE_BUY else 1) * rng.randint(0, 6)
        qty = self._qty(rng, spec) * rng.choice((1, 1, 1, -1, -1, -3))
        if rng.random() < 0.05:
            price, qty = rng.choice(((price + 1, qty), (0, qty), (price, 0), (price, 1)))
        return self.stream.seed_level(spec.instrument_id, rng.choice((side, side, side, 0, 3)) if rng.random() < 0.05 else side,
                                      price, qty, rng.choice((0, 1, 2, 3, N_ACCOUNTS)) if rng.random() < 0.1 else 3,
                                      rng.choice((0, 1)))

    def _op_invalid(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        price = self._price(rng, spec, side)
        what = rng.randrange(17)
        order_id = self._new_id(spec)
        if what == 0:
            return self.stream.limit(spec.instrument_id, order_id, side, rng.choice((0, -5)), price)
        if what == 1 and spec.tick_size > 1:
            return self.stream.limit(spec.instrument_id, order_id, side, spec.lot_size, price + 1)
        if what == 2:
            return self.stream.limit(9, order_id, side, spec.lot_size, price)
        if what == 3:
            return self.stream.cancel(spec.instrument_id, 10_000_000 + order_id)
        if what == 4:
            return self.stream.limit(spec.instrument_id, order_id, side, spec.lot_size, price,
                                     account_id=N_ACCOUNTS)
        if what == 5:
            # command types the engine does not know
            return self.stream.raw(rng.choice((0, 99, 0xFFFF)), spec.instrument_id)
        if what == 6:
            # Duplicate id: reuse a recent one.
            dup_id, dup_instrument = self._recent(rng)
            return self.stream.limit(dup_instrument, dup_id, side, spec.lot_size,
                                     self._price(rng, INSTRUMENT_SPECS[dup_instrument - 1], side))
        if what == 7:
            return self.stream.limit(spec.instrument_id, order_id, side, spec.lot_size, price,
                                     tif=ENG.TIF_GTD, expire_ts_ns=self.stream.ts_ns)
        if what == 8:
            return self.stream.new_order(spec.instrument_id, order_id, side, spec.lot_size, price,
                                         ord_type=rng.choice((0, 5, ENG.ORD_MARKET)),
                                         tif=rng.choice((0, 6, ENG.TIF_GTC)))
        if what == 9:
            return self.stream.limit(spec.instrument_id, order_id, rng.choice((0, 3)),
                                     spec.lot_size, price)
        if what == 10:
            return self.stream.limit(spec.instrument_id, order_id, side, 2 * spec.lot_size, price,
                                     flags=rng.choice((0, ENG.FLAG_ICEBERG)),
                                     display_qty=rng.choice((2 * spec.lot_size, spec.lot_size)))
        if what == 11:
            return self.stream.new_order(spec.instrument_id, order_id, side, spec.lot_size,
                                         price, stop_price=rng.choice((0, -spec.tick_size,
                                                                       price)),
                                         ord_type=rng.choice((ENG.ORD_LIMIT, ENG.ORD_STOP_LIMIT)))
        if what == 12:
            return self.stream.limit(spec.instrument_id, order_id, side, spec.lot_size, price,
                                     stp_group=1, stp_mode=rng.choice((5, 255)))
        if what == 13:
            return self.stream.limit(spec.instrument_id, order_id, side, spec.lot_size, price,
                                     flags=rng.choice((4, 8, ENG.FLAG_POST_ONLY)),
                                     tif=rng.choice((ENG.TIF_GTC, ENG.TIF_IOC)))
        if what == 14:
            return self.stream.set_instrument_risk(spec.instrument_id, -1, 0, rng.choice((0, -1)))
        if what == 15:
            return self.stream.add_instrument(spec.instrument_id, spec.tick_size, spec.lot_size,
                                              spec.centre_price + rng.choice((0, 1)))
        # A command whose seq does not increase: the engine must reject it and change nothing.
        cmd = self.stream.cancel(spec.instrument_id, order_id)
        self.stream.seq -= 1
        return msgspec.structs.replace(cmd, seq=cmd.seq - rng.choice((1, 2)))


def seeded_stream(seed: int, n_commands: int, n_instruments: int = 3, outside_flow: bool = False) -> list[Cmd]:
    """A reproducible stream of about n_commands commands (preamble included)."""
    rng = random.Random(seed)
    flow = RandomFlow(n_instruments=n_instruments)
    cmds = flow.preamble(rng)
    while len(cmds) < n_commands:
        cmds.append(flow.op(rng.choice(OP_KINDS_WITH_OUTSIDE if outside_flow else OP_KINDS), rng))
    return cmds


@dataclass(frozen=True)
class EngineConfig:
    max_orders: int
    max_levels: int
    max_instruments: int
    max_accounts: int


engine_configs = st.sampled_from((
    EngineConfig(1000, 1000, 3, N_ACCOUNTS),
    EngineConfig(1000, 1000, 3, N_ACCOUNTS),
    EngineConfig(40, 1000, 3, N_ACCOUNTS),   # order capacity runs out
    EngineConfig(1000, 12, 3, N_ACCOUNTS),   # level capacity runs out
    EngineConfig(24, 10, 2, N_ACCOUNTS),
))


@st.composite
def streams(draw: st.DrawFn, min_ops: int = 50, max_ops: int = 400, outside_flow: bool = False) -> list[Cmd]:
    """A random command stream: preamble, then ops whose details come from per-op seeds."""
    n_instruments = draw(st.integers(2, 3))
    preamble_seed = draw(st.integers(0, 2**32 - 1))
    kinds = OP_KINDS_WITH_OUTSIDE if outside_flow else OP_KINDS
    ops = draw(st.lists(st.tuples(st.sampled_from(kinds), st.integers(0, 2**32 - 1)),
                        min_size=min_ops, max_size=max_ops))
    flow = RandomFlow(n_instruments=n_instruments)
    cmds = flow.preamble(random.Random(preamble_seed))
    for kind, op_seed in ops:
        cmds.append(flow.op(kind, random.Random(op_seed)))
    return cmds


def opening(stream: CommandStream, instrument_id: int = 1, tick_size: int = 1, lot_size: int = 1,
            reference_price: int = 10_000, market_collar_ticks: int = 100) -> list[Cmd]:
    """Commands that add an instrument and take it through PRE_OPEN into CONTINUOUS."""
    return [stream.add_instrument(instrument_id, tick_size, lot_size, reference_price,
                                  market_collar_ticks),
            stream.set_phase(instrument_id, ENG.PHASE_PRE_OPEN),
            stream.set_phase(instrument_id, ENG.PHASE_CONTINUOUS)]
