"""The notebook API in the seeds' spirit: ``OrderFlowAnalyzer(journal).analyze_order_flow("AAPL",
timedelta(hours=1))`` returns plain dataclasses: the cost summary of the instrument over the last
hour of the journal (or a given end time), the seed's execution-quality figures as measured, the
per-order rows, markouts by horizon and the order-flow counts. ``python -m trading report flow``
prints the same from the shell."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from trading.tca.analysis import CostSummary, analyze, order_records, summarize
from trading.tca.errors import NoData, TcaInputError
from trading.tca.quality import QualityFigure, execution_quality
from trading.tca.reference import Reference
from trading.tca.tape import Tape, load_tape


@dataclass(frozen=True)
class OrderFlowReport:
    symbol: str
    start: datetime
    end: datetime
    orders: int
    buy_orders: int
    sell_orders: int
    executions: int
    shares: int
    notional: float
    rejects: int
    costs: CostSummary
    quality: list[QualityFigure]
    by_strategy: list[CostSummary]
    order_rows: list[dict[str, object]] = field(repr=False)


class OrderFlowAnalyzer:
    """Reads a journal once (lazily) and answers questions about an instrument and a time window."""

    def __init__(self, journal_dir: str = "venue-journal", reference: Reference | None = None) -> None:
        self.journal_dir = journal_dir
        self.reference = reference or Reference()
        self._tape: Tape | None = None

    @property
    def tape(self) -> Tape:
        if self._tape is None:
            self._tape = load_tape(self.journal_dir)
        return self._tape

    def analyze_order_flow(self, symbol: str, window: timedelta, end: datetime | None = None) -> OrderFlowReport:
        """The instrument's order flow and execution quality over [end - window, end) (UTC; end =
        the journal's last command by default). UnknownInstrument for a symbol the journal and the
        reference data do not know, NoData for a window without orders."""
        if window <= timedelta(0):
            raise TcaInputError(f"window must be positive, got {window}")
        tape = self.tape
        iid = self.reference.resolve_instrument(symbol, set(tape.instruments))
        end_ns = tape.clock.utc_ns(tape.last_ts) + 1 if end is None else int(end.timestamp() * 1e9)
        start_ns = end_ns - int(window.total_seconds() * 1e9)
        sub = tape.instrument_only(iid).window(start_ns, end_ns)
        start_dt = datetime.fromtimestamp(start_ns / 1e9, tz=timezone.utc)
        end_dt = datetime.fromtimestamp(end_ns / 1e9, tz=timezone.utc)
        if len(sub.orders) == 0:
            raise NoData(f"{symbol}: no orders between {start_dt.isoformat()} and {end_dt.isoformat()}")
        an = analyze(sub, self.reference)
        o = sub.orders
        return OrderFlowReport(
            symbol, start_dt, end_dt, len(o), int((o["side"] > 0).sum()), int((o["side"] < 0).sum()),
            int(len(sub.fills) // 2), int(sub.fills["qty"][0::2].sum()),
            float((sub.fills["price"][0::2].astype(np.float64) * sub.fills["qty"][0::2]).sum() / self.reference.price_scale),
            len(sub.rejects), summarize(an, "venue")[0], execution_quality(an), an.summary("strategy"),
            order_records(an))
