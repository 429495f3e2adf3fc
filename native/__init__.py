"""The venue's C core (matching engine, rings, probes) and its narrow Python face.

The compiled cffi module is ``native._venue`` (built by native/build_ffi.py at install time);
``native.engine`` wraps the matching engine for in-process use.
"""
