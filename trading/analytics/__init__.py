"""Order-flow analytics, price discovery and regimes: estimators in batch and streaming forms.

One concern per module; each estimator's docstring gives its formula and source. Batch functions
take plain numpy arrays (or anything ``np.asarray`` accepts: lists, pandas Series or DataFrame
columns) for a whole day; the streaming classes take one event (``update``) or a micro-batch
(``update_many``) at a time and give the same values. Bad input raises ``AnalyticsInputError``
(errors.py); an estimator that is undefined on valid input returns NaN and says when.

    classification  tick rule, Lee-Ready, bulk volume classification
    vpin            VPIN (Easley, Lopez de Prado, O'Hara 2012) and its CDF alert
    ofi             order-flow imbalance (Cont, Kukanov, Stoikov 2014) and its impact regression
    liquidity       Kyle's lambda, Amihud's illiquidity, Roll's implied spread
    adverse         effective and realised spreads, price impact, markouts, adverse-selection share
    regime          volatility and trend regimes by Bayesian online change points (Adams, MacKay
                    2007), fitted online; shared with the market maker
    discovery       Hasbrouck information shares, Gonzalo-Granger component shares (VECM)
    fusion          Kalman efficient price from several sources with online noise estimates;
                    Dempster-Shafer evidence with a stated high-conflict rule
    efficiency      variance ratios (Lo, MacKinlay 1988), autocorrelation, deviation from the
                    fused price
    etf             ETF fair value from its basket, premium/discount, stat-arb signal
    bars, ols       time bars and running least squares the estimators share
    events, feed    market-data events: a LOBSTER reader, the engine's event log
    suite           the set run together (analyze_day, StreamingAnalytics)
    monitor, cli    ``python -m trading monitor`` (live) and ``python -m trading analyze``
"""
