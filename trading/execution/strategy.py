"""A parent order executed as a strategy (trading/strategy): the same class live and in replay.

Every ``decision_ms`` the strategy asks its schedule (schedules.py) how much should be done by now,
bounds it by the participation cap, and works the difference as child orders placed by the rule
of placement.py. Invariant (checked at every child sent and recorded in ``children``):

    filled + working + new child <= max_participation * market volume since the start

where the market volume is every share printed on the instrument since the parent started (the
strategy's own fills included, as participation is usually quoted), so the parent's executions
never exceed the cap at any moment. A child whose price is no longer the rule's is cancelled and
replaced by a new one at the next decision; when the parent's quantity is reduced below what is
working, the children are cancelled. At the end of the horizon what is still working is cancelled
and the parent is ``done`` (all filled) or ``expired`` (the rest is reported, never chased).

Parameters are scalars (command line and control plane alike); times are the runner's clock
(``start_ns`` 0: at the first decision). IS needs the impact model (impact.py): ``impact_y``,
``sigma_day``, ``adv``, ``half_spread`` and ``kyle``; VWAP needs a stored profile (profile.py) in
``profile``. ``control`` names a JSON file the control plane writes to pause, resume, amend or
cancel a live parent (control.py); ``progress`` a file the strategy rewrites after each decision.
``id_block`` (set by the desk, one per launch) puts the child order ids in a range of their own, so
a parent relaunched after a control-plane restart never reuses an id its earlier process sent.
``parent_id`` (the desk's parent number; 1 for a parent run on its own) goes into every child's
client_order_id (parent_ids.py), so transaction cost analysis sees the children as one parent.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from trading.execution import placement
from trading.execution.impact import ImpactModel
from trading.execution.parent import BUY, InstrumentRules, ParentOrder, ParentOrderRefused, validate
from trading.execution.parent_ids import MAX_PARENT_ID, child_client_order_id, child_number
from trading.execution.profile import VolumeProfile
from trading.execution.schedules import IsSchedule, PovSchedule, Schedule, TwapSchedule, VwapSchedule
from trading.strategy.api import Fill, Strategy
from trading.strategy.context import Context

FINISH_SHARE = 0.05     # the share of the horizon at whose start a schedule's target becomes the whole order
RECENT_CHILDREN = 10    # child orders listed in a progress report (all are kept in ``children``)
# a launch's child order ids (``id_block``, given by the desk): the block << ID_BLOCK_SHIFT onwards,
# 2^24 children per launch, 2^16 launches per desk within the context's 40-bit order sequence
ID_BLOCK_SHIFT = 24
ID_BLOCKS = 1 << 16
# the most slices a TWAP/IS schedule may have (its arrays hold one entry per slice): a day in
# one-second slices is 23,400; a week at the default 60 s is 10,080
MAX_SLICES = 100_000


@dataclass(frozen=True)
class Child:
    """One child order as sent, with what bounded it (the cap check's inputs)."""
    ts_ns: int
    order_id: int
    style: str
    price: int
    qty: int
    tif: str
    market_volume: int
    filled_before: int
    working_before: int
    target: float


@dataclass(frozen=True)
class ChildFill:
    ts_ns: int
    order_id: int
    price: int
    qty: int
    maker: bool


class ExecutionStrategy(Strategy):
    name: ClassVar[str] = "execution"
    defaults: ClassVar[dict[str, Any]] = {
        "algo": "TWAP", "side": 1, "qty": 0, "start_ns": 0, "duration_s": 600.0, "limit_price": 0,
        "risk_aversion": 1e-6, "max_participation": 0.25, "target_participation": 0.10, "min_participation": 0.0,
        "slice_s": 60.0, "decision_ms": 1000, "seed": 0, "lot_size": 1, "profile": "", "tod_offset_ns": 0,
        "impact_y": 0.0, "sigma_day": 0.0, "adv": 0.0, "half_spread": 0.0, "kyle": 0.0,
        "control": "", "progress": "", "id_block": 0, "parent_id": 1,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.state = "new"
        self.order: ParentOrder | None = None
        self.schedule: Schedule | None = None
        self.filled = 0
        self.notional = 0
        self.arrival_mid: float | None = None
        self.volume0 = 0
        self.market_volume = 0
        self.target_now = 0.0
        self.children: list[Child] = []
        self.fills: list[ChildFill] = []
        self.decision_ns: list[int] = []
        self.trace: list[tuple[int, float, int, int]] = []    # (ns, target, filled, market volume) per decision
        self._mid_first: int | None = None
        self._mid_last: tuple[int, float] | None = None
        self._mid_sq = 0.0
        self._mid_n = 0
        self._price_scale = 10_000
        self.control_version = 0
        self.control_error: str | None = None

    # ---- set-up ---------------------------------------------------------------------------
    def parent_order(self, ctx: Context) -> ParentOrder:
        p = self.params
        start = p["start_ns"] or ctx.now
        end = start + int(p["duration_s"] * 1e9)
        return ParentOrder(ctx.instrument_id, p["side"], p["qty"], str(p["algo"]).upper(), start, end,
                           p["limit_price"], p["risk_aversion"], p["max_participation"], p["target_participation"],
                           p["min_participation"], ctx.account_id, p["seed"])

    def on_start(self, ctx: Context) -> None:
        p = self.params
        if p["decision_ms"] <= 0:
            raise ParentOrderRefused("decision_ms", p["decision_ms"], "must be positive")
        if p["slice_s"] <= 0:
            raise ParentOrderRefused("slice_s", p["slice_s"], "must be positive")
        rules = {ctx.instrument_id: InstrumentRules(max(1, p["lot_size"]), ctx.tick_size)}
        self.order = validate(self.parent_order(ctx), rules)
        self._price_scale = ctx.price_scale
        self.schedule = self._schedule(self.order)
        if not 0 < p["parent_id"] <= MAX_PARENT_ID:
            raise ParentOrderRefused("parent_id", p["parent_id"], f"must be in 1..{MAX_PARENT_ID}")
        if p["id_block"]:
            if not 0 < p["id_block"] < ID_BLOCKS:
                raise ParentOrderRefused("id_block", p["id_block"], f"must be in 1..{ID_BLOCKS - 1}")
            ctx.continue_order_ids_from(p["id_block"] << ID_BLOCK_SHIFT)
        self.state = "waiting"
        ctx.set_timer(int(p["decision_ms"] * 1_000_000))

    def _slices(self, order: ParentOrder) -> int:
        """The schedule's slice count: the schedules hold arrays of this length, so a tiny slice_s
        or a huge duration is refused here rather than allocating gigabytes (or failing in numpy)."""
        slice_s = float(self.params["slice_s"])
        if not (slice_s > 0 and math.isfinite(slice_s)):
            raise ParentOrderRefused("slice_s", slice_s, "must be a finite number of seconds > 0")
        n = max(1, round((order.end_ns - order.start_ns) / 1e9 / slice_s))
        if n > MAX_SLICES:
            raise ParentOrderRefused("slice_s", slice_s, f"the duration over slice_s gives {n} slices, at most "
                                                         f"{MAX_SLICES}: a longer slice_s or a shorter duration")
        return n

    def impact_model(self) -> ImpactModel:
        p = self.params
        for name in ("impact_y", "sigma_day", "adv"):
            if not p[name] > 0:
                raise ParentOrderRefused(name, p[name], "IS needs the impact model: a positive value (impact.py)")
        return ImpactModel(p["impact_y"], 0.0, 0.0, p["kyle"], 0.0, p["sigma_day"], p["adv"], p["half_spread"],
                           23_400.0, 0)

    def _schedule(self, o: ParentOrder) -> Schedule:
        if o.algo == "TWAP":
            return TwapSchedule(o.qty, o.start_ns, o.end_ns, self._slices(o), o.seed)
        if o.algo == "VWAP":
            if not self.params["profile"]:
                raise ParentOrderRefused("profile", "", "VWAP needs a stored volume profile (profile.py JSON)")
            try:
                profile = VolumeProfile.load(self.params["profile"])
            except ValueError as exc:
                raise ParentOrderRefused("profile", self.params["profile"], str(exc)) from None
            return VwapSchedule(o.qty, o.start_ns, o.end_ns, profile, self.params["tod_offset_ns"])
        if o.algo == "POV":
            return PovSchedule(o.qty, o.target_participation)
        sigma, eta, gamma, eps = self.impact_model().ac_parameters(o.qty, (o.end_ns - o.start_ns) / 1e9)
        return IsSchedule(o.qty, o.start_ns, o.end_ns, self._slices(o), sigma, eta, gamma, eps, o.risk_aversion)

    # ---- control ---------------------------------------------------------------------------
    def pause(self) -> None:
        if self.state in ("waiting", "working"):
            self.state = "paused"

    def resume(self) -> None:
        if self.state == "paused":
            self.state = "working" if self.arrival_mid is not None else "waiting"

    def cancel(self) -> None:
        if self.state not in ("done", "expired"):
            self.state = "cancelled"

    def amend(self, ctx: Context, **changes: Any) -> None:
        """New quantity, end, limit, risk aversion or participation bounds; validated like a new
        order (ParentOrderRefused leaves the parent unchanged). A quantity below what is already
        filled is refused."""
        assert self.order is not None
        new = validate(self.order.amended(**changes),
                       {ctx.instrument_id: InstrumentRules(max(1, self.params["lot_size"]), ctx.tick_size)})
        if new.qty < self.filled:
            raise ParentOrderRefused("qty", new.qty, f"below the {self.filled} already filled")
        if new.end_ns <= ctx.now and self.state in ("waiting", "working", "paused"):
            raise ParentOrderRefused("end_ns", new.end_ns, "already past")
        self.order = new
        self.schedule = self._schedule(new)
        if isinstance(self.schedule, IsSchedule) and self.state == "working":
            self.schedule.replan(max(ctx.now, new.start_ns), self.filled, None)

    # ---- callbacks -------------------------------------------------------------------------
    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.filled += fill.qty
        self.notional += fill.price * fill.qty
        self.fills.append(ChildFill(fill.ts_ns, fill.order_id, fill.price, fill.qty, fill.maker))
        if self.order is not None and self.filled >= self.order.qty and self.arrival_mid is not None:
            # The fill that completes the parent ends its participation interval: the market volume
            # is taken here (the book has counted this trade), not at the next decision, which
            # would add the volume traded after the parent was done and understate participation.
            self.market_volume = ctx.book.traded_volume - self.volume0

    def on_timer(self, ctx: Context) -> None:
        t0 = time.perf_counter_ns()
        if self.params["control"]:
            from trading.execution.control import apply_control
            apply_control(self, ctx)
        self._decide(ctx)
        self.decision_ns.append(time.perf_counter_ns() - t0)
        if self.params["progress"]:
            from trading.execution.control import write_progress
            write_progress(self.params["progress"], self.report(ctx))

    def _decide(self, ctx: Context) -> None:
        o, now, mid = self.order, ctx.now, ctx.book.mid
        assert o is not None and self.schedule is not None
        if mid is not None:
            self._observe_mid(now, mid)
        if self.state in ("done", "expired", "cancelled", "new"):
            if ctx.orders and self.state == "cancelled":
                ctx.cancel_all()
            return
        if self.state == "waiting" and now >= o.start_ns:
            if mid is None:
                return          # no arrival price without a two-sided book: wait for one
            self.state, self.arrival_mid, self.volume0 = "working", mid, ctx.book.traded_volume
        if self.state == "waiting":
            return
        if self.filled < o.qty:     # once filled, on_fill froze it at the completing fill
            self.market_volume = ctx.book.traded_volume - self.volume0
        if self.filled >= o.qty or now >= o.end_ns:
            self.state = "done" if self.filled >= o.qty else "expired"
            if ctx.orders:
                ctx.cancel_all()
            return
        if self.state == "paused":
            if ctx.orders:
                ctx.cancel_all()
            return
        if isinstance(self.schedule, IsSchedule):
            self.schedule.replan(now, self.filled, self.observed_sigma())
        self._work(ctx, o, now)

    def _work(self, ctx: Context, o: ParentOrder, now: int) -> None:
        lot = max(1, self.params["lot_size"])
        horizon = o.end_ns - o.start_ns
        self.target_now = min(float(o.qty), self.schedule.target(now, self.market_volume)) if self.schedule else 0.0
        if o.algo != "POV" and o.end_ns - now <= FINISH_SHARE * horizon:
            self.target_now = float(o.qty)     # the last stretch: finish what the schedule left
        cap = math.floor(o.max_participation * self.market_volume)
        self.trace.append((now, self.target_now, self.filled, self.market_volume))
        allowed = min(self.target_now, cap, o.qty)
        if o.algo == "POV":
            # the minimum rate is a floor on the target: behind it, the rule turns aggressive
            allowed = max(allowed, min(o.min_participation * self.market_volume, cap, o.qty))
        working = sum(c.leaves_qty for c in ctx.orders.values())
        want = int((allowed - self.filled) // lot * lot)
        if working > max(want, 0):
            ctx.cancel_all()         # the cap or an amendment shrank the room: start over
            return
        slice_qty = max(lot, o.qty / self._slices(o))
        book = ctx.book
        spread_ticks = 0 if book.best_bid is None or book.best_ask is None else \
            (book.best_ask - book.best_bid) // max(1, ctx.tick_size)
        near_qty = book.bid_qty if o.side == BUY else book.ask_qty
        style = placement.choose_style((want - working) / slice_qty, (o.end_ns - now) / horizon,
                                       spread_ticks, near_qty / slice_qty)
        if o.algo == "POV" and self.filled < o.min_participation * self.market_volume:
            style = placement.AGGRESSIVE
        where = placement.place(o.side, style, book.best_bid, book.best_ask, ctx.tick_size, o.limit_price)
        if where is None:
            return
        stale = [c for c in ctx.orders.values() if c.status == "live" and c.price != where.price]
        for c in stale:
            ctx.cancel(c.order_id)
        new = (want - working) // lot * lot
        # no dust: a child is at least a fifth of a slice unless that is all there is left to do
        min_child = min(max(lot, int(slice_qty / 5) // lot * lot), o.qty - self.filled - working)
        if new >= max(lot, min_child) and not any(c.status == "pending" for c in ctx.orders.values()):
            oid = ctx.place(o.side, where.price, new, where.tif,
                            client_order_id=child_client_order_id(
                                self.params["parent_id"], child_number(self.params["id_block"], len(self.children) + 1)))
            self.children.append(Child(now, oid, where.style, where.price, new, where.tif, self.market_volume,
                                       self.filled, working, self.target_now))

    # ---- what it measured ------------------------------------------------------------------
    def _observe_mid(self, now: int, mid: float) -> None:
        if self._mid_first is None:
            self._mid_first = now
        elif self._mid_last is not None:
            self._mid_sq += (mid - self._mid_last[1]) ** 2
        self._mid_last = (now, mid)
        self._mid_n += 1

    def observed_sigma(self) -> float | None:
        """Mid volatility per sqrt(second) from the decision-time mids seen so far (None with
        fewer than 30 samples): sqrt(sum of squared changes / elapsed seconds), currency units."""
        if self._mid_n < 30 or self._mid_last is None or self._mid_first is None:
            return None
        elapsed = (self._mid_last[0] - self._mid_first) / 1e9
        return math.sqrt(self._mid_sq / elapsed) / self._price_scale if elapsed > 0 else None

    def report(self, ctx: Context) -> dict[str, Any]:
        """Progress and cost so far: prices in currency units, shortfall in bps against the
        arrival mid (positive = cost)."""
        o = self.order
        scale = ctx.price_scale
        avg = self.notional / self.filled / scale if self.filled else None
        arrival = self.arrival_mid / scale if self.arrival_mid is not None else None
        sign = 1 if o is None or o.side == BUY else -1
        shortfall = sign * (avg - arrival) / arrival * 1e4 if avg is not None and arrival else None
        styles: dict[str, int] = {}
        for c in self.children:
            styles[c.style] = styles.get(c.style, 0) + 1
        return {"state": self.state, "algo": o.algo if o else self.params["algo"], "side": o.side if o else 0,
                "qty": o.qty if o else 0, "filled": self.filled, "target_now": round(self.target_now, 1),
                "arrival_mid": arrival, "avg_price": avg, "shortfall_bps": shortfall,
                "market_volume": self.market_volume,
                "participation": self.filled / self.market_volume if self.market_volume else 0.0,
                "children": len(self.children), "child_styles": styles, "working": sum(
                    c.leaves_qty for c in ctx.orders.values()),
                "start_ns": o.start_ns if o else 0, "end_ns": o.end_ns if o else 0,
                "control_version": self.control_version, "control_error": self.control_error,
                "working_orders": [{"order_id": c.order_id, "side": c.side, "price": c.price,
                                    "leaves_qty": c.leaves_qty, "status": c.status} for c in ctx.orders.values()],
                "recent_children": [asdict(c) for c in self.children[-RECENT_CHILDREN:]],
                "order": asdict(o) if o else None}

