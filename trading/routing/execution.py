"""Running a routing plan: send a wave's children, collect what each venue answers, call a venue that
stays silent past its timeout down, and re-route what is left (partial fills, misses, rejects, silent
venues) in a new wave decided on the market as it is then, until the parent is done, its limit
leaves nothing to take, or its horizon or wave budget runs out.

Accounting invariants (tested): every child is sent once and only once, has exactly one outcome,
and the shares filled never exceed the parent's quantity; a child that timed out is never re-sent,
its shares are re-routed as new children elsewhere (its venue, being down, gets none of them).

Passive (post) children rest: the run keeps them, cancels each at its expiry or as soon as the touch
moves away from its price (the NBBO's own side better than it, looked at every `touch_check_ns` of
the market's clock), and only when the venue has answered the cancel (done, with what filled
before) or stayed silent past its timeout (timed out: the venue is scored down) does the next wave
sweep what is left. A fill that arrives after the cancel was sent is counted, never re-routed.

A ``Marketplace`` is where children go: the multi-venue replay (trading/routing/replay_market.py)
or live venue sessions. Its clock is the one the router uses (simulated in replay).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

import msgspec

from trading.routing.errors import RoutingError
from trading.routing.market import BUY, MarketSnapshot
from trading.routing.venue import maker_rebate_usd, taker_fee_usd
from trading.routing.plan import ChildFill, ChildOrder, ChildOutcome, ChildState, ExecutionReport, RealisedCost, RoutingPlan

if TYPE_CHECKING:
    from trading.routing.router import Router


class ChildEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's answer about one child: a fill (price, qty), done (nothing more will fill; the
    rest cancelled) or rejected (reason)."""
    child_id: str
    ts_ns: int
    kind: Literal["fill", "done", "rejected"]
    price: int = 0
    qty: int = 0
    reason: str = ""


class Marketplace(Protocol):
    def now_ns(self) -> int: ...

    def snapshot(self, instrument_id: int) -> MarketSnapshot: ...

    def send(self, child: ChildOrder, instrument_id: int) -> None: ...

    def cancel(self, child: ChildOrder, instrument_id: int) -> None:
        """Asks the venue to cancel a resting (post) child; the venue answers `done` (with whatever
        filled before), or nothing if it has stopped answering."""
        ...

    def traded_volume(self, instrument_id: int) -> dict[str, int]:
        """Shares printed per venue so far (cumulative, from a start of the marketplace's choosing)."""
        ...

    def wait(self, until_ns: int) -> list[ChildEvent]:
        """Answers up to until_ns: returns at the first time one or more arrive (with all of that
        time), or with none at until_ns; the clock is then at that time."""
        ...


class _Run:
    def __init__(self, router: Router, plan: RoutingPlan, market: Marketplace) -> None:
        self.router, self.market, self.parent = router, market, plan.parent
        self.plans: list[RoutingPlan] = []
        self.sent: dict[str, tuple[ChildOrder, int]] = {}     # child id -> (child, sent at)
        self.outcomes: dict[str, ChildOutcome] = {}
        self.filled: dict[str, int] = {}
        self.first_answer: dict[str, int] = {}
        self.rejected: dict[str, str] = {}
        self.fills: list[ChildFill] = []
        self.deadline = plan.created_ns + plan.parent.horizon_ns
        self.cancels: dict[str, tuple[int, str]] = {}        # post child id -> (cancel sent at, why)
        self.next_touch_check = 0
        self.touch_check_ns = max(1, plan.parent.wave_interval_ns // 4)
        n = plan.nbbo()
        buy = plan.parent.side_code == BUY
        touch, own = (n.ask, n.bid) if buy else (n.bid, n.ask)
        # the cost reference: the arrival mid; with a one-sided NBBO, the quote there is (a spread
        # cost of 0 by definition); with no quote at all there is nothing to measure against
        reference = touch if touch is not None else own
        if reference is None:
            raise RoutingError(f"plan {plan.plan_id}: no quote on either side at arrival, no cost reference")
        self.arrival_mid: float = n.mid if n.mid is not None else float(reference)
        self.arrival_touch: int = touch if touch is not None else reference

    @property
    def total_filled(self) -> int:
        return sum(self.filled.values())

    def send_wave(self, plan: RoutingPlan) -> None:
        self.plans.append(plan)
        for c in plan.children:
            if c.child_id in self.sent:
                raise RoutingError(f"child {c.child_id} would be sent twice")
            self.market.send(c, self.parent.instrument_id)
            self.sent[c.child_id] = (c, self.market.now_ns())
            self.filled[c.child_id] = 0

    def outstanding(self) -> list[str]:
        return [cid for cid in self.sent if cid not in self.outcomes]

    def on_event(self, e: ChildEvent) -> None:
        if e.child_id not in self.sent:
            raise RoutingError(f"an answer about child {e.child_id}, which was never sent")
        child, sent_ns = self.sent[e.child_id]
        self.first_answer.setdefault(e.child_id, e.ts_ns)
        late = self.outcomes.get(e.child_id)
        if e.kind == "fill":
            prof = self.router.venues[child.venue_id]
            self.filled[e.child_id] += e.qty
            # a post provides liquidity: the venue pays its maker rebate (a negative fee)
            fee = -maker_rebate_usd(prof) if child.style == "post" else taker_fee_usd(prof)
            self.fills.append(ChildFill(child_id=e.child_id, venue_id=child.venue_id, ts_ns=e.ts_ns, price=e.price,
                                        qty=e.qty, fee_usd=e.qty * fee))
            if late is not None:   # an answer after its timeout: accounted, never re-sent
                self.outcomes[e.child_id] = msgspec.structs.replace(
                    late, filled_qty=self.filled[e.child_id], reason="filled after the router's timeout")
            return
        if late is not None:
            return
        filled = self.filled[e.child_id]
        state: ChildState = "rejected" if e.kind == "rejected" else (
            "filled" if filled == child.qty else "partial" if filled else "unfilled")
        reason = e.reason or (f"cancelled: {self.cancels[e.child_id][1]}" if e.child_id in self.cancels else "")
        self.outcomes[e.child_id] = ChildOutcome(child_id=e.child_id, venue_id=child.venue_id, state=state,
                                                 sent_ns=sent_ns, answered_ns=e.ts_ns, filled_qty=filled,
                                                 reason=reason)
        if child.style == "post" and e.kind != "rejected":
            return     # how long a post rested says nothing of the venue's latency or fill rate
        self.router.scores.record_answer(child.venue_id, child.qty, filled, self.first_answer[e.child_id] - sent_ns,
                                         rejected=e.kind == "rejected", now_ns=e.ts_ns)

    def answer_due(self, cid: str) -> int | None:
        """When the venue's answer about a child is overdue: a take's from its sending, a post's from
        its cancel (None: a post still resting, whose answer is not due yet)."""
        child, sent_ns = self.sent[cid]
        if child.style == "post":
            if cid not in self.cancels:
                return None
            sent_ns = self.cancels[cid][0]
        return sent_ns + self.router.child_timeout_ns(child.venue_id)

    def cancel_posts(self, now: int) -> None:
        """Cancels the resting posts whose time is up, or all of them once the touch moved away."""
        resting = [cid for cid in self.outstanding() if self.sent[cid][0].style == "post" and cid not in self.cancels]
        if not resting:
            return
        moved: set[str] = set()
        if now >= self.next_touch_check:
            self.next_touch_check = now + self.touch_check_ns
            n = self.market.snapshot(self.parent.instrument_id).nbbo(self.router.scores.down(now))
            buy = self.parent.side_code == BUY
            touch = n.bid if buy else n.ask
            # away: a better bid than a buy post's price (a better offer than a sell's) stands in front of it
            moved = {cid for cid in resting if touch is not None and
                     (touch > self.sent[cid][0].price if buy else touch < self.sent[cid][0].price)}
        for cid in resting:
            child = self.sent[cid][0]
            why = "its time was up" if now >= child.expires_ns else "the touch moved away" if cid in moved else ""
            if why:
                self.market.cancel(child, self.parent.instrument_id)
                self.cancels[cid] = (now, why)

    def expire(self, now: int) -> None:
        for cid in self.outstanding():
            child, sent_ns = self.sent[cid]
            due = self.answer_due(cid)
            if due is not None and now >= due:
                self.outcomes[cid] = ChildOutcome(child_id=cid, venue_id=child.venue_id, state="timed_out",
                                                  sent_ns=sent_ns, answered_ns=None, filled_qty=self.filled[cid],
                                                  reason="no answer within the timeout: venue scored down")
                self.router.scores.record_timeout(child.venue_id, now)

    def next_timeout(self) -> int:
        """The next moment something is due: an answer's timeout, a post's expiry, a touch check."""
        due = []
        for cid in self.outstanding():
            at = self.answer_due(cid)
            if at is None:   # a resting post
                at = min(self.sent[cid][0].expires_ns, max(self.next_touch_check, self.market.now_ns() + 1))
            due.append(at)
        return min(due)

    def collect(self) -> None:
        """Waits until every child sent has an outcome (an answer or its timeout), cancelling the
        resting posts when their time is up or the touch moves away."""
        while self.outstanding():
            self.cancel_posts(self.market.now_ns())
            until = self.next_timeout()
            for e in self.market.wait(until):
                self.on_event(e)
            self.expire(self.market.now_ns())


def run_plan(router: Router, plan: RoutingPlan, market: Marketplace) -> ExecutionReport:
    run = _Run(router, plan, market)
    run.send_wave(plan)
    wave, last = plan.wave, plan
    while True:
        run.collect()
        remaining = run.parent.qty - run.total_filled
        now = market.now_ns()
        if remaining <= 0 or wave >= run.parent.max_waves or now >= run.deadline:
            break
        if last.deferred_qty > 0:
            # shares left on purpose (or nothing takeable within the limit): one wave interval first;
            # shares lost to misses, rejects or silent venues alone are re-routed at once
            target = min(now + run.parent.wave_interval_ns, run.deadline)
            while market.now_ns() < target:
                for e in market.wait(target):
                    run.on_event(e)
        wave += 1
        last = router.plan_wave(run.parent, plan.strategy, remaining, wave, market.snapshot(run.parent.instrument_id),
                                market.now_ns(), run.arrival_touch, run.deadline)
        run.send_wave(last)
    end = market.snapshot(run.parent.instrument_id)
    return _report(run, plan.strategy, market.now_ns(), end.nbbo(router.scores.down(market.now_ns())).mid)


def _report(run: _Run, strategy: str, now: int, end_mid: float | None) -> ExecutionReport:
    side = 1.0 if run.parent.side_code == BUY else -1.0
    qty = sum(f.qty for f in run.fills)
    mid, touch = run.arrival_mid, run.arrival_touch
    if qty:
        avg = sum(f.price * f.qty for f in run.fills) / qty
        scale = 1e4 / mid
        cost = RealisedCost(spread_bps=side * (touch - mid) * scale, impact_bps=side * (avg - touch) * scale,
                            fees_bps=sum(f.fee_usd for f in run.fills) * 1e4 / (qty * mid / 1e4))
    else:
        avg, cost = None, RealisedCost(spread_bps=0.0, impact_bps=0.0, fees_bps=0.0)
    down = sorted({o.venue_id for o in run.outcomes.values() if o.state == "timed_out"})
    outcomes = tuple(run.outcomes[cid] for cid in run.sent)
    return ExecutionReport(parent=run.parent, strategy=strategy, plans=tuple(run.plans), outcomes=outcomes,
                           fills=tuple(run.fills), filled_qty=qty, avg_price=avg, arrival_mid=mid, arrival_touch=touch,
                           cost=cost, venues_down=tuple(down), finished_ns=now, end_mid=end_mid)
