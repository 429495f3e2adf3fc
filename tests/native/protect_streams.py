"""Random lit streams with Rule 611 order protection (ENGINE.md "Order protection"): the usual lit
order flow (streams.RandomFlow) interleaved with the away NBBO (ENG_CMD_NBBO: for a lit venue the
best protected quotes of the other venues; sometimes one-sided, locked or crossed), protection mode
changes (off, reject, route away, and invalid ones, with a Rule 612 price grid or none) and
intermarket sweep orders (ISO, valid and not). Prices are drawn around each instrument's centre so that orders do trade through."""
from __future__ import annotations

import random

from hypothesis import strategies as st

from tests.native.streams import OP_KINDS, Cmd, RandomFlow
from tests.oracle import ENG

PROTECT_WEIGHTS = {"away": 8, "mode": 2, "iso": 4}
PROTECT_KINDS = OP_KINDS + tuple(k for k, w in PROTECT_WEIGHTS.items() for _ in range(w * 3))


class ProtectFlow(RandomFlow):
    def op(self, kind: str, rng: random.Random) -> Cmd:
        if kind == "away":
            return self._op_away(rng)
        if kind == "mode":
            return self._op_mode(rng)
        if kind == "iso":
            return self._op_iso(rng)
        return super().op(kind, rng)

    def _op_away(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        mid = spec.centre_price + spec.tick_size * rng.randint(-6, 6)
        half = spec.tick_size * rng.choice((-1, 0, 1, 1, 2, 3, 4))      # <= 0: crossed or locked
        bid, ask = mid - half, mid + half
        if rng.random() < 0.1:
            bid = 0
        if rng.random() < 0.1:
            ask = 0
        return self.stream.nbbo(spec.instrument_id, max(bid, 0), max(ask, 0),
                                bid_qty=rng.randint(1, 500), ask_qty=rng.randint(1, 500))

    def _op_mode(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        mode = rng.choice((ENG.PROTECT_REJECT, ENG.PROTECT_REJECT, ENG.PROTECT_ROUTE_AWAY,
                           ENG.PROTECT_ROUTE_AWAY, ENG.PROTECT_OFF, 3))      # 3: refused
        # the Rule 612 grid: none, coarser than the tick from below the centre (sub-penny refusals
        # on tick prices), as fine as the tick, or invalid (refused)
        grid = rng.choice(((0, 0), (0, 0), (spec.centre_price - 5 * spec.tick_size, 2 * spec.tick_size),
                           (1, spec.tick_size), (0, spec.tick_size), (-1, 2)))
        return self.stream.raw("SET_ORDER_PROTECTION", spec.instrument_id, mode=mode, sub_penny_from=grid[0],
                               sub_penny_increment=grid[1])

    def _op_iso(self, rng: random.Random) -> Cmd:
        spec = self._spec(rng)
        side = rng.choice((ENG.SIDE_BUY, ENG.SIDE_SELL))
        tif = rng.choice((ENG.TIF_IOC, ENG.TIF_IOC, ENG.TIF_FOK, ENG.TIF_GTC))   # GTC: refused
        return self.stream.new_order(spec.instrument_id, self._new_id(spec), side, self._qty(rng, spec) * 2,
                                     self._price(rng, spec, side), tif=tif, account_id=self._account(rng),
                                     flags=ENG.FLAG_ISO)


def _protect_preamble(flow: ProtectFlow, rng: random.Random) -> list[Cmd]:
    cmds = flow.preamble(rng)
    for spec in flow.specs:       # most of the time protected from the start
        cmds.append(flow.stream.raw("SET_ORDER_PROTECTION", spec.instrument_id,
                                    mode=rng.choice((ENG.PROTECT_REJECT, ENG.PROTECT_ROUTE_AWAY))))
    return cmds


def seeded_protect_stream(seed: int, n_commands: int) -> list[Cmd]:
    rng = random.Random(seed)
    flow = ProtectFlow(n_instruments=3)
    cmds = _protect_preamble(flow, rng)
    while len(cmds) < n_commands:
        cmds.append(flow.op(rng.choice(PROTECT_KINDS), rng))
    return cmds


@st.composite
def protect_streams(draw: st.DrawFn, min_ops: int = 40, max_ops: int = 300) -> list[Cmd]:
    preamble_seed = draw(st.integers(0, 2**32 - 1))
    ops = draw(st.lists(st.tuples(st.sampled_from(PROTECT_KINDS), st.integers(0, 2**32 - 1)),
                        min_size=min_ops, max_size=max_ops))
    flow = ProtectFlow(n_instruments=draw(st.integers(2, 3)))
    cmds = _protect_preamble(flow, random.Random(preamble_seed))
    for kind, op_seed in ops:
        cmds.append(flow.op(kind, random.Random(op_seed)))
    return cmds
