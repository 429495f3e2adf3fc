"""Several venues in the market replay: one real LOBSTER day split into lit venues by a stated,
seeded rule, each lit venue its own C matching engine (native.engine, in process, on the simulated
clock), plus dark pools fed by the day's hidden executions. A ``Marketplace`` for the router.

The split rule (``split_history``) works on the day's engine commands (trading/replay/history.py,
which already rebuilds the whole book, the levels beyond the order-book file's depth included):
every historical order id is assigned to one lit venue, drawn with the venues' market shares as
probabilities (numpy Generator seeded with `seed`, one draw per distinct id in ascending order),
and every command naming that order goes there. Anonymous liquidity (SEED_LEVEL: the standing
book at the open, levels coming into view) is added to a venue drawn the same way, and removed
from the venues that hold it at that level (most first, split across venues when one holds less).
So at every instant the venues' books add up, level by level, to the real day's book, each venue
holding about its share of each level, with its own queues and its own top. Set-up and phase
commands go to every venue; hidden executions and crosses (prints) to none.

The dark pools: each is its own C engine in midpoint mode, fed the lit venues' NBBO and the day's
hidden executions as counterparties (trading/routing/replay_dark.py states the rule).

Latency: each child reaches its venue after a one-way latency drawn from the lognormal with the
venue's average and P99 (venue.latency_lognormal_ns), and the answer comes back after another draw;
one seeded Generator per venue. Each direction of a venue's session delivers in order: a message
never overtakes one sent before it on that session. ``kill(venue, at_ns)``: from then on the venue executes nothing and
answers nothing (answers already on their way still arrive) and its book is stale. ``halt(venue)``:
the venue's engine is halted (a real SET_PHASE command): it answers, rejecting every order.

Traded volume (``traded_volume``, what VWAP and POV follow through the router): the day's prints,
split by the same rule. Every visible execution (LOBSTER type 4) up to now is printed by the lit
venue its order was assigned to (an order the file never added: a venue drawn with the market
shares, numpy Generator seeded [seed, 1], one draw per such execution in time order), plus the
router's own takes there; per dark pool its share of the day's hidden executions up to now plus the
router's midpoint fills there. (Not the engines' own trades: executions of liquidity the file never
named are booked as removals of anonymous liquidity, which print nothing.) With no order of ours
the venues' volumes add up to the day's executed volume, visible and hidden, up to now.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from native import records
from native.engine import Engine
from native.messages import NewOrder, Reason, RejectedEvent, SetPhase, TradeEvent
from native.records import OrdType, Phase, Tif
from trading.replay.data import BUY, SELL, Kind, MarketDay
from native.batch import encode_columns
from trading.replay.history import HIST_ACCOUNT, HIST_STP_GROUP, INSTRUMENT, MAX_ACCOUNTS, Cmd, History, build_history
from trading.routing.errors import RoutingError
from trading.routing.execution import ChildEvent
from trading.routing.market import SIDES, Level, MarketSnapshot, VenueBook
from trading.routing.plan import ChildOrder
from trading.routing.replay_dark import ReplayDarkPool
from trading.routing.replay_posts import RestingPosts, Resting
from gateway.venues.config import VenueSpec
from trading.routing.venue import check_venues, latency_lognormal_ns

OWN_ACCOUNT = 2
OWN_ID_BASE = 1 << 62   # history.RESERVED_IDS: ids no historical order uses
_HDR = records.dtype_of("eng_cmd_hdr_t")


def _lit_shares(venues: tuple[VenueSpec, ...]) -> tuple[list[VenueSpec], np.ndarray]:
    lit = [v for v in venues if v.type == "lit"]
    shares = np.array([v.market_share for v in lit], dtype=np.float64)
    if shares.sum() <= 0:
        raise RoutingError("the lit venues' market shares add up to 0: nothing to split the day by")
    return lit, shares / shares.sum()


def split_history(history: History, venues: tuple[VenueSpec, ...], seed: int) -> dict[str, History]:
    """The lit venues' command streams (module docstring: the split rule)."""
    lit, shares = _lit_shares(venues)
    rng = np.random.default_rng(seed)
    ids, owner_of_id = _id_owners(history, shares, rng)
    rows: list[list[tuple[int, int]]] = [[] for _ in lit]     # per venue: (history row, qty override or 0)
    held: list[dict[tuple[int, int], int]] = [{} for _ in lit]
    kinds, oids, sides, prices, qtys = history.kind, history.order_id, history.side, history.price, history.qty
    for i in range(len(history)):
        kind = int(kinds[i])
        if kind in (Cmd.SETUP, Cmd.PHASE):
            for k in range(len(lit)):
                rows[k].append((i, 0))
        elif kind == Cmd.SEED:
            level, qty = (int(sides[i]), int(prices[i])), int(qtys[i])
            if qty > 0:
                k = int(rng.choice(len(lit), p=shares))
                held[k][level] = held[k].get(level, 0) + qty
                rows[k].append((i, 0))
                continue
            left = -qty
            for k in sorted(range(len(lit)), key=lambda k: (-held[k].get(level, 0), k)):
                take = min(left, held[k].get(level, 0))
                if take <= 0:
                    break
                held[k][level] -= take
                rows[k].append((i, -take))
                left -= take
        elif kind in (Cmd.ADD, Cmd.REDUCE, Cmd.CANCEL, Cmd.EXECUTE):
            k = int(owner_of_id[np.searchsorted(ids, oids[i])])
            rows[k].append((i, 0))
    return {v.id: _sub_history(history, rows[k]) for k, v in enumerate(lit)}


def _sub_history(h: History, rows: list[tuple[int, int]]) -> History:
    idx = np.array([i for i, _ in rows], dtype=np.int64)
    recs = h.records[idx].copy()
    qty = h.qty[idx].copy()
    for n, (i, override) in enumerate(rows):
        if override:   # a removal of anonymous liquidity split across venues: this venue's part
            recs[n:n + 1] = encode_columns("SEED_LEVEL", 1, instrument_id=INSTRUMENT, ts_ns=int(h.ts_ns[i]),
                                           side=int(h.side[i]), price=int(h.price[i]), qty=override,
                                           account_id=HIST_ACCOUNT, stp_group=HIST_STP_GROUP)
            qty[n] = override
    return History(day=h.day, records=recs, ts_ns=h.ts_ns[idx], kind=h.kind[idx], side=h.side[idx],
                   price=h.price[idx], qty=qty, order_id=h.order_id[idx], message=h.message[idx], counts=dict(h.counts))


def _id_owners(history: History, shares: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every historical order id (ascending) and the lit venue (index) it is assigned to."""
    named = history.order_id[(history.order_id > 0) & (history.kind != Cmd.SEED)]
    ids = np.unique(named)
    return ids, rng.choice(len(shares), size=len(ids), p=shares)


def split_prints(history: History, venues: tuple[VenueSpec, ...], seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per lit venue, (time, cumulative shares) of the day's visible executions it prints (module
    docstring: the same owners as split_history, drawn from the same seed)."""
    lit, shares = _lit_shares(venues)
    ids, owners = _id_owners(history, shares, np.random.default_rng(seed))
    day = history.day
    ex = np.flatnonzero(day.kind == Kind.EXECUTE)
    pos = np.clip(np.searchsorted(ids, day.order_id[ex]), 0, max(len(ids) - 1, 0))
    known = (ids[pos] == day.order_id[ex]) if len(ids) else np.zeros(len(ex), dtype=bool)
    venue = np.where(known, owners[pos] if len(ids) else 0, -1)
    unknown = np.flatnonzero(~known)
    venue[unknown] = np.random.default_rng([seed, 1]).choice(len(lit), size=len(unknown), p=shares)
    out = {}
    for k, v in enumerate(lit):
        mine = ex[venue == k]
        out[v.id] = (day.ts_ns[mine].astype(np.int64), np.cumsum(day.qty[mine]).astype(np.int64))
    return out


@dataclass
class SyntheticVenues:
    """The split day's histories, built once and replayed by any number of MultiVenueReplay runs."""
    day: MarketDay
    venues: tuple[VenueSpec, ...]
    seed: int
    histories: dict[str, History] = field(default_factory=dict)
    prints: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(cls, day: MarketDay, venues: tuple[VenueSpec, ...] | list[VenueSpec], seed: int) -> SyntheticVenues:
        checked = check_venues(venues)
        history = build_history(day)
        return cls(day=day, venues=checked, seed=seed, histories=split_history(history, checked, seed),
                   prints=split_prints(history, checked, seed))


class MultiVenueReplay:
    """The Marketplace of a replayed day (module docstring)."""

    def __init__(self, synthetic: SyntheticVenues, seed: int = 0, dark_window_ns: int = 5_000_000_000,
                 depth: int = 20) -> None:
        self.syn = synthetic
        self.profiles = {v.id: v for v in synthetic.venues}
        self.depth = depth
        self.dark_window_ns = dark_window_ns
        self.engines: dict[str, Engine] = {}
        self.pos: dict[str, int] = {}
        self.seq: dict[str, int] = {}
        self.rngs = {v.id: np.random.default_rng([seed, k]) for k, v in enumerate(synthetic.venues)}
        self.killed: dict[str, int] = {}
        self.heap: list[tuple[int, int, str, Any]] = []
        self.counter = 0
        self.next_own_id = OWN_ID_BASE
        self.history_rejects = 0
        self.own_volume: dict[str, int] = {v.id: 0 for v in synthetic.venues}
        self.posts = RestingPosts()
        self.last_answer: dict[str, int] = {}     # venue -> when its latest answer reaches the router
        self.last_arrival: dict[str, int] = {}    # venue -> when the router's latest message reaches it
        day = synthetic.day
        self.now = int(day.ts_ns[day.first_message if day.first_message < len(day) else 0])
        for v, h in synthetic.histories.items():
            self.engines[v] = Engine(max_orders=max(1 << 14, len(h) + 1024), max_levels=max(1 << 12, len(h) // 4),
                                     max_instruments=1, max_accounts=MAX_ACCOUNTS)
            self.pos[v], self.seq[v] = 0, 0
            started = h.message >= 0
            self._run_history(v, int(np.argmax(started)) if started.any() else len(h))
        dark = [v for v in synthetic.venues if v.type == "dark"]
        total = sum(v.market_share for v in dark)
        self.dark = {v.id: ReplayDarkPool(day, v.market_share / total if total > 0 else 1.0 / len(dark), dark_window_ns)
                     for v in dark}

    # ---- the engines -------------------------------------------------------------------------------
    def _submit(self, v: str, recs: np.ndarray) -> np.ndarray:
        view = recs.view(_HDR)
        view["seq"] = np.arange(self.seq[v] + 1, self.seq[v] + 1 + len(recs), dtype=np.uint64)
        self.seq[v] += len(recs)
        return self.engines[v].submit_records(recs)

    def _run_history(self, v: str, end: int) -> None:
        start = self.pos[v]
        if end > start:
            h = self.syn.histories[v]
            for f in self.posts.on_history(v, h, start, end):
                pv = f.child.venue_id      # the post's venue (a trade-through elsewhere fills it too)
                if self._dead(pv, f.ts_ns):
                    continue
                self.own_volume[pv] += f.qty
                back = self._answer_time(pv, f.ts_ns)
                self._push(back, "answer", ChildEvent(child_id=f.child.child_id, ts_ns=back, kind="fill", price=f.price,
                                                      qty=f.qty))
                if f.done:
                    self._push(back, "answer", ChildEvent(child_id=f.child.child_id, ts_ns=back, kind="done"))
            self._submit(v, h.records[start:end].copy())
            self.pos[v] = end

    def _advance(self, v: str, t: int) -> None:
        h = self.syn.histories[v]
        self._run_history(v, int(np.searchsorted(h.ts_ns, t, side="right")))

    def advance_to(self, t: int) -> list[ChildEvent]:
        """Moves the clock to t (never back), executing what arrives meanwhile; returns the answers
        that came back on the way (late answers, for a caller between parents)."""
        passed: list[ChildEvent] = []
        while self.now < t or (self.heap and self.heap[0][0] <= t):
            got = self.wait(t)
            if not got and self.now >= t:
                break
            passed.extend(got)
        return passed

    def kill(self, venue_id: str, at_ns: int) -> None:
        if venue_id not in self.profiles:
            raise RoutingError(f"no venue {venue_id!r} to kill")
        self.killed[venue_id] = at_ns

    def halt(self, venue_id: str) -> None:
        """Halts trading on a lit venue now (a SET_PHASE HALTED command into its engine): it keeps
        answering, and rejects every order (the engine's REJ_PHASE) until the day's history resumes it."""
        if self.profiles.get(venue_id) is None or self.profiles[venue_id].type != "lit":
            raise RoutingError(f"no lit venue {venue_id!r} to halt")
        self._advance(venue_id, self.now)
        self.seq[venue_id] += 1
        self.engines[venue_id].submit([SetPhase(instrument_id=INSTRUMENT, seq=self.seq[venue_id], ts_ns=self.now,
                                                phase=int(Phase.HALTED))])

    def _dead(self, venue_id: str, t: int) -> bool:
        return venue_id in self.killed and t >= self.killed[venue_id]

    # ---- Marketplace ------------------------------------------------------------------------------
    def now_ns(self) -> int:
        return self.now

    def snapshot(self, instrument_id: int) -> MarketSnapshot:
        if instrument_id != INSTRUMENT:
            raise RoutingError(f"the replay holds instrument {INSTRUMENT} only, not {instrument_id}")
        books = []
        for v, prof in sorted(self.profiles.items()):
            if prof.type == "dark" or self._dead(v, self.now):
                books.append(VenueBook(venue_id=v, stale=prof.type == "lit"))
                continue
            self._advance(v, self.now)
            eng = self.engines[v]
            bids = tuple(Level(p, q) for p, q, _ in eng.depth(INSTRUMENT, BUY, self.depth))
            asks = tuple(Level(p, q) for p, q, _ in eng.depth(INSTRUMENT, SELL, self.depth))
            books.append(VenueBook(venue_id=v, bids=bids, asks=asks))
        return MarketSnapshot(ts_ns=self.now, instrument_id=instrument_id, books=tuple(books))

    def traded_volume(self, instrument_id: int) -> dict[str, int]:
        """Shares printed per venue from the start of the day up to now (module docstring)."""
        if instrument_id != INSTRUMENT:
            raise RoutingError(f"the replay holds instrument {INSTRUMENT} only, not {instrument_id}")
        out = {}
        for v, prof in sorted(self.profiles.items()):
            if prof.type == "dark":
                out[v] = self.dark[v].printed(self.now)
            else:
                if not self._dead(v, self.now):
                    self._advance(v, self.now)
                ts, cum = self.syn.prints[v]
                k = int(np.searchsorted(ts, self.now, side="right"))
                out[v] = self.own_volume[v] + (int(cum[k - 1]) if k else 0)
        return out

    def _latency(self, venue_id: str) -> int:
        mu, sigma = latency_lognormal_ns(self.profiles[venue_id])
        return max(1, int(self.rngs[venue_id].lognormal(mu, sigma)))

    def _arrival_time(self, venue_id: str) -> int:
        """When what the router sends now reaches the venue: one latency draw later, and never before
        what it sent there earlier (one session per venue, delivered in order)."""
        at = max(self.now + self._latency(venue_id), self.last_arrival.get(venue_id, 0))
        self.last_arrival[venue_id] = at
        return at

    def _answer_time(self, venue_id: str, t: int) -> int:
        """When an answer the venue sends at t reaches the router: one latency draw later, and never
        before an answer it sent earlier (a venue session delivers in order)."""
        back = max(t + self._latency(venue_id), self.last_answer.get(venue_id, 0))
        self.last_answer[venue_id] = back
        return back

    def _push(self, ts: int, kind: str, payload: Any) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (ts, self.counter, kind, payload))

    def send(self, child: ChildOrder, instrument_id: int) -> None:
        if child.venue_id not in self.profiles:
            raise RoutingError(f"child {child.child_id}: no venue {child.venue_id!r} in this replay")
        self._push(self._arrival_time(child.venue_id), "arrive", child)

    def cancel(self, child: ChildOrder, instrument_id: int) -> None:
        if child.venue_id not in self.profiles:
            raise RoutingError(f"child {child.child_id}: no venue {child.venue_id!r} in this replay")
        self._push(self._arrival_time(child.venue_id), "cancel", child)

    def _advance_posts(self, t: int) -> None:
        """Every live lit venue up to t while posts rest: history's executions fill them on the way
        (on any venue: a trade-through of a post's protected quote fills it)."""
        for v in self.syn.histories:
            if not self._dead(v, t):
                self._advance(v, t)

    def wait(self, until_ns: int) -> list[ChildEvent]:
        out: list[ChildEvent] = []
        while True:
            if out and (not self.heap or self.heap[0][0] > out[0].ts_ns):
                break
            if self.posts:   # fills of resting posts come from history, up to the next event at most
                self._advance_posts(min(until_ns, self.heap[0][0]) if self.heap else until_ns)
            if not self.heap or self.heap[0][0] > until_ns:
                break
            ts, _, kind, payload = self.heap[0]
            if out and ts > out[0].ts_ns:
                break
            heapq.heappop(self.heap)
            self.now = max(self.now, ts)
            if kind == "arrive":
                self._arrive(payload, ts)
            elif kind == "cancel":
                self._cancel_arrives(payload, ts)
            else:
                out.append(payload)
        if not out:
            self.now = max(self.now, until_ns)
        return out

    # ---- a child at its venue ---------------------------------------------------------------------
    def _arrive(self, child: ChildOrder, t: int) -> None:
        if self._dead(child.venue_id, t):
            return   # the venue is gone: no execution, no answer
        if child.style == "post":
            answers = self._rest(child, t)
        else:
            answers = self._execute_lit(child, t) if child.style == "take" else self._execute_dark(child, t)
        back = self._answer_time(child.venue_id, t)
        for e in answers:
            self._push(back, "answer", ChildEvent(child_id=e.child_id, ts_ns=back, kind=e.kind, price=e.price,
                                                  qty=e.qty, reason=e.reason))

    def _rest(self, child: ChildOrder, t: int) -> list[ChildEvent]:
        """A post joins the back of its venue's queue (trading/routing/replay_posts.py: the rule)."""
        v = child.venue_id
        if self.profiles[v].type != "lit":
            return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected", reason="a post sent to a dark pool")]
        if child.child_id in self.posts.cancelled_early:
            return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="done", reason="cancelled before it arrived")]
        self._advance(v, t)
        info = self.engines[v].instrument(INSTRUMENT)
        if info is None or info["phase"] != int(Phase.CONTINUOUS):    # halted, closed: as the engine refuses orders
            return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected",
                               reason=f"{Reason.REJ_PHASE.name} ({int(Reason.REJ_PHASE)}): the venue is not trading")]
        side = SIDES[child.side]
        contra = self.engines[v].depth(INSTRUMENT, SELL if side == BUY else BUY, 1)
        if contra and (contra[0][0] <= child.price if side == BUY else contra[0][0] >= child.price):
            return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected",
                               reason="post-only: it would take on arrival")]
        ahead = next((q for p, q, _ in self.engines[v].depth(INSTRUMENT, side, self.depth) if p == child.price), 0)
        self.posts.add(v, Resting(child=child, side=side, price=child.price, left=child.qty, ahead=ahead))
        return []

    def _cancel_arrives(self, child: ChildOrder, t: int) -> None:
        if self._dead(child.venue_id, t):
            return
        self._advance(child.venue_id, t)     # executions before the cancel still fill the post
        if self.posts.cancel(child.venue_id, child.child_id) is not None:
            back = self._answer_time(child.venue_id, t)
            self._push(back, "answer", ChildEvent(child_id=child.child_id, ts_ns=back, kind="done"))

    def _execute_lit(self, child: ChildOrder, t: int) -> list[ChildEvent]:
        v = child.venue_id
        if self.profiles[v].type != "lit":
            return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected", reason="a take sent to a dark pool")]
        self._advance(v, t)
        self.next_own_id += 1
        oid = self.next_own_id
        order = NewOrder(instrument_id=INSTRUMENT, seq=self.seq[v] + 1, ts_ns=t, order_id=oid,
                         side=SIDES[child.side], price=child.price, qty=child.qty, ord_type=int(OrdType.LIMIT),
                         tif=int(Tif.IOC), account_id=OWN_ACCOUNT)
        self.seq[v] += 1
        out: list[ChildEvent] = []
        for e in self.engines[v].submit([order]):
            if isinstance(e, TradeEvent) and oid in (e.buy_order_id, e.sell_order_id):
                self.own_volume[v] += e.qty
                out.append(ChildEvent(child_id=child.child_id, ts_ns=t, kind="fill", price=e.price, qty=e.qty))
            elif isinstance(e, RejectedEvent) and e.order_id == oid:
                return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected",
                                   reason=f"{Reason(e.reason).name} ({e.reason})")]
        return out + [ChildEvent(child_id=child.child_id, ts_ns=t, kind="done")]

    def _execute_dark(self, child: ChildOrder, t: int) -> list[ChildEvent]:
        if child.venue_id not in self.dark:
            return [ChildEvent(child_id=child.child_id, ts_ns=t, kind="rejected", reason="a midpoint order sent to a lit venue")]
        quote = self.snapshot(INSTRUMENT).nbbo(frozenset(v for v in self.killed if self._dead(v, t)))
        self.next_own_id += 1
        return self.dark[child.venue_id].execute(child, t, quote, self.next_own_id)
