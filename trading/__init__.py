"""The trading side of the venue: strategies, replay, market making, analytics.

Sub-packages by system (see README): ``strategy/`` and ``replay/`` (strategy runtime and historical
replay), ``marketmaking/``, ``analytics/`` (order-flow analytics, price discovery, regimes).
``python -m trading VERB`` runs the command-line tools.
"""
