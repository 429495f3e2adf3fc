"""The trading side of the venue: strategies and the systems they are built from.

Rooms (one system each): strategy/ (strategy API, context, runtime, live and replay), replay/
(historical data, simulated clock, latency models, fill rules), marketmaking/ (inventory-aware
quoting, liquidity provision, hedging), analytics/ (order-flow analytics, regimes). Run the tools
with ``python -m trading VERB``.
"""
