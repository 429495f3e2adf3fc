"""The compiled core must import: many tests skip the C side when it does not, so this one fails
instead, naming the import error, so that a broken build can never pass as a green run."""
import importlib


def test_native_extension_imports_and_links():
    module = importlib.import_module("native._venue")
    assert module.ffi.sizeof("eng_cmd_t") == 96
    assert module.ffi.sizeof("eng_evt_t") == 96
