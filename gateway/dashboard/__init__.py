"""The live web dashboard (issue 26): ``python -m gateway dashboard``, started by ``up``.

Rooms: conflate.py (panel state and the at-most-N-updates-per-second rule), books.py (ladder,
tape, auctions and phases from the engine's event log), latency.py (per-stage percentiles from
the shared-memory latency regions), health.py (processes, rings, journal lag), feeds.py (the
reader thread that feeds the panels), auth.py (browser sessions over the control plane's users),
app.py (the ASGI app: pages, login, actions, WebSocket push), session_cookie.py (sealed login
cookies that survive a restart), reports.py (the TCA reports served read-only), market_data.py
(the feed publisher's subscriber counts), deployment.py (the index page of a multi-venue up),
process.py (the command line).
"""
