"""setuptools entry point: exists only so that cffi can hook its build of native/ into
`pip install`. Everything else about the package lives in pyproject.toml."""
from setuptools import setup

setup(cffi_modules=["native/build_ffi.py:ffibuilder"])
