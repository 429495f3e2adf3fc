"""Python's view of the venue's shared-memory segments: attach and validate segment headers,
numpy views for reading ring records without copies, and C calls for cursor updates.

Modules: errors (typed exceptions, the one rc -> exception map), segment (files, attach,
views), rings (SPSC and broadcast faces), engine_segments (an engine's set of segments),
client (EngineClient, EventStream), probe (ping-pong latency probes)."""
