"""Python's view of the venue's shared-memory segments: attach and validate segment headers,
numpy views for reading ring records without copies, and C calls for cursor updates."""
