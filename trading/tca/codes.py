"""The engine's codes the analysis uses, as typed ints (native/records.py builds its enums at
import time from the compiled layout, which a type checker cannot see; these read the same lib)."""
from __future__ import annotations

from typing import Final

from native._venue import lib


def _c(name: str) -> int:
    return int(getattr(lib, name))


EVT_ACCEPTED: Final = _c("ENG_EVT_ACCEPTED")
EVT_REJECTED: Final = _c("ENG_EVT_REJECTED")
EVT_TRADE: Final = _c("ENG_EVT_TRADE")
EVT_CANCELLED: Final = _c("ENG_EVT_CANCELLED")
EVT_REPLACED: Final = _c("ENG_EVT_REPLACED")
EVT_EXPIRED: Final = _c("ENG_EVT_EXPIRED")
EVT_TRIGGERED: Final = _c("ENG_EVT_TRIGGERED")
EVT_BOOK_LEVEL: Final = _c("ENG_EVT_BOOK_LEVEL")
CMD_NEW_ORDER: Final = _c("ENG_CMD_NEW_ORDER")
CMD_CANCEL: Final = _c("ENG_CMD_CANCEL")
CMD_REPLACE: Final = _c("ENG_CMD_REPLACE")
CMD_MASS_CANCEL: Final = _c("ENG_CMD_MASS_CANCEL")
SIDE_BUY: Final = _c("ENG_SIDE_BUY")
SIDE_SELL: Final = _c("ENG_SIDE_SELL")
ORD_LIMIT: Final = _c("ENG_ORD_LIMIT")
ORD_MARKET: Final = _c("ENG_ORD_MARKET")
ORD_STOP: Final = _c("ENG_ORD_STOP")
ORD_STOP_LIMIT: Final = _c("ENG_ORD_STOP_LIMIT")
TIF_DAY: Final = _c("ENG_TIF_DAY")
TIF_GTC: Final = _c("ENG_TIF_GTC")
TIF_GTD: Final = _c("ENG_TIF_GTD")
TIF_IOC: Final = _c("ENG_TIF_IOC")
TIF_FOK: Final = _c("ENG_TIF_FOK")
PHASE_PRE_OPEN: Final = _c("ENG_PHASE_PRE_OPEN")
PHASE_CONTINUOUS: Final = _c("ENG_PHASE_CONTINUOUS")
CXL_USER: Final = _c("ENG_CXL_USER")
CXL_MASS: Final = _c("ENG_CXL_MASS")

ORD_NAMES: Final = {ORD_LIMIT: "LIMIT", ORD_MARKET: "MARKET", ORD_STOP: "STOP", ORD_STOP_LIMIT: "STOP_LIMIT"}
TIF_NAMES: Final = {TIF_DAY: "DAY", TIF_GTC: "GTC", TIF_GTD: "GTD", TIF_IOC: "IOC", TIF_FOK: "FOK"}
EVT_NAMES: Final = {EVT_ACCEPTED: "ACCEPTED", EVT_REJECTED: "REJECTED", EVT_TRADE: "TRADE",
                    EVT_CANCELLED: "CANCELLED", EVT_REPLACED: "REPLACED", EVT_EXPIRED: "EXPIRED",
                    EVT_TRIGGERED: "TRIGGERED"}
