"""Transaction cost analysis, best-execution monitoring and regulatory reports, computed from the
venue's journals (the source of truth) and the market data rebuilt from them.

Entry points: ``load_tape`` (a journal directory -> orders, fills and quotes as numpy tables),
``analyze`` (every cost measure per order, parent, strategy, account, venue, instrument and
period), ``OrderFlowAnalyzer`` (the notebook API), ``BestExecutionMonitor`` (incremental, with
alert bands), the regulatory generators in ``trading.tca.regulatory`` and the reports in
``trading.tca.report``; ``python -m trading report`` runs them from the shell.
"""
from trading.tca.errors import CorruptJournal, NoData, TcaInputError, UnknownInstrument

__all__ = ["CorruptJournal", "NoData", "TcaInputError", "UnknownInstrument"]
