"""Order-flow analytics, price discovery and regimes: estimators in batch and streaming forms.

One concern per module; each estimator's docstring gives its formula and source. Batch functions
take plain numpy arrays (or anything ``np.asarray`` accepts: lists, pandas Series/DataFrame columns)
for a whole day; the streaming classes take one event (``update``) or a micro-batch (``update_many``)
at a time and give the same values. Bad input raises ``AnalyticsInputError`` (errors.py).

    classification  tick rule, Lee-Ready, bulk volume classification
    vpin            VPIN (Easley, Lopez de Prado, O'Hara 2012) and its CDF alert
    ofi             order-flow imbalance (Cont, Kukanov, Stoikov 2014) and its impact regression
    regime          volatility and trend regimes, Bayesian online change points (shared with the
                    market maker)
    events          the market-data event arrays and a LOBSTER reader
"""
