"""The trading side of the venue: strategies and replay, market making, analytics, and transaction
cost analysis, each in its own folder. ``python -m trading VERB`` runs their tools."""
