# Type stub of the cffi extension that native/build_ffi.py compiles from native/ (C) and the cdef
# headers it lists. cffi builds `ffi` and `lib` at run time from those headers, so their members
# (every C function, struct and constant) have no static types: both are Any to mypy, and the
# typed faces over them are native.engine, native.records and shm.
from typing import Any

ffi: Any
lib: Any
