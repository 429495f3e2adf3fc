"""ETF fair value live: an ETF and its components traded on the same venue, valued as their
quotes change (etf.py's EtfFairValueStream: FV = (sum n_i P_i + C) / D, premium (P_ETF - FV) / FV,
signal -1 / +1 beyond the round-trip cost).

Prices: each instrument's quote midpoint after every market-data event of it that leaves both
sides quoted and not crossed (the analytics feed's MarketEvents, feed.py); a one-sided book leaves
its previous midpoint in force. One poll's events of every instrument in the basket are merged in
engine time (stable: for equal times, the ETF first, then the components in basket order), so the
live values equal the batch ``etf_fair_value`` over the same merged updates. The monitor
(monitor.py) publishes ``values()`` with the other analytics and an alert when the signal turns
non-zero (an arbitrage edge beyond cost appeared) or back to zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.etf import EtfFairValueStream
from trading.analytics.events import MarketEvents


class EtfBasket(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A basket as the monitor takes it (``--etf`` JSON, or [[analytics.etf]] in a venue's config):
    instrument ids, shares of each component per ``divisor`` ETF shares, cash in currency units,
    and the round-trip cost in basis points beyond which the stat-arb signal fires."""
    etf: int
    components: dict[int, float]
    cash: float = 0.0
    divisor: float = 1.0
    cost_bps: float = 0.0
    symbol: str = ""


def parse_basket(text: str) -> EtfBasket:
    """``--etf`` JSON -> EtfBasket; a clear AnalyticsInputError on anything else."""
    try:
        basket = msgspec.json.decode(text, type=EtfBasket)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise AnalyticsInputError(f"--etf: {exc} (expected {{\"etf\": ID, \"components\": {{\"ID\": SHARES, ...}}, "
                                  f"\"cash\": X, \"divisor\": D, \"cost_bps\": C}})") from None
    if basket.etf <= 0 or not basket.components or any(i <= 0 for i in basket.components):
        raise AnalyticsInputError("--etf: instrument ids must be > 0 and components must not be empty")
    if basket.etf in basket.components:
        raise AnalyticsInputError(f"--etf: the ETF {basket.etf} is one of its own components")
    if not all(math.isfinite(v) and v > 0 for v in basket.components.values()):
        raise AnalyticsInputError("--etf: component shares must be finite and > 0")
    if not (math.isfinite(basket.cash) and basket.divisor > 0 and 0 <= basket.cost_bps < 10_000):
        raise AnalyticsInputError("--etf: cash must be finite, divisor > 0, cost_bps in [0, 10000)")
    return basket


@dataclass
class EtfLive:
    basket: EtfBasket
    stream: EtfFairValueStream
    order: list[int]              # column 0 the ETF, 1.. the components (basket order)
    fair_value: float = math.nan
    premium: float = math.nan
    signal: int = 0
    edge: float = 0.0
    time: float = math.nan
    updates: int = 0

    @classmethod
    def of(cls, basket: EtfBasket) -> "EtfLive":
        comps = list(basket.components)
        stream = EtfFairValueStream([basket.components[i] for i in comps], basket.cash, basket.divisor,
                                    basket.cost_bps / 1e4)
        return cls(basket, stream, [basket.etf, *comps])

    def merged_updates(self, events: dict[int, MarketEvents]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, column, mid) of this poll's quote changes of the basket's instruments, merged."""
        t, col, mid = [], [], []
        for c, ins in enumerate(self.order):
            ev = events.get(ins)
            if ev is None:
                continue
            ok = np.isfinite(ev.bid) & np.isfinite(ev.ask) & (ev.bid < ev.ask)
            t.append(ev.time[ok])
            col.append(np.full(int(ok.sum()), c, dtype=np.int64))
            mid.append((ev.bid[ok] + ev.ask[ok]) / 2.0)
        if not t:
            return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0)
        times, cols, mids = np.concatenate(t), np.concatenate(col), np.concatenate(mid)
        order = np.lexsort((cols, times))        # engine time, then the ETF before its components
        return times[order], cols[order], mids[order]

    def update(self, events: dict[int, MarketEvents]) -> dict[str, Any] | None:
        """Feed one poll's events; returns an alert body when the signal changed, else None."""
        times, cols, mids = self.merged_updates(events)
        if not len(times):
            return None
        v = self.stream.update_many(times, cols, mids)
        before = self.signal
        self.fair_value, self.premium = float(v.fair_value[-1]), float(v.premium[-1])
        self.signal, self.edge = int(v.signal[-1]), float(v.edge[-1])
        self.time, self.updates = float(times[-1]), self.updates + len(times)
        if self.signal == before:
            return None
        what = {1: "ETF cheap: buy the ETF, sell the basket", -1: "ETF rich: sell the ETF, buy the basket",
                0: "premium back within cost"}[self.signal]
        return {"alert": "etf_arbitrage", "time": self.time, **self.values(), "message": what}

    def values(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else x
        return {"etf": self.basket.etf, "etf_symbol": self.basket.symbol or str(self.basket.etf),
                "etf_fair_value": num(self.fair_value), "etf_premium": num(self.premium),
                "etf_signal": self.signal, "etf_edge": self.edge, "etf_updates": self.updates}
