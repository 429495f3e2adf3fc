"""Market making and liquidity provision (issue #20).

One concern per file: avellaneda_stoikov.py and glft.py (the two quoting models; glft_grid.py solves
the GLFT HJB numerically to check them), estimation.py (volatility and fill intensity, online),
quoting.py (model distances to prices and sizes, fees, limits), refresh.py (what to send to move a
quote), markouts.py and guard.py (adverse selection and market state), tiers.py (mean-variance
allocation across depths), iceberg.py, hedging.py, paper.py (the Avellaneda-Stoikov experiment),
params.py and errors.py (validated parameters), cli.py (``python -m trading mm``).
"""
