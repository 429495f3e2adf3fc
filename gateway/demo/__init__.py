"""The demo venue: ``python -m gateway demo`` (run), its seeded order flow (flow) and its processes (venue)."""
