"""Venue scores, updated from realised outcomes: fill rate, latency, markout and reject rate, each an
exponentially weighted average (weight `alpha` on the newest observation) started from the venue's
profile (fill rate = its stated reliability, latency = its stated average, markout 0, rejects 0).

A venue that does not answer a child within the timeout is marked down: avoided by every routing
decision until `down_for_ns` has passed (then tried again; one more silence marks it down again),
and its fill-rate and reliability averages take a zero. A venue that answers but rejects
`max_rejects` children in a row (halted, refusing) is set aside the same way. This is Reg NMS Rule
611(b)(1) self-help: while it is set aside, its quotes are not protected for our routing.
"""
from __future__ import annotations

import msgspec

from gateway.venues.config import VenueSpec
from trading.routing.venue import latency_avg_ns


class VenueScore(msgspec.Struct, kw_only=True):
    venue_id: str
    fill_rate: float
    latency_ns: float
    markout_bps: float = 0.0
    reject_rate: float = 0.0
    answered_rate: float = 1.0
    children: int = 0
    timeouts: int = 0
    rejects_in_a_row: int = 0
    down_until_ns: int = 0
    down_why: str = ""

    def quality(self) -> float:
        """One number in [0, 1] for ranking: P(answer) x P(fill) x (1 - P(reject))."""
        return max(0.0, min(1.0, self.answered_rate * self.fill_rate * (1.0 - self.reject_rate)))


class VenueScoreboard:
    def __init__(self, venues: tuple[VenueSpec, ...], alpha: float = 0.2, down_for_ns: int = 30_000_000_000,
                 max_rejects: int = 2) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha {alpha} must be in (0, 1]")
        self.alpha = alpha
        self.down_for_ns = down_for_ns
        self.max_rejects = max_rejects
        self.scores = {v.id: VenueScore(venue_id=v.id, fill_rate=v.reliability, latency_ns=latency_avg_ns(v),
                                        answered_rate=v.reliability)
                       for v in venues}

    def _ewma(self, old: float, new: float) -> float:
        return (1.0 - self.alpha) * old + self.alpha * new

    def score(self, venue_id: str) -> VenueScore:
        return self.scores[venue_id]

    def available(self, venue_id: str, now_ns: int) -> bool:
        return self.scores[venue_id].down_until_ns <= now_ns

    def down(self, now_ns: int) -> frozenset[str]:
        return frozenset(v for v, s in self.scores.items() if s.down_until_ns > now_ns)

    def why_down(self, venue_id: str) -> str:
        return self.scores[venue_id].down_why

    def record_answer(self, venue_id: str, sent_qty: int, filled_qty: int, latency_ns: int, rejected: bool,
                      now_ns: int = 0) -> None:
        s = self.scores[venue_id]
        s.rejects_in_a_row = s.rejects_in_a_row + 1 if rejected else 0
        if s.rejects_in_a_row >= self.max_rejects:
            s.down_until_ns = now_ns + self.down_for_ns
            s.down_why = f"rejected {s.rejects_in_a_row} orders in a row"
            s.rejects_in_a_row = 0
        s.children += 1
        s.answered_rate = self._ewma(s.answered_rate, 1.0)
        s.latency_ns = self._ewma(s.latency_ns, float(latency_ns))
        s.reject_rate = self._ewma(s.reject_rate, 1.0 if rejected else 0.0)
        if not rejected:
            s.fill_rate = self._ewma(s.fill_rate, filled_qty / sent_qty if sent_qty else 0.0)

    def record_timeout(self, venue_id: str, now_ns: int) -> None:
        s = self.scores[venue_id]
        s.children += 1
        s.timeouts += 1
        s.answered_rate = self._ewma(s.answered_rate, 0.0)
        s.fill_rate = self._ewma(s.fill_rate, 0.0)
        s.down_until_ns = now_ns + self.down_for_ns
        s.down_why = "stopped answering"

    def record_markout(self, venue_id: str, markout_bps: float) -> None:
        s = self.scores[venue_id]
        s.markout_bps = self._ewma(s.markout_bps, markout_bps)

    def table(self) -> list[VenueScore]:
        return [msgspec.structs.replace(s) for s in self.scores.values()]
