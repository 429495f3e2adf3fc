"""The pure-Python reference order book (the "naive" implementation of native/ENGINE.md).

The differential tests run it beside the C engine and require equal event streams; its Python
interface is the one native.engine.Engine offers (submit, depth, orders, order, position,
instrument).
"""
from .engine import OracleEngine
from .layout import ENG

__all__ = ["ENG", "OracleEngine"]
