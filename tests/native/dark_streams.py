"""Random command streams for dark midpoint instruments (ENGINE.md "Dark midpoint instruments").

DarkFlow turns a seeded random.Random into streams that exercise every dark rule: midpoint pegs
with and without limits around the midpoint, minimum acceptable quantities, STP groups, every
allowed TIF, an NBBO that walks (one-tick spreads give half-tick midpoints) and is sometimes
locked, crossed, one-sided, stale or out of order, time passing, phase cycles, cancels, mass
cancels, kill switches, end of day, and the refusals (wrong order type, FOK, bad MAQ, replace,
outside order flow, bad NBBOs) and replaces of dark orders. Instrument 3 is lit, so dark and lit
rules meet in one engine.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import strategies as st

from tests.native.streams import Cmd, CommandStream
from tests.oracle import ENG

N_ACCOUNTS = 4
MAX_AGE_NS = 20_000  # the dark instruments' nbbo_max_age_ns: 20 stream steps of 1 us


@dataclass(frozen=True)
class DarkSpec:
    instrument_id: int
    tick_size: int  # even: midpoints are whole price units
    lot_size: int
    centre_price: int


DARK_SPECS = (DarkSpec(1, tick_size=2, lot_size=1, centre_price=10_000),
              DarkSpec(2, tick_size=100, lot_size=100, centre_price=1_500_000))
LIT_ID = 3

OP_WEIGHTS = {"peg": 40, "nbbo": 14, "cancel": 8, "replace": 6, "time": 4, "phase": 2, "mass_cancel": 1,
              "kill_switch": 1, "end_of_day": 1, "invalid": 6}
OP_KINDS = tuple(kind for kind, weight in OP_WEIGHTS.items() for _ in range(weight))


@dataclass
class DarkFlow:
    stream: CommandStream = field(default_factory=CommandStream)
    next_order_id: int = 1
    issued: list[tuple[int, int]] = field(default_factory=list)  # (order id, instrument id)
    mids: dict[int, int] = field(default_factory=dict)            # instrument -> mid (ticks)
    phases: dict[int, int] = field(default_factory=dict)
    killed: set[int] = field(default_factory=set)

    def preamble(self, rng: random.Random) -> list[Cmd]:
        s = self.stream
        cmds: list[Cmd] = []
        for spec in DARK_SPECS:
            cmds.append(s.raw("ADD_INSTRUMENT", spec.instrument_id, tick_size=spec.tick_size,
                              lot_size=spec.lot_size, reference_price=spec.centre_price,
                              market_collar_ticks=5, venue_mode=ENG.MODE_DARK_MIDPOINT,
                              nbbo_max_age_ns=MAX_AGE_NS))
            self.mids[spec.instrument_id] = spec.centre_price // spec.tick_size
        cmds.append(s.add_instrument(LIT_ID, 1, 1, 10_000, 5))
        for iid in (1, 2, LIT_ID):
            cmds.append(self._phase(iid, ENG.PHASE_PRE_OPEN))
        for _ in range(6):
            cmds.append(self._op_peg(rng))  # rest in PRE_OPEN, cross at the opening
        cmds += [self._op_nbbo(rng, clean=True) for _ in range(2)]
        for iid in (1, 2, LIT_ID):
            cmds.append(self._phase(iid, ENG.PHASE_CONTINUOUS))
        return cmds

    def op(self, kind: str, rng: random.Random) -> Cmd:
        stopped = sorted(i for i, p in self.phases.items() if p != ENG.PHASE_CONTINUOUS)
        if kind != "phase" and stopped and rng.random() < 0.15:
            iid = rng.choice(stopped)
            towards_open = {ENG.PHASE_CLOSED: ENG.PHASE_PRE_OPEN, ENG.PHASE_HALTED: ENG.PHASE_PRE_OPEN,
                            ENG.PHASE_PRE_OPEN: ENG.PHASE_CONTINUOUS}
            return self._phase(iid, towards_open[self.phases[iid]])
        if kind != "kill_switch" and self.killed and rng.random() < 0.1:
            account = rng.choice(sorted(self.killed))
            self.killed.discard(account)
            return self.stream.set_kill_switch(account, 0)
        return getattr(self, f"_op_{kind}")(rng)

    def _phase(self, iid: int, phase: int) -> Cmd:
        allowed = {(ENG.PHASE_CLOSED, ENG.PHASE_PRE_OPEN), (ENG.PHASE_PRE_OPEN, ENG.PHASE_CONTINUOUS),
                   (ENG.PHASE_CONTINUOUS, ENG.PHASE_HALTED), (ENG.PHASE_HALTED, ENG.PHASE_PRE_OPEN),
                   (ENG.PHASE_CONTINUOUS, ENG.PHASE_CLOSED), (ENG.PHASE_HALTED, ENG.PHASE_CLOSED),
                   (ENG.PHASE_PRE_OPEN, ENG.PHASE_CLOSED)}
        if (self.phases.get(iid, ENG.PHASE_CLOSED), phase) in allowed:
            self.phases[iid] = phase
        return self.stream.set_phase(iid, phase)

    def _spec(self, rng: random.Random) -> DarkSpec:
        return rng.choice(DARK_SPECS)

    def _new_id(self, iid: int) -> int:
        order_id = self.next_order_id
        self.next_order_id += 1
        self.issued.append((order_id, iid))
        return order_id

    def _recent(self, rng: random.Random) -> tuple[int, int]:
        if not self.issued:
            return 1, 1
        return self.issued[-1 - min(int(rng.expovariate(1 / 10)), len(self.issued) - 1)]

    def _op_peg(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        qty = spec.lot_size * rng.choice((1, 2, 3, 5, 8, 10, 20, 40))
        limit = 0
        if rng.random() < 0.4:  # a limit a few ticks either side of the current mid
            limit = spec.tick_size * max(1, self.mids[spec.instrument_id] + rng.randint(-3, 3))
        maq = spec.lot_size * rng.randint(1, qty // spec.lot_size) if rng.random() < 0.3 else 0
        tif = rng.choice((ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTC, ENG.TIF_GTD, ENG.TIF_IOC, ENG.TIF_IOC))
        expiry = self.stream.ts_ns + 1_000 * rng.randint(2, 60) if tif == ENG.TIF_GTD else 0
        group = rng.choice((0, 0, 0, 1, 2))
        return self.stream.new_order(spec.instrument_id, self._new_id(spec.instrument_id), side, qty,
                                     limit, ord_type=ENG.ORD_MIDPOINT_PEG, tif=tif,
                                     account_id=rng.randrange(N_ACCOUNTS), display_qty=maq,
                                     expire_ts_ns=expiry, stp_group=group,
                                     client_order_id=rng.randrange(1000))

    def _op_nbbo(self, rng: random.Random, clean: bool = False) -> Cmd:
        spec = self._spec(rng)
        iid, tick = spec.instrument_id, spec.tick_size
        mid = max(5, self.mids[iid] + rng.choice((-1, 0, 0, 1)))
        self.mids[iid] = mid
        spread = rng.choice((1, 1, 2, 3))  # in ticks: odd spreads give half-tick midpoints
        bid, ask = (mid - spread // 2) * tick, (mid - spread // 2 + spread) * tick
        age = 0
        if not clean:
            shape = rng.random()
            if shape < 0.07:
                ask = bid  # locked
            elif shape < 0.12:
                bid, ask = ask, bid  # crossed
            elif shape < 0.15:
                bid = 0  # one-sided
            elif shape < 0.22:
                age = rng.choice((MAX_AGE_NS, MAX_AGE_NS + 1, 3 * MAX_AGE_NS))  # at or past the limit
        ts = self.stream.ts_ns + self.stream.ts_step_ns  # the stamp the command will get
        return self.stream.raw("NBBO", iid, bid_price=bid, ask_price=ask,
                               bid_qty=spec.lot_size * rng.randint(1, 9),
                               ask_qty=spec.lot_size * rng.randint(1, 9), quote_ts_ns=max(0, ts - age))

    def _op_cancel(self, rng: random.Random) -> Cmd:
        order_id, iid = self._recent(rng)
        return self.stream.cancel(iid, order_id)

    def _op_replace(self, rng: random.Random) -> Cmd:
        """A recent order (often still live) to a smaller or larger quantity, its limit kept, moved
        a few ticks around the mid, or removed (0)."""
        order_id, iid = self._recent(rng)
        spec = DARK_SPECS[iid - 1] if iid <= len(DARK_SPECS) else DARK_SPECS[0]
        qty = spec.lot_size * rng.choice((1, 2, 5, 10, 20, 40))
        limit = rng.choice((0, spec.tick_size * max(1, self.mids[spec.instrument_id] + rng.randint(-3, 3))))
        return self.stream.replace(iid, order_id, limit, qty)

    def _op_time(self, rng: random.Random) -> Cmd:
        return self.stream.time(rng.choice((1_000, 5_000, MAX_AGE_NS, 2 * MAX_AGE_NS)))

    def _op_phase(self, rng: random.Random) -> Cmd:
        iid = self._spec(rng).instrument_id
        nxt = {ENG.PHASE_CONTINUOUS: (ENG.PHASE_HALTED, ENG.PHASE_CLOSED),
               ENG.PHASE_HALTED: (ENG.PHASE_PRE_OPEN,), ENG.PHASE_CLOSED: (ENG.PHASE_PRE_OPEN,),
               ENG.PHASE_PRE_OPEN: (ENG.PHASE_CONTINUOUS,)}
        return self._phase(iid, rng.choice(nxt[self.phases.get(iid, ENG.PHASE_CLOSED)]))

    def _op_mass_cancel(self, rng: random.Random) -> Cmd:
        return self.stream.mass_cancel(self._spec(rng).instrument_id, rng.randrange(N_ACCOUNTS),
                                       by_account=rng.choice((0, 1)), by_instrument=rng.choice((0, 1)))

    def _op_kill_switch(self, rng: random.Random) -> Cmd:
        account = rng.randrange(N_ACCOUNTS)
        self.killed.add(account)
        return self.stream.set_kill_switch(account, 1)

    def _op_end_of_day(self, rng: random.Random) -> Cmd:
        return self.stream.end_of_day(self._spec(rng).instrument_id, all_instruments=rng.choice((0, 1)))

    def _op_invalid(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        s, iid, lot = self.stream, spec.instrument_id, spec.lot_size
        what = rng.randrange(10)
        order_id = self._new_id(iid)
        peg = {"ord_type": ENG.ORD_MIDPOINT_PEG, "tif": ENG.TIF_GTC}
        if what == 0:  # only midpoint pegs on a dark instrument, none on a lit one
            return (s.limit(iid, order_id, ENG.SIDE_BUY, lot, spec.centre_price) if rng.random() < 0.5
                    else s.new_order(LIT_ID, order_id, ENG.SIDE_SELL, 1, **peg))
        if what == 1:
            return s.new_order(iid, order_id, ENG.SIDE_BUY, lot, ord_type=ENG.ORD_MIDPOINT_PEG,
                               tif=ENG.TIF_FOK)
        if what == 2:  # MAQ above the quantity, negative, or off the lot
            return s.new_order(iid, order_id, ENG.SIDE_SELL, 2 * lot,
                               display_qty=rng.choice((3 * lot, -lot, lot + 1 if lot > 1 else -1)), **peg)
        if what == 3:
            return s.new_order(iid, order_id, ENG.SIDE_BUY, lot, stp_group=1,
                               stp_mode=ENG.STP_CANCEL_RESTING, **peg)
        if what == 4:
            return s.new_order(iid, order_id, ENG.SIDE_BUY, lot, price=rng.choice((-spec.tick_size, 1)),
                               flags=rng.choice((0, ENG.FLAG_POST_ONLY)), **peg)
        recent, recent_iid = self._recent(rng)
        if what == 5:
            return s.replace(recent_iid, recent, spec.centre_price, lot)
        if what == 6:
            return (s.execute(recent_iid, recent, lot) if rng.random() < 0.5
                    else s.reduce(recent_iid, recent, lot))
        if what == 7:
            return s.seed_level(iid, ENG.SIDE_BUY, spec.centre_price, lot)
        if what == 8:  # a quote with a negative field, off tick, or from the future
            bad = rng.choice(({"bid_price": -spec.tick_size}, {"ask_qty": -1},
                              {"ask_price": spec.centre_price + 1}, {"quote_ts_ns": s.ts_ns + 10**9}))
            fields = {"bid_price": spec.centre_price, "ask_price": spec.centre_price + 2 * spec.tick_size,
                      "bid_qty": lot, "ask_qty": lot, "quote_ts_ns": s.ts_ns, **bad}
            if spec.tick_size == 2 and "ask_price" in bad:
                fields["ask_price"] = spec.centre_price + 3  # odd: off a tick of 2
            return s.raw("NBBO", iid, **fields)
        return s.raw("NBBO", rng.choice((iid, 9, LIT_ID)), bid_price=spec.centre_price,
                     ask_price=spec.centre_price + 2 * spec.tick_size, bid_qty=lot, ask_qty=lot,
                     quote_ts_ns=max(0, s.ts_ns - 10 * MAX_AGE_NS))  # out of order, unknown or lit


def seeded_dark_stream(seed: int, n_commands: int) -> list[Cmd]:
    rng = random.Random(seed)
    flow = DarkFlow()
    cmds = flow.preamble(rng)
    while len(cmds) < n_commands:
        cmds.append(flow.op(rng.choice(OP_KINDS), rng))
    return cmds


@st.composite
def dark_streams(draw: st.DrawFn, min_ops: int = 40, max_ops: int = 300) -> list[Cmd]:
    """A random dark stream: preamble, then ops whose details come from per-op seeds."""
    preamble_seed = draw(st.integers(0, 2**32 - 1))
    ops = draw(st.lists(st.tuples(st.sampled_from(OP_KINDS), st.integers(0, 2**32 - 1)),
                        min_size=min_ops, max_size=max_ops))
    flow = DarkFlow()
    cmds = flow.preamble(random.Random(preamble_seed))
    for kind, op_seed in ops:
        cmds.append(flow.op(kind, random.Random(op_seed)))
    return cmds
