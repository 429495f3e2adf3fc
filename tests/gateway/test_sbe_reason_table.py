"""One reason table: gateway.reasons reads eng_reason from native/layout/venue_layout.h and matches the
compiled enum; the codec's ENG_GW_* block is there; the wire enums carry the engine's own values,
so the gateway maps Side, OrdType, TimeInForce, STP mode and flags to engine commands unchanged."""
from __future__ import annotations

import re

import msgspec
import pytest

from gateway import reasons
from gateway.orderentry import sbe_codec as s
from gateway.reasons import Reason
from tests.gateway import sbe_cffi, sbe_samples

CODEC_CODES = ["ENG_GW_FRAME_TRUNCATED", "ENG_GW_ENCODING_TYPE", "ENG_GW_FRAME_LENGTH", "ENG_GW_SCHEMA_ID",
               "ENG_GW_SCHEMA_VERSION", "ENG_GW_UNKNOWN_TEMPLATE", "ENG_GW_BLOCK_LENGTH", "ENG_GW_BODY_TRUNCATED",
               "ENG_GW_BAD_ENUM", "ENG_GW_BAD_SET", "ENG_GW_VALUE_RANGE", "ENG_GW_VAR_DATA_LENGTH",
               "ENG_GW_TRAILING_BYTES"]


def _header_enum(name: str) -> dict[str, int]:
    text = reasons.LAYOUT_HEADER.read_text()
    body = re.search(r"typedef enum %s \{(.*?)\}" % name, text, re.S)
    assert body, f"enum {name} not found in venue_layout.h"
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(ENG_\w+)\s*=\s*(\d+)", body.group(1))}


@pytest.mark.skipif(not sbe_cffi.HAVE_C, reason=sbe_cffi.WHY_NO_C)
def test_parsed_table_equals_the_compiled_enum() -> None:
    compiled = sbe_cffi.ffi.typeof("eng_reason_t").elements
    assert {int(r): r.name for r in Reason} == dict(compiled)


def test_codec_codes_are_the_900_block_in_frame_order() -> None:
    assert [Reason[n] for n in CODEC_CODES] == list(range(900, 900 + len(CODEC_CODES)))
    assert all(reasons.is_gateway_reason(Reason[n]) for n in CODEC_CODES)
    assert reasons.describe(905).startswith("ENG_GW_UNKNOWN_TEMPLATE (905): ")
    with pytest.raises(ValueError):
        reasons.describe(899)


def test_every_reason_fits_the_wire_reason_code() -> None:
    report = msgspec.structs.replace(sbe_samples.execution_reports()[0], reason_code=int(max(Reason)))
    assert s.Decoder().decode(s.Encoder().encode(report)).reason_code == max(Reason)


@pytest.mark.parametrize("wire,engine,names", [
    (s.Side, "eng_side", {"BUY": "ENG_SIDE_BUY", "SELL": "ENG_SIDE_SELL"}),
    (s.OrdType, "eng_ord_type", {"LIMIT": "ENG_ORD_LIMIT", "MARKET": "ENG_ORD_MARKET", "STOP": "ENG_ORD_STOP",
                                 "STOP_LIMIT": "ENG_ORD_STOP_LIMIT", "MIDPOINT_PEG": "ENG_ORD_MIDPOINT_PEG"}),
    (s.TimeInForce, "eng_tif", {"DAY": "ENG_TIF_DAY", "GOOD_TILL_CANCEL": "ENG_TIF_GTC",
                                "GOOD_TILL_DATE": "ENG_TIF_GTD", "IMMEDIATE_OR_CANCEL": "ENG_TIF_IOC",
                                "FILL_OR_KILL": "ENG_TIF_FOK"}),
    (s.SelfTradePrevention, "eng_stp_mode", {"NONE": "ENG_STP_NONE", "CANCEL_RESTING": "ENG_STP_CANCEL_RESTING",
                                             "CANCEL_AGGRESSING": "ENG_STP_CANCEL_AGGRESSING",
                                             "CANCEL_BOTH": "ENG_STP_CANCEL_BOTH",
                                             "DECREMENT": "ENG_STP_DECREMENT"}),
    (s.OrderFlags, "eng_order_flag", {"POST_ONLY": "ENG_FLAG_POST_ONLY", "ICEBERG": "ENG_FLAG_ICEBERG",
                                      "INTERMARKET_SWEEP": "ENG_FLAG_ISO"}),
])
def test_wire_enums_equal_the_engine_values(wire: type, engine: str, names: dict[str, str]) -> None:
    header = _header_enum(engine)
    assert {m.name: int(m) for m in wire} == {w: header[e] for w, e in names.items()}
    # every engine value is reachable from the wire, except ENG_SIDE_NONE (auction trades only)
    assert set(names.values()) == {k for k in header if k != "ENG_SIDE_NONE"}
