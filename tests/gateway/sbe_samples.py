"""Sample order-entry messages shared by the SBE codec tests: at least one per template, plus the
edge cases (every order type and TIF, absent optionals, full-length variable data, extreme integers).

Also builds the hand-made bad frames of the corpus (see corpus/manifest.json) from good ones, so
that each bad frame differs from a valid frame in exactly the way its expected reason names.
"""
from __future__ import annotations

import struct

from gateway.orderentry import sbe_codec as s

U64_MAX = (1 << 64) - 1
I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
SESSION = 0x5EED_0000_0000_0001
T0 = 1_700_000_000_000_000_000


def _nos(cl_ord_id: int, ord_type: s.OrdType, tif: s.TimeInForce, *, price: int | None = None,
         stop_px: int | None = None, display_qty: int | None = None, expire_time_ns: int | None = None,
         flags: s.OrderFlags = s.OrderFlags(0), stp_mode: s.SelfTradePrevention = s.SelfTradePrevention.NONE,
         side: s.Side = s.Side.BUY, stp_group: int = 0) -> s.NewOrderSingle:
    return s.NewOrderSingle(
        seq_num=cl_ord_id, sending_time_ns=T0 + cl_ord_id, cl_ord_id=cl_ord_id, price=price,
        stop_px=stop_px, order_qty=500, display_qty=display_qty, expire_time_ns=expire_time_ns,
        instrument_id=1, account_id=7, stp_group=stp_group, side=side, ord_type=ord_type,
        time_in_force=tif, stp_mode=stp_mode, flags=flags)


def new_orders() -> list[s.NewOrderSingle]:
    """Every order type, TIF, flag and STP mode the engine supports (native/ENGINE.md NEW_ORDER)."""
    OT, TIF, F, STP = s.OrdType, s.TimeInForce, s.OrderFlags, s.SelfTradePrevention
    return [
        _nos(1, OT.LIMIT, TIF.DAY, price=1_000_100),
        _nos(2, OT.LIMIT, TIF.GOOD_TILL_CANCEL, price=1_000_200, side=s.Side.SELL),
        _nos(3, OT.LIMIT, TIF.GOOD_TILL_DATE, price=1_000_300, expire_time_ns=T0 + 3_600_000_000_000),
        _nos(4, OT.LIMIT, TIF.IMMEDIATE_OR_CANCEL, price=1_000_400),
        _nos(5, OT.LIMIT, TIF.FILL_OR_KILL, price=1_000_500),
        _nos(6, OT.MARKET, TIF.IMMEDIATE_OR_CANCEL),
        _nos(7, OT.MARKET, TIF.FILL_OR_KILL, side=s.Side.SELL),
        _nos(8, OT.STOP, TIF.DAY, stop_px=1_001_000),
        _nos(9, OT.STOP_LIMIT, TIF.GOOD_TILL_CANCEL, price=1_001_100, stop_px=1_001_000),
        _nos(10, OT.LIMIT, TIF.DAY, price=1_000_100, flags=F.POST_ONLY),
        _nos(11, OT.LIMIT, TIF.GOOD_TILL_CANCEL, price=1_000_100, display_qty=100, flags=F.ICEBERG),
        _nos(12, OT.LIMIT, TIF.DAY, price=1_000_100, display_qty=100, flags=F.ICEBERG | F.POST_ONLY),
        _nos(13, OT.STOP_LIMIT, TIF.DAY, price=1_000_100, stop_px=999_900, display_qty=100, flags=F.ICEBERG),
        _nos(14, OT.LIMIT, TIF.DAY, price=1_000_100, stp_mode=STP.CANCEL_RESTING, stp_group=9),
        _nos(15, OT.LIMIT, TIF.DAY, price=1_000_100, stp_mode=STP.CANCEL_AGGRESSING, stp_group=9),
        _nos(16, OT.LIMIT, TIF.DAY, price=1_000_100, stp_mode=STP.CANCEL_BOTH, stp_group=9),
        _nos(17, OT.LIMIT, TIF.DAY, price=1_000_100, stp_mode=STP.DECREMENT, stp_group=U64_MAX >> 32),
    ]


def _er(exec_id: int, exec_type: s.ExecType, status: s.OrdStatus, **kw: object) -> s.ExecutionReport:
    base: dict[str, object] = dict(
        seq_num=100 + exec_id, sending_time_ns=T0 + 10, transact_time_ns=T0 + 5, order_id=42,
        cl_ord_id=1, exec_id=exec_id, trade_id=None, price=1_000_100, stop_px=None, order_qty=500,
        display_qty=None, last_px=None, last_qty=None, leaves_qty=500, cum_qty=0, instrument_id=1,
        account_id=7, reason_code=0, exec_type=exec_type, ord_status=status, side=s.Side.BUY,
        ord_type=s.OrdType.LIMIT, time_in_force=s.TimeInForce.DAY, aggressor=s.BooleanFlag.FALSE)
    base.update(kw)
    return s.ExecutionReport(**base)  # type: ignore[arg-type]


def execution_reports() -> list[s.ExecutionReport]:
    """One report per ExecType, partial fill and fill told apart by OrdStatus."""
    ET, OS = s.ExecType, s.OrdStatus
    return [
        _er(1, ET.NEW, OS.NEW),
        _er(2, ET.TRADE, OS.PARTIALLY_FILLED, trade_id=1, last_px=1_000_100, last_qty=200, leaves_qty=300,
            cum_qty=200, aggressor=s.BooleanFlag.TRUE),
        _er(3, ET.TRADE, OS.FILLED, trade_id=2, last_px=1_000_100, last_qty=300, leaves_qty=0, cum_qty=500),
        _er(4, ET.CANCELED, OS.CANCELED, last_qty=500, leaves_qty=0, reason_code=400),
        _er(5, ET.REPLACED, OS.NEW, price=1_000_000, order_qty=400, leaves_qty=400),
        _er(6, ET.REJECTED, OS.REJECTED, leaves_qty=0, reason_code=102),
        _er(7, ET.EXPIRED, OS.EXPIRED, last_qty=500, leaves_qty=0, reason_code=411,
            time_in_force=s.TimeInForce.GOOD_TILL_DATE),
        _er(8, ET.TRIGGERED, OS.NEW, ord_type=s.OrdType.STOP_LIMIT, stop_px=1_001_000, last_px=1_001_000),
        _er(9, ET.REJECTED, OS.REJECTED, leaves_qty=0, reason_code=905, price=None, order_qty=I64_MIN,
            cum_qty=I64_MAX, display_qty=I64_MAX, seq_num=U64_MAX, order_id=U64_MAX),
    ]


def session_messages() -> list[s.Message]:
    full = bytes(range(128))
    return [
        s.Negotiate(session_id=SESSION, timestamp_ns=T0, firm_id=3, client_flow=s.FlowType.RECOVERABLE,
                    credentials=b"key-1:hmac-0123456789abcdef"),
        s.Negotiate(session_id=0, timestamp_ns=0, firm_id=0, client_flow=s.FlowType.NONE, credentials=b""),
        s.NegotiationResponse(session_id=SESSION, request_timestamp_ns=T0, server_flow=s.FlowType.RECOVERABLE),
        s.NegotiationReject(session_id=SESSION, request_timestamp_ns=T0, reason_code=0,
                            code=s.NegotiationRejectCode.CREDENTIALS, reason=b"unknown key"),
        s.Establish(session_id=SESSION, timestamp_ns=T0 + 1, next_seq_no=None, keepalive_interval_ms=1000,
                    credentials=full),
        s.Establish(session_id=SESSION, timestamp_ns=T0 + 2, next_seq_no=57, keepalive_interval_ms=500,
                    credentials=b""),
        s.EstablishmentAck(session_id=SESSION, request_timestamp_ns=T0 + 1, next_seq_no=1,
                           keepalive_interval_ms=1000),
        s.EstablishmentReject(session_id=SESSION, request_timestamp_ns=T0 + 1, reason_code=0,
                              code=s.EstablishmentRejectCode.KEEPALIVE_INTERVAL, reason=b"keepalive 10..60000 ms"),
        s.Sequence(next_seq_no=1),
        s.Sequence(next_seq_no=U64_MAX),
        s.Terminate(session_id=SESSION, reason_code=905, code=s.TerminationCode.DECODING_ERROR,
                    reason=b"unknown template"),
        s.Terminate(session_id=SESSION, reason_code=0, code=s.TerminationCode.FINISHED, reason=b""),
        s.RetransmitRequest(session_id=SESSION, timestamp_ns=T0 + 3, from_seq_no=10, count=5),
        s.Retransmission(session_id=SESSION, request_timestamp_ns=T0 + 3, next_seq_no=10, count=5),
        s.RetransmitReject(session_id=SESSION, request_timestamp_ns=T0 + 3, reason_code=0,
                           code=s.RetransmitRejectCode.OUT_OF_RANGE, reason=full),
    ]


def other_app_messages() -> list[s.Message]:
    return [
        s.OrderCancelRequest(seq_num=20, sending_time_ns=T0, cl_ord_id=20, order_id=42, instrument_id=1),
        s.OrderCancelReplaceRequest(seq_num=21, sending_time_ns=T0, cl_ord_id=21, order_id=42, price=999_900,
                                    order_qty=300, instrument_id=1),
        s.OrderMassCancelRequest(seq_num=22, sending_time_ns=T0, cl_ord_id=22, instrument_id=None, account_id=None),
        s.OrderMassCancelRequest(seq_num=23, sending_time_ns=T0, cl_ord_id=23, instrument_id=4, account_id=0),
        s.OrderCancelReject(seq_num=30, sending_time_ns=T0, transact_time_ns=T0, order_id=42, cl_ord_id=20,
                            instrument_id=1, reason_code=111,
                            cxl_rej_response_to=s.CxlRejResponseTo.ORDER_CANCEL_REQUEST,
                            cxl_rej_reason=s.CxlRejReason.UNKNOWN_ORDER),
        s.OrderMassCancelReport(seq_num=31, sending_time_ns=T0, transact_time_ns=T0, cl_ord_id=22,
                                total_affected_orders=17, instrument_id=None, account_id=7, reason_code=0,
                                mass_cancel_response=s.MassCancelResponse.ACCEPTED),
        s.BusinessMessageReject(seq_num=32, sending_time_ns=T0, ref_seq_num=19, business_reject_ref_id=0,
                                ref_template_id=777, reason_code=905,
                                business_reject_reason=s.BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE,
                                text=b"templateId 777"),
    ]


def all_samples() -> list[s.Message]:
    return session_messages() + new_orders() + other_app_messages() + execution_reports()


# ---- bad frames: each a good frame changed in one way -------------------------------------------

_SOFH = struct.Struct(">IH")
_HDR = struct.Struct("<HHHH")


def frame(msg: s.Message) -> bytearray:
    return bytearray(s.Encoder().encode(msg))


def set_sofh(buf: bytearray, length: int | None = None, encoding: int | None = None) -> bytearray:
    old_len, old_enc = _SOFH.unpack_from(buf, 0)
    _SOFH.pack_into(buf, 0, old_len if length is None else length, old_enc if encoding is None else encoding)
    return buf


def set_header(buf: bytearray, *, block_length: int | None = None, template_id: int | None = None,
               schema_id: int | None = None, version: int | None = None) -> bytearray:
    bl, tid, sid, ver = _HDR.unpack_from(buf, 6)
    _HDR.pack_into(buf, 6, bl if block_length is None else block_length, tid if template_id is None else template_id,
                   sid if schema_id is None else schema_id, ver if version is None else version)
    return buf


def body_offset(field_offset: int) -> int:
    return s.SOFH_LENGTH + s.HEADER_LENGTH + field_offset


def _nos_frame() -> bytearray:
    return frame(new_orders()[0])


def _poke(buf: bytearray, field_offset: int, fmt: str, value: int) -> bytearray:
    struct.pack_into("<" + fmt, buf, body_offset(field_offset), value)
    return buf


def _negotiate_with_var(length_field: int, data: bytes) -> bytearray:
    head = frame(session_messages()[1])[: s.SOFH_LENGTH + s.HEADER_LENGTH + s.Negotiate.BLOCK_LENGTH]
    buf = head + struct.pack("<H", length_field) + data
    return set_sofh(buf, length=len(buf))


def corpus_frames() -> list[tuple[str, str, str, bytes]]:
    """(file name, expected reason name, why, frame bytes) of the kept corpus, good frames first."""
    out: list[tuple[str, str, str, bytes]] = []
    for i, msg in enumerate(all_samples()):
        out.append((f"good_{i:02d}_{type(msg).__name__}.bin", "ENG_OK", "a valid frame", bytes(frame(msg))))
    ext = _nos_frame()
    ext = set_header(ext, block_length=s.NewOrderSingle.BLOCK_LENGTH + 9) + bytes(9)
    out.append(("good_extended_block.bin", "ENG_OK",
                "blockLength larger than the schema's: the extra bytes are skipped (SBE extension rule)",
                bytes(set_sofh(ext, length=len(ext)))))
    two = frame(session_messages()[8]) + frame(session_messages()[9])
    out.append(("good_two_frames.bin", "ENG_OK", "a second frame after the first is not part of it", bytes(two)))

    bad = [
        ("empty.bin", "ENG_GW_FRAME_TRUNCATED", "no bytes at all", b""),
        ("sofh_partial.bin", "ENG_GW_FRAME_TRUNCATED", "five bytes: less than a SOFH", bytes(_nos_frame()[:5])),
        ("body_cut.bin", "ENG_GW_FRAME_TRUNCATED", "frame one byte shorter than its SOFH length",
         bytes(_nos_frame()[:-1])),
        ("encoding_big_endian.bin", "ENG_GW_ENCODING_TYPE", "SOFH encoding 0x5BE0 (SBE big-endian)",
         bytes(set_sofh(_nos_frame(), encoding=0x5BE0))),
        ("encoding_http.bin", "ENG_GW_ENCODING_TYPE", "an HTTP request line instead of a frame",
         b"GET / HTTP/1.1\r\nHost: venue\r\n\r\n"),
        ("length_below_min.bin", "ENG_GW_FRAME_LENGTH", "SOFH length 13 < SOFH + SBE header",
         bytes(set_sofh(_nos_frame(), length=13))),
        ("length_above_max.bin", "ENG_GW_FRAME_LENGTH", "SOFH length 1025 > the maximum frame",
         bytes(set_sofh(_nos_frame(), length=s.MAX_FRAME_LENGTH + 1))),
        ("length_huge.bin", "ENG_GW_FRAME_LENGTH", "SOFH length 0xFFFFFFFF",
         bytes(set_sofh(_nos_frame(), length=0xFFFFFFFF))),
        ("encoding_before_length.bin", "ENG_GW_ENCODING_TYPE", "bad encoding and bad length: encoding checked first",
         bytes(set_sofh(_nos_frame(), length=3, encoding=0))),
        ("schema_id.bin", "ENG_GW_SCHEMA_ID", "schemaId of another schema",
         bytes(set_header(_nos_frame(), schema_id=1))),
        ("schema_before_template.bin", "ENG_GW_SCHEMA_ID", "wrong schema and unknown template: schema first",
         bytes(set_header(_nos_frame(), schema_id=1, template_id=777))),
        ("version_zero.bin", "ENG_GW_SCHEMA_VERSION", "version 0", bytes(set_header(_nos_frame(), version=0))),
        ("version_newer.bin", "ENG_GW_SCHEMA_VERSION", "version newer than the decoder's",
         bytes(set_header(_nos_frame(), version=s.SCHEMA_VERSION + 1))),
        ("template_unknown.bin", "ENG_GW_UNKNOWN_TEMPLATE", "templateId 777",
         bytes(set_header(_nos_frame(), template_id=777))),
        ("template_zero.bin", "ENG_GW_UNKNOWN_TEMPLATE", "templateId 0",
         bytes(set_header(_nos_frame(), template_id=0))),
        ("block_short.bin", "ENG_GW_BLOCK_LENGTH", "NewOrderSingle blockLength 80 < 81",
         bytes(set_header(_nos_frame(), block_length=80))),
        ("block_past_frame.bin", "ENG_GW_BODY_TRUNCATED", "blockLength 200 in a 95-byte frame",
         bytes(set_header(_nos_frame(), block_length=200))),
        ("enum_side.bin", "ENG_GW_BAD_ENUM", "side 3", bytes(_poke(_nos_frame(), 76, "B", 3))),
        ("enum_ord_type.bin", "ENG_GW_BAD_ENUM", "ordType 0", bytes(_poke(_nos_frame(), 77, "B", 0))),
        ("enum_tif.bin", "ENG_GW_BAD_ENUM", "timeInForce 6", bytes(_poke(_nos_frame(), 78, "B", 6))),
        ("enum_stp.bin", "ENG_GW_BAD_ENUM", "stpMode 5", bytes(_poke(_nos_frame(), 79, "B", 5))),
        ("enum_exec_type.bin", "ENG_GW_BAD_ENUM", "execType 'Z'",
         bytes(_poke(frame(execution_reports()[0]), 130, "B", ord("Z")))),
        ("set_flags.bin", "ENG_GW_BAD_SET", "flags bit 3 undefined", bytes(_poke(_nos_frame(), 80, "B", 8))),
        ("range_seq_num.bin", "ENG_GW_VALUE_RANGE", "seqNum 0", bytes(_poke(_nos_frame(), 0, "Q", 0))),
        ("range_instrument.bin", "ENG_GW_VALUE_RANGE", "instrumentId 0", bytes(_poke(_nos_frame(), 64, "I", 0))),
        ("range_reason_code.bin", "ENG_GW_VALUE_RANGE", "reasonCode 1000",
         bytes(_poke(frame(execution_reports()[0]), 128, "H", 1000))),
        ("range_before_enum.bin", "ENG_GW_VALUE_RANGE", "seqNum 0 and side 9: the earlier field wins",
         bytes(_poke(_poke(_nos_frame(), 76, "B", 9), 0, "Q", 0))),
        ("var_too_long.bin", "ENG_GW_VAR_DATA_LENGTH", "credentials of 129 bytes > maxValue 128",
         bytes(_negotiate_with_var(129, bytes(129)))),
        ("var_past_frame.bin", "ENG_GW_BODY_TRUNCATED", "credentials length 10 with 5 bytes left in the frame",
         bytes(_negotiate_with_var(10, b"abcde"))),
        ("var_length_cut.bin", "ENG_GW_BODY_TRUNCATED", "frame ends inside the credentials length prefix",
         bytes(set_sofh(frame(session_messages()[1])[:-1], length=len(frame(session_messages()[1])) - 1))),
        ("trailing_fixed.bin", "ENG_GW_TRAILING_BYTES", "Sequence with one byte after its block",
         bytes(set_sofh(frame(session_messages()[8]) + b"\0", length=len(frame(session_messages()[8])) + 1))),
        ("trailing_var.bin", "ENG_GW_TRAILING_BYTES", "Terminate with one byte after its reason",
         bytes(set_sofh(frame(session_messages()[10]) + b"x", length=len(frame(session_messages()[10])) + 1))),
    ]
    return out + bad
