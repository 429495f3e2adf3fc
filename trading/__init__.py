"""The trading side of the venue: strategies, market replay, market making, analytics, and (next)
execution algorithms, routing and TCA, each in its own room (see README's folder table).

``python -m trading VERB`` runs its tools; every room adds its verbs to trading/__main__.py.
"""
