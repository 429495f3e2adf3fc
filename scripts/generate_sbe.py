#!/usr/bin/env python3
"""Generates the order-entry codecs from the SBE schema: native/gateway/sbe_codec.[ch] and gateway/orderentry/sbe_codec.py.

Owns: reading gateway/orderentry/sbe/venue_order_entry.xml, refusing a bad schema with an error that names the
element (duplicate ids or names, unknown types, values outside an encoding's range, block length
mismatches, unsupported SBE features), and emitting both codecs with the same validation order and
the same error codes. The codes are the ENG_GW_* block of native/layout/venue_layout.h Section 1: the C
codec uses them by name, the Python codec through gateway.reasons, so no number is copied here.
Invariant: the output is a pure function of the schema and of the header's codec error lines, so
`--check` (and tests/gateway/test_sbe_generated_files_match.py) can require the committed files to match.

Supported SBE 1.0 subset: little-endian schemas; integer and char primitives (no floats: the venue
has none); simple types with minValue/maxValue and optional presence with nullValue; enums; sets;
the framingHeader (SOFH), messageHeader and varData composites; fields of those types and trailing
<data> fields. Repeating groups, composite-typed fields and constant fields are refused: no message
of this venue needs them, and a generator that half-supports them would emit unchecked code.

Usage: python scripts/generate_sbe.py [--schema PATH] [--check]
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "gateway" / "orderentry" / "sbe" / "venue_order_entry.xml"
LAYOUT_HEADER = ROOT / "native" / "layout" / "venue_layout.h"
C_HEADER_PATH = ROOT / "native" / "gateway" / "sbe_codec.h"
C_SOURCE_PATH = ROOT / "native" / "gateway" / "sbe_codec.c"
PY_PATH = ROOT / "gateway" / "orderentry" / "sbe_codec.py"

SOFH_LENGTH = 6
HEADER_LENGTH = 8
SOFH_SBE10_LE = 0xEB50  # SOFH encoding type "SBE 1.0 little-endian" (FIX SOFH 1.0, encoding type table)
SOFH_SBE10_BE = 0x5BE0

# The codec's error codes in the order the decoder checks them (first failure wins). Each must
# exist in venue_layout.h's eng_reason enum; the generator refuses to run otherwise.
CODEC_ERRORS = (
    "ENG_GW_FRAME_TRUNCATED", "ENG_GW_ENCODING_TYPE", "ENG_GW_FRAME_LENGTH", "ENG_GW_SCHEMA_ID",
    "ENG_GW_SCHEMA_VERSION", "ENG_GW_UNKNOWN_TEMPLATE", "ENG_GW_BLOCK_LENGTH",
    "ENG_GW_BODY_TRUNCATED", "ENG_GW_BAD_ENUM", "ENG_GW_BAD_SET", "ENG_GW_VALUE_RANGE",
    "ENG_GW_VAR_DATA_LENGTH", "ENG_GW_TRAILING_BYTES",
)


class SchemaError(Exception):
    """The schema (or the header it relies on) is invalid; the message names the offending element."""


@dataclasses.dataclass(frozen=True)
class Primitive:
    name: str
    size: int
    signed: bool
    fmt: str  # struct module code

    @property
    def lo(self) -> int:
        return -(1 << (8 * self.size - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (8 * self.size - 1)) - 1 if self.signed else (1 << (8 * self.size)) - 1

    @property
    def c_type(self) -> str:
        return f"{'' if self.signed else 'u'}int{8 * self.size}_t"

    @property
    def ld(self) -> str:
        return f"sbe_ld_{'i' if self.signed else 'u'}{8 * self.size}"

    @property
    def st(self) -> str:
        return f"sbe_st_{'i' if self.signed else 'u'}{8 * self.size}"


PRIMITIVES = {p.name: p for p in (
    Primitive("char", 1, False, "B"),
    Primitive("int8", 1, True, "b"), Primitive("uint8", 1, False, "B"),
    Primitive("int16", 2, True, "h"), Primitive("uint16", 2, False, "H"),
    Primitive("int32", 4, True, "i"), Primitive("uint32", 4, False, "I"),
    Primitive("int64", 8, True, "q"), Primitive("uint64", 8, False, "Q"),
)}


@dataclasses.dataclass
class SimpleType:
    name: str
    prim: Primitive
    optional: bool
    null: int | None
    lo: int
    hi: int
    description: str

    @property
    def domain(self) -> tuple[int, int]:
        """The primitive's range less the null value where it sits at an end (SBE's default nulls)."""
        lo, hi = self.prim.lo, self.prim.hi
        if self.optional and self.null == lo:
            lo += 1
        if self.optional and self.null == hi:
            hi -= 1
        return lo, hi

    def range_checked(self) -> bool:
        return (self.lo, self.hi) != self.domain


@dataclasses.dataclass
class EnumType:
    name: str
    prim: Primitive
    values: list[tuple[str, int, str]]  # (name, value, description)
    is_char: bool
    description: str


@dataclasses.dataclass
class SetType:
    name: str
    prim: Primitive
    choices: list[tuple[str, int, str]]  # (name, bit, description)
    description: str

    @property
    def mask(self) -> int:
        m = 0
        for _, bit, _ in self.choices:
            m |= 1 << bit
        return m


@dataclasses.dataclass
class VarDataType:
    name: str
    length_prim: Primitive
    max_length: int
    description: str


@dataclasses.dataclass
class Field:
    name: str
    id: int
    type: SimpleType | EnumType | SetType
    offset: int
    description: str


@dataclasses.dataclass
class DataField:
    name: str
    id: int
    type: VarDataType
    description: str


@dataclasses.dataclass
class Message:
    name: str
    id: int
    block_length: int
    fields: list[Field]
    data: list[DataField]
    description: str

    @property
    def max_frame_length(self) -> int:
        return (SOFH_LENGTH + HEADER_LENGTH + self.block_length
                + sum(d.type.length_prim.size + d.type.max_length for d in self.data))

    @property
    def min_frame_length(self) -> int:
        return SOFH_LENGTH + HEADER_LENGTH + self.block_length + sum(d.type.length_prim.size for d in self.data)


@dataclasses.dataclass
class Schema:
    package: str
    id: int
    version: int
    semantic_version: str
    description: str
    min_frame: int
    max_frame: int
    types: dict[str, SimpleType | EnumType | SetType | VarDataType]
    messages: list[Message]


# ---------------------------------------------------------------------------------------------
# Parsing and validation


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _int(text: str | None, where: str) -> int:
    if text is None or not text.strip():
        raise SchemaError(f"{where}: a number is required")
    t = text.strip()
    try:
        return int(t, 0) if t.lower().startswith(("0x", "-0x")) else int(t)
    except ValueError:
        raise SchemaError(f"{where}: {t!r} is not an integer") from None


def _attrs(el: ET.Element, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, str]:
    known = set(required) | set(optional)
    for key in el.attrib:
        if key not in known:
            raise SchemaError(f"{where}: attribute {key!r} is not supported here (known: {', '.join(sorted(known))})")
    for key in required:
        if key not in el.attrib:
            raise SchemaError(f"{where}: attribute {key!r} is required")
    return dict(el.attrib)


def _primitive(name: str, where: str) -> Primitive:
    if name in ("float", "double"):
        raise SchemaError(f"{where}: primitiveType {name!r} refused: the venue carries no floating point")
    if name not in PRIMITIVES:
        raise SchemaError(f"{where}: unknown primitiveType {name!r}")
    return PRIMITIVES[name]


def _check_in_prim(value: int, prim: Primitive, where: str) -> None:
    if not prim.lo <= value <= prim.hi:
        raise SchemaError(f"{where}: {value} is outside the range of {prim.name} ({prim.lo}..{prim.hi})")


def _parse_simple(el: ET.Element) -> SimpleType:
    a = _attrs(el, f"type {el.get('name')!r}", ("name", "primitiveType"),
               ("presence", "nullValue", "minValue", "maxValue", "description", "length", "semanticType",
                "characterEncoding"))
    where = f"type {a['name']!r}"
    prim = _primitive(a["primitiveType"], where)
    if a.get("length", "1") != "1":
        raise SchemaError(f"{where}: arrays (length != 1) are not supported outside varData")
    presence = a.get("presence", "required")
    if presence == "constant":
        raise SchemaError(f"{where}: constant types are only supported in framingHeader")
    if presence not in ("required", "optional"):
        raise SchemaError(f"{where}: presence {presence!r} must be required or optional")
    null = None
    if presence == "optional":
        if "nullValue" not in a:
            raise SchemaError(f"{where}: an optional type needs an explicit nullValue")
        null = _int(a["nullValue"], f"{where} nullValue")
        _check_in_prim(null, prim, f"{where} nullValue")
    elif "nullValue" in a:
        raise SchemaError(f"{where}: nullValue given on a required type")
    # Without an explicit bound, an optional type's range stops short of a null at the end of the
    # primitive's range (SBE's default nulls are the int minimum and the uint maximum).
    lo_default = prim.lo + 1 if null == prim.lo else prim.lo
    hi_default = prim.hi - 1 if null == prim.hi else prim.hi
    lo = _int(a["minValue"], f"{where} minValue") if "minValue" in a else lo_default
    hi = _int(a["maxValue"], f"{where} maxValue") if "maxValue" in a else hi_default
    _check_in_prim(lo, prim, f"{where} minValue")
    _check_in_prim(hi, prim, f"{where} maxValue")
    if lo > hi:
        raise SchemaError(f"{where}: minValue {lo} is greater than maxValue {hi}")
    if null is not None and lo <= null <= hi:
        raise SchemaError(f"{where}: nullValue {null} lies inside minValue..maxValue ({lo}..{hi})")
    return SimpleType(a["name"], prim, presence == "optional", null, lo, hi, a.get("description", ""))


def _parse_enum(el: ET.Element) -> EnumType:
    a = _attrs(el, f"enum {el.get('name')!r}", ("name", "encodingType"), ("description", "semanticType"))
    where = f"enum {a['name']!r}"
    prim = _primitive(a["encodingType"], where)
    if prim.size != 1 and prim.name not in ("uint16",):
        raise SchemaError(f"{where}: encodingType must be char, uint8, int8 or uint16")
    is_char = prim.name == "char"
    values: list[tuple[str, int, str]] = []
    seen_names: set[str] = set()
    seen_values: set[int] = set()
    for vv in el:
        if _local(vv.tag) != "validValue":
            raise SchemaError(f"{where}: unexpected element <{_local(vv.tag)}>")
        va = _attrs(vv, f"{where} validValue", ("name",), ("description", "sinceVersion"))
        vwhere = f"{where} validValue {va['name']!r}"
        text = (vv.text or "").strip()
        if is_char:
            if len(text) != 1 or not 0x20 < ord(text) < 0x7F:
                raise SchemaError(f"{vwhere}: a char enum value must be one printable ASCII character, got {text!r}")
            value = ord(text)
        else:
            value = _int(text, vwhere)
        _check_in_prim(value, prim, vwhere)
        if va["name"] in seen_names:
            raise SchemaError(f"{vwhere}: duplicate name")
        if value in seen_values:
            raise SchemaError(f"{vwhere}: duplicate value {text}")
        seen_names.add(va["name"])
        seen_values.add(value)
        values.append((va["name"], value, va.get("description", "")))
    if not values:
        raise SchemaError(f"{where}: no validValue")
    return EnumType(a["name"], prim, values, is_char, a.get("description", ""))


def _parse_set(el: ET.Element) -> SetType:
    a = _attrs(el, f"set {el.get('name')!r}", ("name", "encodingType"), ("description", "semanticType"))
    where = f"set {a['name']!r}"
    prim = _primitive(a["encodingType"], where)
    if prim.signed or prim.name == "char":
        raise SchemaError(f"{where}: encodingType must be an unsigned integer")
    choices: list[tuple[str, int, str]] = []
    for ch in el:
        if _local(ch.tag) != "choice":
            raise SchemaError(f"{where}: unexpected element <{_local(ch.tag)}>")
        ca = _attrs(ch, f"{where} choice", ("name",), ("description", "sinceVersion"))
        cwhere = f"{where} choice {ca['name']!r}"
        bit = _int(ch.text, cwhere)
        if not 0 <= bit < 8 * prim.size:
            raise SchemaError(f"{cwhere}: bit {bit} does not fit {prim.name}")
        if any(c[0] == ca["name"] for c in choices):
            raise SchemaError(f"{cwhere}: duplicate name")
        if any(c[1] == bit for c in choices):
            raise SchemaError(f"{cwhere}: duplicate bit {bit}")
        choices.append((ca["name"], bit, ca.get("description", "")))
    if not choices:
        raise SchemaError(f"{where}: no choice")
    return SetType(a["name"], prim, choices, a.get("description", ""))


def _composite_members(el: ET.Element, where: str) -> dict[str, ET.Element]:
    members: dict[str, ET.Element] = {}
    for m in el:
        if _local(m.tag) != "type":
            raise SchemaError(f"{where}: only <type> members are supported, found <{_local(m.tag)}>")
        name = m.get("name")
        if not name:
            raise SchemaError(f"{where}: member without a name")
        if name in members:
            raise SchemaError(f"{where}: duplicate member {name!r}")
        members[name] = m
    return members


def _parse_framing(el: ET.Element) -> tuple[int, int]:
    where = "composite 'framingHeader'"
    members = _composite_members(el, where)
    if list(members) != ["messageLength", "encodingType"]:
        raise SchemaError(f"{where}: members must be messageLength then encodingType (SOFH), got {list(members)}")
    length = members["messageLength"]
    if length.get("primitiveType") != "uint32":
        raise SchemaError(f"{where}: messageLength must be uint32")
    lo = _int(length.get("minValue"), f"{where} messageLength minValue")
    hi = _int(length.get("maxValue"), f"{where} messageLength maxValue")
    if lo != SOFH_LENGTH + HEADER_LENGTH:
        raise SchemaError(f"{where}: messageLength minValue must be {SOFH_LENGTH + HEADER_LENGTH} (SOFH + SBE header)")
    if not lo <= hi <= 0xFFFF_FFFF:
        raise SchemaError(f"{where}: messageLength maxValue {hi} must lie in {lo}..4294967295")
    enc = members["encodingType"]
    if enc.get("primitiveType") != "uint16" or enc.get("presence") != "constant":
        raise SchemaError(f"{where}: encodingType must be a constant uint16")
    value = _int(enc.text, f"{where} encodingType")
    if value == SOFH_SBE10_BE:
        raise SchemaError(f"{where}: encodingType 0x5BE0 is SBE big-endian, but byteOrder is littleEndian")
    if value != SOFH_SBE10_LE:
        raise SchemaError(f"{where}: encodingType {value:#x} must be 0xEB50 (SBE 1.0 little-endian)")
    return lo, hi


def _parse_message_header(el: ET.Element) -> None:
    where = "composite 'messageHeader'"
    members = _composite_members(el, where)
    expected = ["blockLength", "templateId", "schemaId", "version"]
    if list(members) != expected:
        raise SchemaError(f"{where}: members must be {expected}, got {list(members)}")
    for name, m in members.items():
        if m.get("primitiveType") != "uint16":
            raise SchemaError(f"{where}: {name} must be uint16 (this generator's fixed 8-byte header)")


def _parse_var_data(el: ET.Element) -> VarDataType:
    name = el.get("name", "")
    where = f"composite {name!r}"
    members = _composite_members(el, where)
    if list(members) != ["length", "varData"]:
        raise SchemaError(f"{where}: a varData composite has members length then varData, got {list(members)}")
    length = members["length"]
    prim = _primitive(length.get("primitiveType", ""), f"{where} length")
    if prim.name not in ("uint8", "uint16"):
        raise SchemaError(f"{where}: length must be uint8 or uint16")
    if "maxValue" not in length.attrib:
        raise SchemaError(f"{where}: length needs a maxValue (decoders must bound what they copy)")
    max_length = _int(length.get("maxValue"), f"{where} length maxValue")
    _check_in_prim(max_length, prim, f"{where} length maxValue")
    data = members["varData"]
    if data.get("primitiveType") not in ("uint8", "char") or data.get("length") != "0":
        raise SchemaError(f"{where}: varData must be uint8 or char with length=\"0\"")
    return VarDataType(name, prim, max_length, el.get("description", ""))


def _parse_types(root: ET.Element) -> tuple[dict, tuple[int, int]]:
    types: dict[str, SimpleType | EnumType | SetType | VarDataType] = {}
    framing: tuple[int, int] | None = None
    header = False
    seen: set[str] = set()
    for block in root:
        if _local(block.tag) != "types":
            continue
        for el in block:
            kind = _local(el.tag)
            name = el.get("name")
            if not name:
                raise SchemaError(f"<{kind}> without a name")
            if name in seen or name in PRIMITIVES:
                raise SchemaError(f"type {name!r}: duplicate type name")
            seen.add(name)
            if kind == "type":
                types[name] = _parse_simple(el)
            elif kind == "enum":
                types[name] = _parse_enum(el)
            elif kind == "set":
                types[name] = _parse_set(el)
            elif kind == "composite":
                if name == "framingHeader":
                    framing = _parse_framing(el)
                elif name == "messageHeader":
                    _parse_message_header(el)
                    header = True
                elif name == "groupSizeEncoding":
                    raise SchemaError("composite 'groupSizeEncoding': repeating groups are not supported "
                                      "by this generator (no message of the venue needs one)")
                else:
                    types[name] = _parse_var_data(el)
            else:
                raise SchemaError(f"unknown type element <{kind}> named {name!r}")
    if framing is None:
        raise SchemaError("composite 'framingHeader' (SOFH) is missing")
    if not header:
        raise SchemaError("composite 'messageHeader' is missing")
    return types, framing


def _parse_message(el: ET.Element, types: dict, version: int) -> Message:
    a = _attrs(el, f"message {el.get('name')!r}", ("name", "id"),
               ("blockLength", "description", "semanticType", "sinceVersion"))
    where = f"message {a['name']!r}"
    mid = _int(a["id"], f"{where} id")
    if not 1 <= mid <= 0xFFFF:
        raise SchemaError(f"{where}: id {mid} must be 1..65535 (a uint16 templateId, 0 reserved)")
    if _int(a.get("sinceVersion", "0"), f"{where} sinceVersion") > version:
        raise SchemaError(f"{where}: sinceVersion is newer than the schema version {version}")
    fields: list[Field] = []
    data: list[DataField] = []
    offset = 0
    ids: set[int] = set()
    names: set[str] = set()
    for f in el:
        kind = _local(f.tag)
        if kind == "group":
            raise SchemaError(f"{where} group {f.get('name')!r}: repeating groups are not supported by this "
                              "generator (no message of the venue needs one)")
        fa = _attrs(f, f"{where} <{kind}> {f.get('name')!r}", ("name", "id", "type"),
                    ("description", "offset", "sinceVersion", "semanticType"))
        fwhere = f"{where} field {fa['name']!r}"
        fid = _int(fa["id"], f"{fwhere} id")
        if fa["name"] in names:
            raise SchemaError(f"{fwhere}: duplicate field name")
        if fid in ids:
            raise SchemaError(f"{fwhere}: duplicate field id {fid}")
        names.add(fa["name"])
        ids.add(fid)
        if _int(fa.get("sinceVersion", "0"), f"{fwhere} sinceVersion") > version:
            raise SchemaError(f"{fwhere}: sinceVersion is newer than the schema version {version}")
        tname = fa["type"]
        if kind == "field":
            if data:
                raise SchemaError(f"{fwhere}: fields must come before every <data> field")
            if tname in PRIMITIVES:
                prim = PRIMITIVES[tname]
                ftype: SimpleType | EnumType | SetType = SimpleType(tname, prim, False, None, prim.lo, prim.hi, "")
            elif tname in types and not isinstance(types[tname], VarDataType):
                ftype = types[tname]
            elif tname in types:
                raise SchemaError(f"{fwhere}: varData type {tname!r} can only be used by a <data> element")
            else:
                raise SchemaError(f"{fwhere}: unknown type {tname!r}")
            size = ftype.prim.size
            if "offset" in fa:
                explicit = _int(fa["offset"], f"{fwhere} offset")
                if explicit < offset:
                    raise SchemaError(f"{fwhere}: offset {explicit} overlaps the previous field (ends at {offset})")
                offset = explicit
            fields.append(Field(fa["name"], fid, ftype, offset, fa.get("description", "")))
            offset += size
        elif kind == "data":
            dtype = types.get(tname)
            if not isinstance(dtype, VarDataType):
                raise SchemaError(f"{fwhere}: <data> needs a varData composite type, {tname!r} is not one")
            data.append(DataField(fa["name"], fid, dtype, fa.get("description", "")))
        else:
            raise SchemaError(f"{where}: unknown element <{kind}>")
    if not fields:
        raise SchemaError(f"{where}: a message needs at least one field")
    block = offset
    if "blockLength" in a:
        declared = _int(a["blockLength"], f"{where} blockLength")
        if declared < offset:
            raise SchemaError(f"{where}: blockLength {declared} is smaller than its fields ({offset} bytes)")
        if declared != offset:
            raise SchemaError(f"{where}: blockLength {declared} does not match its fields ({offset} bytes)")
        block = declared
    if block > 0xFFFF:
        raise SchemaError(f"{where}: block of {block} bytes does not fit the uint16 blockLength")
    return Message(a["name"], mid, block, fields, data, a.get("description", ""))


def parse_schema(path: Path) -> Schema:
    """Reads and validates a schema file; raises SchemaError naming the first problem found."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SchemaError(f"{path.name}: not well-formed XML: {exc}") from None
    if _local(root.tag) != "messageSchema":
        raise SchemaError(f"{path.name}: root element must be messageSchema")
    a = _attrs(root, "messageSchema", ("package", "id", "version", "semanticVersion", "byteOrder"),
               ("description",))
    if a["byteOrder"] != "littleEndian":
        raise SchemaError(f"messageSchema: byteOrder {a['byteOrder']!r} refused: this generator emits "
                          "littleEndian codecs only")
    sid = _int(a["id"], "messageSchema id")
    if not 1 <= sid <= 0xFFFF:
        raise SchemaError(f"messageSchema: id {sid} must be 1..65535 (uint16 schemaId)")
    version = _int(a["version"], "messageSchema version")
    if not 1 <= version <= 0xFFFF:
        raise SchemaError(f"messageSchema: version {version} must be 1..65535 (0 is refused on the wire)")
    types, (min_frame, max_frame) = _parse_types(root)
    messages: list[Message] = []
    for el in root:
        if _local(el.tag) == "message":
            messages.append(_parse_message(el, types, version))
        elif _local(el.tag) != "types":
            raise SchemaError(f"messageSchema: unexpected element <{_local(el.tag)}>")
    if not messages:
        raise SchemaError("messageSchema: no message")
    seen_ids: dict[int, str] = {}
    seen_names: set[str] = set()
    for m in messages:
        if m.id in seen_ids:
            raise SchemaError(f"message {m.name!r}: duplicate id {m.id} (also {seen_ids[m.id]!r})")
        if m.name in seen_names:
            raise SchemaError(f"message {m.name!r}: duplicate message name")
        seen_ids[m.id] = m.name
        seen_names.add(m.name)
        if m.max_frame_length > max_frame:
            raise SchemaError(f"message {m.name!r}: its largest frame ({m.max_frame_length} bytes) exceeds "
                              f"framingHeader messageLength maxValue {max_frame}")
    return Schema(a["package"], sid, version, a["semanticVersion"], a.get("description", ""),
                  min_frame, max_frame, types, messages)


def codec_error_lines(header: Path) -> dict[str, str]:
    """name -> description of the codec's error codes, read from the eng_reason enum."""
    text = header.read_text()
    body = re.search(r"typedef enum eng_reason \{(.*?)\} eng_reason_t;", text, re.S)
    if not body:
        raise SchemaError(f"{header.name}: eng_reason enum not found")
    found: dict[str, str] = {}
    for m in re.finditer(r"^\s*(ENG_\w+)\s*=\s*(\d+)\s*,?\s*(?:/\*\s*(.*?)\s*\*/)?\s*$", body.group(1), re.M):
        found[m.group(1)] = m.group(3) or m.group(1)
    missing = [n for n in CODEC_ERRORS if n not in found]
    if missing:
        raise SchemaError(f"{header.name}: eng_reason lacks the codec error codes {missing}")
    return {n: found[n] for n in CODEC_ERRORS}


# ---------------------------------------------------------------------------------------------
# Naming helpers


def snake(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def upper(name: str) -> str:
    return snake(name).upper()


def c_lit(value: int, prim: Primitive) -> str:
    if prim.size == 8:
        if value == -(1 << 63):
            return "INT64_MIN"
        return f"INT64_C({value})" if prim.signed else f"UINT64_C({value})"
    if prim.signed:
        return f"({value})" if value < 0 else str(value)
    return f"{value}u"


BANNER = ("GENERATED by scripts/generate_sbe.py from gateway/orderentry/sbe/venue_order_entry.xml -- do not edit; "
          "change the schema and rerun the script.")


def _comment(text: str) -> str:
    # A description may itself contain "*/" (e.g. "ENG_CXL_*/ENG_EXP_*"); keep the C comment closed.
    return f" /* {text.replace('*/', '* /')} */" if text else ""


# ---------------------------------------------------------------------------------------------
# C emitter


def _c_field_decls(m: Message) -> list[str]:
    out = []
    for f in m.fields:
        t = f.type
        note = t.name if not isinstance(t, SimpleType) else (f"optional, null {t.null}" if t.optional else "")
        desc = "; ".join(x for x in (note, f.description) if x)
        out.append(f"    {t.prim.c_type} {snake(f.name)};{_comment(desc)}")
    for d in m.data:
        out.append(f"    {d.type.length_prim.c_type} {snake(d.name)}_length;")
        out.append(f"    uint8_t {snake(d.name)}[{d.type.max_length}];{_comment(d.description)}")
    return out


def _c_check(expr: str, t: SimpleType | EnumType | SetType) -> list[str]:
    """Lines that return the error code when `expr` is invalid for type t (shared by decode/encode)."""
    if isinstance(t, EnumType):
        return [f"    if (!sbe_{snake(t.name)}_valid({expr})) return ENG_GW_BAD_ENUM;"]
    if isinstance(t, SetType):
        return [f"    if (({expr} & ~{c_lit(t.mask, t.prim)}) != 0) return ENG_GW_BAD_SET;"]
    if not t.range_checked():
        return []
    conds = []
    if t.lo > t.prim.lo:
        conds.append(f"{expr} < {c_lit(t.lo, t.prim)}")
    if t.hi < t.prim.hi:
        conds.append(f"{expr} > {c_lit(t.hi, t.prim)}")
    cond = " || ".join(conds)
    if t.optional:
        cond = f"{expr} != {c_lit(t.null, t.prim)} && ({cond})"
    return [f"    if ({cond}) return ENG_GW_VALUE_RANGE;"]


def emit_c_header(s: Schema) -> str:
    L: list[str] = []
    L.append(f"/* {BANNER} */")
    L.append("/*")
    L.append(" * sbe_codec.h - encode and decode the venue's order-entry frames (SOFH + SBE 1.0 little-endian).")
    L.append(" *")
    L.append(" * Owns the wire format only: no sockets, no session state, no engine commands. Decoding copies a")
    L.append(" * frame into a host-order struct after validating all of it: it never reads outside [buf, buf+len)")
    L.append(" * and reports the first problem, in the order the frame is read, as one ENG_GW_* code of")
    L.append(" * native/layout/venue_layout.h Section 1. Encoding validates the struct the same way, then writes into the")
    L.append(" * caller's buffer only if the whole frame fits. Optional fields hold their SBE_*_NULL when absent.")
    L.append(" */")
    L.append("#ifndef SBE_CODEC_H")
    L.append("#define SBE_CODEC_H")
    L.append("")
    L.append("#include <stddef.h>")
    L.append("#include <stdint.h>")
    L.append("")
    L.append('#include "venue_layout.h"')
    L.append("")
    L.append("/* CFFI-BEGIN */")
    L.append("")
    L.append(f"#define SBE_SCHEMA_ID {s.id}")
    L.append(f"#define SBE_SCHEMA_VERSION {s.version}")
    L.append(f"#define SBE_SOFH_LENGTH {SOFH_LENGTH}")
    L.append(f"#define SBE_HEADER_LENGTH {HEADER_LENGTH}")
    L.append(f"#define SBE_SOFH_ENCODING_TYPE {SOFH_SBE10_LE} /* 0xEB50: SBE 1.0 little-endian */")
    L.append(f"#define SBE_MIN_FRAME_LENGTH {s.min_frame}")
    L.append(f"#define SBE_MAX_FRAME_LENGTH {s.max_frame} /* the decoder refuses longer frames: size receive buffers by it */")
    L.append("")
    L.append("/* sbe_frame_peek's \"try again\": the buffer holds only part of a frame. Never an eng_reason. */")
    L.append("enum { SBE_NEED_MORE = -1 };")
    L.append("")
    for m in s.messages:
        L.append(f"#define SBE_{upper(m.name)}_TEMPLATE_ID {m.id}")
        L.append(f"#define SBE_{upper(m.name)}_BLOCK_LENGTH {m.block_length}")
    L.append("")
    for t in s.types.values():
        if isinstance(t, EnumType):
            L.append(f"/* enum {t.name}{': ' + t.description if t.description else ''} */")
            for vname, value, desc in t.values:
                shown = f"'{chr(value)}'; " if t.is_char else ""
                note = (shown + desc).strip("; ")
                L.append(f"#define SBE_{upper(t.name)}_{upper(vname)} {value}{_comment(note)}")
        elif isinstance(t, SetType):
            L.append(f"/* set {t.name}{': ' + t.description if t.description else ''} */")
            for cname, bit, desc in t.choices:
                L.append(f"#define SBE_{upper(t.name)}_{upper(cname)} {1 << bit}{_comment(desc)}")
    L.append("")
    for m in s.messages:
        L.append(f"/* {m.name} (template {m.id}){': ' + m.description if m.description else ''} */")
        L.append(f"typedef struct sbe_{snake(m.name)} {{")
        L.extend(_c_field_decls(m))
        L.append(f"}} sbe_{snake(m.name)}_t;")
        L.append("")
    L.append("typedef union sbe_body {")
    for m in s.messages:
        L.append(f"    sbe_{snake(m.name)}_t {snake(m.name)};")
    L.append("} sbe_body_t;")
    L.append("")
    L.append("/* One decoded frame. The header fields are filled as soon as they have been read, so after a")
    L.append(" * failed decode a non-zero template_id tells the session layer which message was refused. */")
    L.append("typedef struct sbe_msg {")
    L.append("    uint32_t frame_length;  /* whole frame, SOFH included; 0 until the SOFH was valid */")
    L.append("    uint16_t template_id;   /* selects the member of body; 0 until the SBE header was read */")
    L.append("    uint16_t block_length;  /* as sent: >= the template's, extra bytes skipped */")
    L.append("    uint16_t version;")
    L.append("    uint16_t _pad0[3];")
    L.append("    sbe_body_t body;")
    L.append("} sbe_msg_t;")
    L.append("")
    L.append("/* Looks at the start of a byte stream. Returns 0 with *frame_length set when a whole frame is in")
    L.append(" * buf; SBE_NEED_MORE when fewer than SBE_SOFH_LENGTH bytes, or fewer than the frame's length, are")
    L.append(" * there (*frame_length is then set once the SOFH could be read, so the caller knows how much to")
    L.append(" * wait for); ENG_GW_ENCODING_TYPE or ENG_GW_FRAME_LENGTH when the SOFH is invalid: the stream can")
    L.append(" * no longer be framed and the connection must be terminated. */")
    L.append("int sbe_frame_peek(const uint8_t *buf, size_t len, uint32_t *frame_length);")
    L.append("")
    L.append("/* Decodes the frame at the start of buf (bytes after it are ignored) into *out. Returns 0 (ENG_OK)")
    L.append(" * or the first ENG_GW_* code that applies: ENG_GW_FRAME_TRUNCATED when len is shorter than the")
    L.append(" * SOFH or the frame; then the SOFH, schema id, version, template, blockLength, each field in")
    L.append(" * schema order, the variable-length fields and trailing bytes. Reads only buf[0..len). */")
    L.append("int sbe_decode(const uint8_t *buf, size_t len, sbe_msg_t *out);")
    L.append("")
    L.append("/* Encodes msg (dispatching on msg->template_id) into buf. Returns the frame length (> 0); -EINVAL")
    L.append(" * for an unknown template or a field the decoder would refuse (enum, set bits, range, variable")
    L.append(" * length); -ENOSPC when cap is smaller than the frame (buf untouched). */")
    L.append("int sbe_encode(uint8_t *buf, size_t cap, const sbe_msg_t *msg);")
    L.append("")
    L.append("/* Per-message encoders with sbe_encode's contract, for callers that know the message type. */")
    for m in s.messages:
        L.append(f"int sbe_encode_{snake(m.name)}(uint8_t *buf, size_t cap, const sbe_{snake(m.name)}_t *m);")
    L.append("")
    L.append("/* The text of a codec error code (\"ENG_GW_UNKNOWN_TEMPLATE: ...\"), \"ENG_OK\" for 0, or")
    L.append(" * \"not an SBE codec error\" for any other value. Never NULL; the strings are static. */")
    L.append("const char *sbe_error_text(int code);")
    L.append("")
    L.append("/* The schema name of a template (\"NewOrderSingle\"), or NULL for an unknown id. */")
    L.append("const char *sbe_template_name(uint16_t template_id);")
    L.append("")
    L.append("/* CFFI-END */")
    L.append("")
    L.append("/* Null values of the optional types (C only: cffi cannot parse these literals). */")
    for t in s.types.values():
        if isinstance(t, SimpleType) and t.optional:
            L.append(f"#define SBE_{upper(t.name)}_NULL {c_lit(t.null, t.prim)}")
    L.append("")
    L.append("#endif /* SBE_CODEC_H */")
    return "\n".join(L) + "\n"


C_PRELUDE = r"""
#include <errno.h>
#include <string.h>

/* Little-endian loads and stores through memcpy: no alignment assumption, no aliasing UB, and a
 * byte swap only on big-endian hosts. The SOFH is big-endian by its standard (FIX SOFH 1.0). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SBE_LE16(v) __builtin_bswap16(v)
#define SBE_LE32(v) __builtin_bswap32(v)
#define SBE_LE64(v) __builtin_bswap64(v)
#else
#define SBE_LE16(v) (v)
#define SBE_LE32(v) (v)
#define SBE_LE64(v) (v)
#endif

static inline uint8_t sbe_ld_u8(const uint8_t *p) { return p[0]; }
static inline int8_t sbe_ld_i8(const uint8_t *p) { int8_t v; memcpy(&v, p, 1); return v; }
static inline uint16_t sbe_ld_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return SBE_LE16(v); }
static inline int16_t sbe_ld_i16(const uint8_t *p) { uint16_t u = sbe_ld_u16(p); int16_t v; memcpy(&v, &u, 2); return v; }
static inline uint32_t sbe_ld_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return SBE_LE32(v); }
static inline int32_t sbe_ld_i32(const uint8_t *p) { uint32_t u = sbe_ld_u32(p); int32_t v; memcpy(&v, &u, 4); return v; }
static inline uint64_t sbe_ld_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return SBE_LE64(v); }
static inline int64_t sbe_ld_i64(const uint8_t *p) { uint64_t u = sbe_ld_u64(p); int64_t v; memcpy(&v, &u, 8); return v; }

static inline void sbe_st_u8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void sbe_st_i8(uint8_t *p, int8_t v) { memcpy(p, &v, 1); }
static inline void sbe_st_u16(uint8_t *p, uint16_t v) { v = SBE_LE16(v); memcpy(p, &v, 2); }
static inline void sbe_st_i16(uint8_t *p, int16_t v) { uint16_t u; memcpy(&u, &v, 2); sbe_st_u16(p, u); }
static inline void sbe_st_u32(uint8_t *p, uint32_t v) { v = SBE_LE32(v); memcpy(p, &v, 4); }
static inline void sbe_st_i32(uint8_t *p, int32_t v) { uint32_t u; memcpy(&u, &v, 4); sbe_st_u32(p, u); }
static inline void sbe_st_u64(uint8_t *p, uint64_t v) { v = SBE_LE64(v); memcpy(p, &v, 8); }
static inline void sbe_st_i64(uint8_t *p, int64_t v) { uint64_t u; memcpy(&u, &v, 8); sbe_st_u64(p, u); }

static inline uint32_t sbe_ld_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint16_t sbe_ld_be16(const uint8_t *p) { return (uint16_t)(((unsigned)p[0] << 8) | p[1]); }

/* Writes SOFH and SBE header; the caller has checked that `frame_length` bytes fit. */
static void sbe_put_headers(uint8_t *buf, uint32_t frame_length, uint16_t block_length, uint16_t template_id)
{
    buf[0] = (uint8_t)(frame_length >> 24);
    buf[1] = (uint8_t)(frame_length >> 16);
    buf[2] = (uint8_t)(frame_length >> 8);
    buf[3] = (uint8_t)frame_length;
    buf[4] = (uint8_t)(SBE_SOFH_ENCODING_TYPE >> 8);
    buf[5] = (uint8_t)(SBE_SOFH_ENCODING_TYPE & 0xFF);
    sbe_st_u16(buf + 6, block_length);
    sbe_st_u16(buf + 8, template_id);
    sbe_st_u16(buf + 10, SBE_SCHEMA_ID);
    sbe_st_u16(buf + 12, SBE_SCHEMA_VERSION);
}
"""


def _c_decoder(m: Message) -> list[str]:
    n = snake(m.name)
    L = [f"static int sbe_decode_{n}(const uint8_t *frame, uint32_t frame_length, uint32_t block_length,",
         f"                           sbe_{n}_t *m)", "{"]
    L.append("    const uint8_t *b = frame + SBE_SOFH_LENGTH + SBE_HEADER_LENGTH;")
    if m.data:
        L.append("    uint32_t pos = SBE_SOFH_LENGTH + SBE_HEADER_LENGTH + block_length;")
        L.append("    uint32_t n;")
    for f in m.fields:
        expr = f"m->{snake(f.name)}"
        L.append(f"    {expr} = {f.type.prim.ld}(b + {f.offset});")
        L.extend(_c_check(expr, f.type))
    if m.data:
        for d in m.data:
            size = d.type.length_prim.size
            dn = snake(d.name)
            L.append(f"    if (frame_length - pos < {size}) return ENG_GW_BODY_TRUNCATED;")
            L.append(f"    n = {d.type.length_prim.ld}(frame + pos);")
            L.append(f"    pos += {size};")
            L.append(f"    if (n > {d.type.max_length}u) return ENG_GW_VAR_DATA_LENGTH;")
            L.append("    if (frame_length - pos < n) return ENG_GW_BODY_TRUNCATED;")
            L.append(f"    m->{dn}_length = ({d.type.length_prim.c_type})n;")
            L.append(f"    memcpy(m->{dn}, frame + pos, n);")
            L.append("    pos += n;")
        L.append("    if (pos != frame_length) return ENG_GW_TRAILING_BYTES;")
    else:
        L.append("    if (frame_length != SBE_SOFH_LENGTH + SBE_HEADER_LENGTH + block_length) return ENG_GW_TRAILING_BYTES;")
    L.append("    return ENG_OK;")
    L.append("}")
    return L


def _c_encoder(m: Message) -> list[str]:
    n = snake(m.name)
    L = [f"int sbe_encode_{n}(uint8_t *buf, size_t cap, const sbe_{n}_t *m)", "{"]
    L.append(f"    uint32_t frame_length = SBE_SOFH_LENGTH + SBE_HEADER_LENGTH + SBE_{upper(m.name)}_BLOCK_LENGTH;")
    if m.data:
        L.append("    uint32_t pos;")
    L.append("    uint8_t *b;")
    for f in m.fields:
        for line in _c_check(f"m->{snake(f.name)}", f.type):
            L.append(re.sub(r"return ENG_GW_\w+;", "return -EINVAL;", line))
    for d in m.data:
        dn = snake(d.name)
        L.append(f"    if (m->{dn}_length > {d.type.max_length}u) return -EINVAL;")
        L.append(f"    frame_length += {d.type.length_prim.size}u + m->{dn}_length;")
    L.append("    if (cap < frame_length) return -ENOSPC;")
    L.append(f"    sbe_put_headers(buf, frame_length, SBE_{upper(m.name)}_BLOCK_LENGTH, SBE_{upper(m.name)}_TEMPLATE_ID);")
    L.append("    b = buf + SBE_SOFH_LENGTH + SBE_HEADER_LENGTH;")
    # Gaps left by explicit offsets are zeroed so that equal messages give equal bytes.
    covered = 0
    for f in m.fields:
        if f.offset > covered:
            L.append(f"    memset(b + {covered}, 0, {f.offset - covered});")
        L.append(f"    {f.type.prim.st}(b + {f.offset}, m->{snake(f.name)});")
        covered = f.offset + f.type.prim.size
    if m.data:
        L.append(f"    pos = SBE_SOFH_LENGTH + SBE_HEADER_LENGTH + SBE_{upper(m.name)}_BLOCK_LENGTH;")
        for d in m.data:
            dn = snake(d.name)
            L.append(f"    {d.type.length_prim.st}(buf + pos, m->{dn}_length);")
            L.append(f"    pos += {d.type.length_prim.size};")
            L.append(f"    memcpy(buf + pos, m->{dn}, m->{dn}_length);")
            L.append(f"    pos += m->{dn}_length;")
    L.append("    return (int)frame_length;")
    L.append("}")
    return L


def emit_c_source(s: Schema, errors: dict[str, str]) -> str:
    L: list[str] = [f"/* {BANNER} */",
                    "/* sbe_codec.c - the order-entry codec declared in sbe_codec.h. Every read is bounds-checked",
                    " * against the frame length, which is itself checked against the caller's length first. */",
                    '#include "sbe_codec.h"']
    L.extend(C_PRELUDE.rstrip("\n").split("\n"))
    L.append("")
    for t in s.types.values():
        if isinstance(t, EnumType):
            L.append(f"static inline int sbe_{snake(t.name)}_valid({t.prim.c_type} v)")
            L.append("{")
            L.append("    switch (v) {")
            for _, value, _ in t.values:
                L.append(f"    case {value}:")
            L.append("        return 1;")
            L.append("    default:")
            L.append("        return 0;")
            L.append("    }")
            L.append("}")
            L.append("")
    for m in s.messages:
        L.extend(_c_decoder(m))
        L.append("")
    L.append("int sbe_frame_peek(const uint8_t *buf, size_t len, uint32_t *frame_length)")
    L.append("{")
    L.append("    uint32_t n;")
    L.append("    if (len < SBE_SOFH_LENGTH) return SBE_NEED_MORE;")
    L.append("    if (sbe_ld_be16(buf + 4) != SBE_SOFH_ENCODING_TYPE) return ENG_GW_ENCODING_TYPE;")
    L.append("    n = sbe_ld_be32(buf);")
    L.append("    if (n < SBE_MIN_FRAME_LENGTH || n > SBE_MAX_FRAME_LENGTH) return ENG_GW_FRAME_LENGTH;")
    L.append("    *frame_length = n;")
    L.append("    return len < n ? SBE_NEED_MORE : ENG_OK;")
    L.append("}")
    L.append("")
    L.append("int sbe_decode(const uint8_t *buf, size_t len, sbe_msg_t *out)")
    L.append("{")
    L.append("    uint32_t n = 0;")
    L.append("    uint32_t block_length;")
    L.append("    uint16_t version;")
    L.append("    int rc;")
    L.append("    out->frame_length = 0;")
    L.append("    out->template_id = 0;")
    L.append("    out->block_length = 0;")
    L.append("    out->version = 0;")
    L.append("    rc = sbe_frame_peek(buf, len, &n);")
    L.append("    if (rc == SBE_NEED_MORE) return ENG_GW_FRAME_TRUNCATED;")
    L.append("    if (rc != ENG_OK) return rc;")
    L.append("    out->frame_length = n;")
    L.append("    if (sbe_ld_u16(buf + 10) != SBE_SCHEMA_ID) return ENG_GW_SCHEMA_ID;")
    L.append("    version = sbe_ld_u16(buf + 12);")
    L.append("    if (version == 0 || version > SBE_SCHEMA_VERSION) return ENG_GW_SCHEMA_VERSION;")
    L.append("    out->version = version;")
    L.append("    out->template_id = sbe_ld_u16(buf + 8);")
    L.append("    block_length = sbe_ld_u16(buf + 6);")
    L.append("    out->block_length = (uint16_t)block_length;")
    L.append("    switch (out->template_id) {")
    for m in s.messages:
        L.append(f"    case SBE_{upper(m.name)}_TEMPLATE_ID:")
        L.append(f"        if (block_length < SBE_{upper(m.name)}_BLOCK_LENGTH) return ENG_GW_BLOCK_LENGTH;")
        L.append("        if (n - (SBE_SOFH_LENGTH + SBE_HEADER_LENGTH) < block_length) return ENG_GW_BODY_TRUNCATED;")
        L.append(f"        return sbe_decode_{snake(m.name)}(buf, n, block_length, &out->body.{snake(m.name)});")
    L.append("    default:")
    L.append("        return ENG_GW_UNKNOWN_TEMPLATE;")
    L.append("    }")
    L.append("}")
    L.append("")
    for m in s.messages:
        L.extend(_c_encoder(m))
        L.append("")
    L.append("int sbe_encode(uint8_t *buf, size_t cap, const sbe_msg_t *msg)")
    L.append("{")
    L.append("    switch (msg->template_id) {")
    for m in s.messages:
        L.append(f"    case SBE_{upper(m.name)}_TEMPLATE_ID:")
        L.append(f"        return sbe_encode_{snake(m.name)}(buf, cap, &msg->body.{snake(m.name)});")
    L.append("    default:")
    L.append("        return -EINVAL;")
    L.append("    }")
    L.append("}")
    L.append("")
    L.append("const char *sbe_error_text(int code)")
    L.append("{")
    L.append("    switch (code) {")
    L.append("    case ENG_OK:")
    L.append('        return "ENG_OK";')
    for name, desc in errors.items():
        text = f"{name}: {desc}".replace("\\", "\\\\").replace('"', '\\"')
        L.append(f"    case {name}:")
        L.append(f'        return "{text}";')
    L.append("    default:")
    L.append('        return "not an SBE codec error";')
    L.append("    }")
    L.append("}")
    L.append("")
    L.append("const char *sbe_template_name(uint16_t template_id)")
    L.append("{")
    L.append("    switch (template_id) {")
    for m in s.messages:
        L.append(f"    case SBE_{upper(m.name)}_TEMPLATE_ID:")
        L.append(f'        return "{m.name}";')
    L.append("    default:")
    L.append("        return NULL;")
    L.append("    }")
    L.append("}")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------------------------
# Python emitter


def _py_type(f: Field) -> str:
    t = f.type
    if isinstance(t, (EnumType, SetType)):
        return t.name
    return "int | None" if t.optional else "int"


def _py_check(var: str, f: Field, mname: str, exc: str) -> list[str]:
    """Python lines validating raw int `var`; raise `exc(reason, ...)` like the C checks."""
    t = f.type
    label = f"{mname}.{f.name}"
    if isinstance(t, EnumType):
        return [f"    {var}_e = _{upper(t.name)}_BY_VALUE.get({var})",
                f"    if {var}_e is None:",
                f"        raise {exc}(Reason.ENG_GW_BAD_ENUM, {{tid}}, f\"{label}: {{{var}}} is not a valid {t.name}\")"]
    if isinstance(t, SetType):
        return [f"    if {var} & {~t.mask & t.prim.hi}:",
                f"        raise {exc}(Reason.ENG_GW_BAD_SET, {{tid}}, f\"{label}: bits {{{var}:#x}} outside {t.name}\")"]
    if not t.range_checked():
        return []
    conds = []
    if t.lo > t.prim.lo:
        conds.append(f"{var} < {t.lo}")
    if t.hi < t.prim.hi:
        conds.append(f"{var} > {t.hi}")
    cond = " or ".join(conds)
    if t.optional:
        cond = f"{var} != {t.null} and ({cond})"
    return [f"    if {cond}:",
            f"        raise {exc}(Reason.ENG_GW_VALUE_RANGE, {{tid}}, f\"{label}: {{{var}}} outside {t.lo}..{t.hi}\")"]


PY_RUNTIME = '''

class SbeError(Exception):
    """Base of the codec's errors; `reason` is the ENG_GW_* code of native/layout/venue_layout.h."""

    def __init__(self, reason: Reason, template_id: int, detail: str) -> None:
        super().__init__(f"{reason.name} ({int(reason)}): {detail}")
        self.reason = reason
        self.template_id = template_id  # 0 until the SBE header was read, as in the C sbe_msg_t
        self.detail = detail


class SbeDecodeError(SbeError):
    """A frame the decoder refuses ("you are wrong"): answer with a reject or terminate the session."""


class SbeEncodeError(SbeError, ValueError):
    """A message the encoder refuses: a field the decoder on the other side would refuse."""


class SbeBufferTooSmall(SbeError):
    """encode_into: the buffer has no room for the frame ("try again" with more room); nothing written."""


_SOFH = struct.Struct(">IH")
_HEADER = struct.Struct("<HHHH")
_VAR_U8 = struct.Struct("<B")
_VAR_U16 = struct.Struct("<H")
'''


def _py_decoder(m: Message) -> list[str]:
    n = snake(m.name)
    names = [snake(f.name) for f in m.fields]
    L = [f"def _decode_{n}(buf: Buffer, frame_length: int, block_length: int) -> {m.name}:",
         f"    tid = {m.id}"]
    L.append(f"    ({', '.join(names)},) = _{upper(m.name)}_BLOCK.unpack_from(buf, {SOFH_LENGTH + HEADER_LENGTH})")
    for f in m.fields:
        L.extend(line.replace("{tid}", "tid") for line in _py_check(snake(f.name), f, m.name, "SbeDecodeError"))
    args = []
    for f in m.fields:
        v = snake(f.name)
        t = f.type
        if isinstance(t, EnumType):
            args.append(f"{v}_e")
        elif isinstance(t, SetType):
            args.append(f"_{upper(t.name)}_BY_VALUE[{v}]")
        elif t.optional:
            args.append(f"None if {v} == {t.null} else {v}")
        else:
            args.append(v)
    if m.data:
        L.append(f"    pos = {SOFH_LENGTH + HEADER_LENGTH} + block_length")
        for d in m.data:
            dn = snake(d.name)
            size = d.type.length_prim.size
            unpack = "_VAR_U8" if size == 1 else "_VAR_U16"
            L.append(f"    if frame_length - pos < {size}:")
            L.append(f"        raise SbeDecodeError(Reason.ENG_GW_BODY_TRUNCATED, tid, \"{m.name}.{d.name}: length past the frame\")")
            L.append(f"    (n,) = {unpack}.unpack_from(buf, pos)")
            L.append(f"    pos += {size}")
            L.append(f"    if n > {d.type.max_length}:")
            L.append(f"        raise SbeDecodeError(Reason.ENG_GW_VAR_DATA_LENGTH, tid, f\"{m.name}.{d.name}: {{n}} > {d.type.max_length} bytes\")")
            L.append("    if frame_length - pos < n:")
            L.append(f"        raise SbeDecodeError(Reason.ENG_GW_BODY_TRUNCATED, tid, \"{m.name}.{d.name}: data past the frame\")")
            L.append(f"    {dn} = bytes(buf[pos:pos + n])")
            L.append("    pos += n")
            args.append(dn)
        L.append("    if pos != frame_length:")
    else:
        L.append(f"    if frame_length != {SOFH_LENGTH + HEADER_LENGTH} + block_length:")
    L.append(f"        raise SbeDecodeError(Reason.ENG_GW_TRAILING_BYTES, tid, \"{m.name}: bytes after the last field\")")
    L.append(f"    return {m.name}({', '.join(args)})")
    return L


def _py_encoder(m: Message) -> list[str]:
    n = snake(m.name)
    L = [f"def _encode_{n}(m: {m.name}, buf: WritableBuffer, offset: int) -> int:",
         f"    tid = {m.id}"]
    for f in m.fields:
        v = snake(f.name)
        t = f.type
        if isinstance(t, SimpleType) and t.optional:
            L.append(f"    {v} = {t.null} if m.{v} is None else _as_int(m.{v}, tid, \"{m.name}.{f.name}\")")
        else:
            L.append(f"    {v} = _as_int(m.{v}, tid, \"{m.name}.{f.name}\")")
        for line in _py_check(v, f, m.name, "SbeEncodeError"):
            L.append(line.replace("{tid}", "tid"))
    names = [snake(f.name) for f in m.fields]
    L.append("    try:")
    L.append(f"        block = _{upper(m.name)}_BLOCK.pack({', '.join(names)})")
    L.append("    except struct.error as exc:")
    L.append(f"        raise SbeEncodeError(Reason.ENG_GW_VALUE_RANGE, tid, f\"{m.name}: {{exc}}\") from None")
    total = [str(SOFH_LENGTH + HEADER_LENGTH + m.block_length)]
    for d in m.data:
        dn = snake(d.name)
        L.append(f"    {dn} = m.{dn}")
        L.append(f"    if not isinstance({dn}, (bytes, bytearray, memoryview)):")
        L.append(f"        raise SbeEncodeError(Reason.ENG_GW_VAR_DATA_LENGTH, tid, f\"{m.name}.{d.name}: {{type({dn}).__name__}} is not bytes\")")
        L.append(f"    if len({dn}) > {d.type.max_length}:")
        L.append(f"        raise SbeEncodeError(Reason.ENG_GW_VAR_DATA_LENGTH, tid, f\"{m.name}.{d.name}: {{len({dn})}} > {d.type.max_length} bytes\")")
        total.append(f"{d.type.length_prim.size} + len({dn})")
    L.append(f"    frame_length = {' + '.join(total)}")
    L.append("    if len(buf) - offset < frame_length:")
    L.append(f"        raise SbeBufferTooSmall(Reason.ENG_GW_FRAME_TRUNCATED, tid, f\"{m.name}: needs {{frame_length}} bytes at offset {{offset}}, buffer has {{len(buf)}}\")")
    L.append(f"    _SOFH.pack_into(buf, offset, frame_length, SOFH_ENCODING_TYPE)")
    L.append(f"    _HEADER.pack_into(buf, offset + {SOFH_LENGTH}, {m.block_length}, {m.id}, SCHEMA_ID, SCHEMA_VERSION)")
    L.append(f"    pos = offset + {SOFH_LENGTH + HEADER_LENGTH}")
    L.append(f"    buf[pos:pos + {m.block_length}] = block")
    if m.data:
        L.append(f"    pos += {m.block_length}")
        for d in m.data:
            dn = snake(d.name)
            size = d.type.length_prim.size
            L.append(f"    {'_VAR_U8' if size == 1 else '_VAR_U16'}.pack_into(buf, pos, len({dn}))")
            L.append(f"    pos += {size}")
            L.append(f"    buf[pos:pos + len({dn})] = {dn}")
            L.append(f"    pos += len({dn})")
    L.append("    return frame_length")
    return L


def _struct_format(m: Message) -> str:
    fmt = "<"
    pos = 0
    for f in m.fields:
        if f.offset > pos:
            fmt += f"{f.offset - pos}x"
        fmt += f.type.prim.fmt
        pos = f.offset + f.type.prim.size
    if m.block_length > pos:
        fmt += f"{m.block_length - pos}x"
    return fmt


def emit_python(s: Schema) -> str:
    L: list[str] = [f"# {BANNER}",
                    '"""The order-entry codec in Python: typed message classes, a reusable Encoder and Decoder.',
                    "",
                    "Same wire format, validation order and error codes as native/gateway/sbe_codec.c (a test runs both on",
                    "the same bytes). Decoding reads the caller's buffer in place (bytes, bytearray or memoryview);",
                    "only variable-length fields are copied out. Optional fields decode to None when they hold their",
                    "nullValue. Errors are SbeDecodeError / SbeEncodeError / SbeBufferTooSmall carrying the ENG_GW_*",
                    'reason of native/layout/venue_layout.h, which gateway.reasons reads from that header."""',
                    "from __future__ import annotations",
                    "",
                    "import struct",
                    "from enum import IntEnum, IntFlag",
                    "from typing import Callable, ClassVar, Union",
                    "",
                    "import msgspec",
                    "",
                    "from gateway.reasons import Reason",
                    "",
                    "Buffer = Union[bytes, bytearray, memoryview]",
                    "WritableBuffer = Union[bytearray, memoryview]",
                    "",
                    f"SCHEMA_ID = {s.id}",
                    f"SCHEMA_VERSION = {s.version}",
                    f"SEMANTIC_VERSION = {s.semantic_version!r}",
                    f"SOFH_LENGTH = {SOFH_LENGTH}",
                    f"HEADER_LENGTH = {HEADER_LENGTH}",
                    f"SOFH_ENCODING_TYPE = {SOFH_SBE10_LE:#06x}  # SBE 1.0 little-endian",
                    f"MIN_FRAME_LENGTH = {s.min_frame}",
                    f"MAX_FRAME_LENGTH = {s.max_frame}",
                    "",
                    "",
                    "class NamedIntEnum(IntEnum):",
                    '    """An IntEnum that prints as its name (print(r.exec_type) -> TRADE, not 70); its',
                    '    value is still the int on the wire and compares equal to it."""',
                    "",
                    "    def __str__(self) -> str:",
                    "        return self.name",
                    "",
                    "    def __format__(self, spec: str) -> str:",
                    "        return format(self.name, spec)",
                    ""]
    for t in s.types.values():
        if isinstance(t, EnumType):
            L.append("")
            L.append(f"class {t.name}(NamedIntEnum):")
            doc = t.description or f"SBE enum {t.name}"
            if t.is_char:
                doc += " (char encoded: values are the ASCII codes)"
            L.append(f'    """{doc}"""')
            L.append("")
            for vname, value, desc in t.values:
                note = f"  # {chr(value)!r}" if t.is_char else ""
                if desc:
                    note = (note + "; " if note else "  # ") + desc
                L.append(f"    {upper(vname)} = {value}{note}")
            L.append("")
            L.append("")
            L.append(f"_{upper(t.name)}_BY_VALUE = {{int(v): v for v in {t.name}}}")
        elif isinstance(t, SetType):
            L.append("")
            L.append(f"class {t.name}(IntFlag):")
            L.append(f'    """{t.description or "SBE set " + t.name}"""')
            L.append("")
            for cname, bit, desc in t.choices:
                L.append(f"    {upper(cname)} = {1 << bit}{'  # ' + desc if desc else ''}")
            L.append("")
            L.append("")
            L.append(f"_{upper(t.name)}_BY_VALUE = {{v: {t.name}(v) for v in range({t.mask + 1}) if not v & ~{t.mask}}}")
    L.append("")
    for m in s.messages:
        L.append("")
        L.append(f"class {m.name}(msgspec.Struct, frozen=True, gc=False):")
        L.append(f'    """{m.description or m.name} (template {m.id})."""')
        L.append("")
        L.append(f"    TEMPLATE_ID: ClassVar[int] = {m.id}")
        L.append(f"    BLOCK_LENGTH: ClassVar[int] = {m.block_length}")
        nulls = {snake(f.name): f.type.null for f in m.fields if isinstance(f.type, SimpleType) and f.type.optional}
        L.append(f"    NULLS: ClassVar[dict[str, int]] = {nulls!r}")
        L.append(f"    VAR_DATA: ClassVar[tuple[str, ...]] = {tuple(snake(d.name) for d in m.data)!r}")
        for f in m.fields:
            L.append(f"    {snake(f.name)}: {_py_type(f)}")
        for d in m.data:
            L.append(f"    {snake(d.name)}: bytes")
    L.append("")
    L.append("")
    L.append(f"Message = Union[{', '.join(m.name for m in s.messages)}]")
    L.append("")
    L.append(f"TEMPLATES: dict[int, type[Message]] = {{{', '.join(f'{m.id}: {m.name}' for m in s.messages)}}}")
    L.extend(PY_RUNTIME.rstrip("\n").split("\n"))
    L.append("")
    L.append("# Fails the import, naming the code, if venue_layout.h lost one of the codes this codec raises.")
    L.append(f"_CODEC_REASONS = tuple(Reason[name] for name in {CODEC_ERRORS!r})")
    L.append("")
    for m in s.messages:
        L.append(f"_{upper(m.name)}_BLOCK = struct.Struct({_struct_format(m)!r})")
    L.append("")
    L.append("")
    L.append("def _as_int(value: object, tid: int, label: str) -> int:")
    L.append("    if isinstance(value, bool) or not isinstance(value, int):")
    L.append("        raise SbeEncodeError(Reason.ENG_GW_VALUE_RANGE, tid, f\"{label}: {value!r} is not an int\")")
    L.append("    return int(value)")
    for m in s.messages:
        L.append("")
        L.append("")
        L.extend(_py_decoder(m))
    for m in s.messages:
        L.append("")
        L.append("")
        L.extend(_py_encoder(m))
    L.append("")
    L.append("")
    L.append("_DECODERS: dict[int, tuple[int, Callable[[Buffer, int, int], Message]]] = {")
    for m in s.messages:
        L.append(f"    {m.id}: ({m.block_length}, _decode_{snake(m.name)}),")
    L.append("}")
    L.append("_ENCODERS: dict[type, Callable[..., int]] = {")
    for m in s.messages:
        L.append(f"    {m.name}: _encode_{snake(m.name)},")
    L.append("}")
    L.append(PY_CLASSES)
    return "\n".join(L) + "\n"


PY_CLASSES = '''

class Decoder:
    """Build once, reuse: decodes frames from bytes, bytearray or memoryview without copying the block."""

    __slots__ = ()

    def peek(self, buf: Buffer) -> int | None:
        """Length of the frame at the start of buf once it is all there; None while more bytes are needed.
        Raises SbeDecodeError (ENCODING_TYPE, FRAME_LENGTH) when the stream cannot be framed."""
        if len(buf) < SOFH_LENGTH:
            return None
        frame_length, encoding = _SOFH.unpack_from(buf, 0)
        if encoding != SOFH_ENCODING_TYPE:
            raise SbeDecodeError(Reason.ENG_GW_ENCODING_TYPE, 0, f"SOFH encoding type {encoding:#06x}")
        if not MIN_FRAME_LENGTH <= frame_length <= MAX_FRAME_LENGTH:
            raise SbeDecodeError(Reason.ENG_GW_FRAME_LENGTH, 0, f"SOFH message length {frame_length}")
        return frame_length if len(buf) >= frame_length else None

    def decode(self, buf: Buffer) -> Message:
        """Decodes the frame at the start of buf (bytes after it are ignored); raises SbeDecodeError."""
        if len(buf) < SOFH_LENGTH:
            raise SbeDecodeError(Reason.ENG_GW_FRAME_TRUNCATED, 0, f"{len(buf)} bytes, no SOFH")
        frame_length = self.peek(buf)
        if frame_length is None:
            raise SbeDecodeError(Reason.ENG_GW_FRAME_TRUNCATED, 0,
                                 f"{len(buf)} bytes, frame of {_SOFH.unpack_from(buf, 0)[0]}")
        block_length, template_id, schema_id, version = _HEADER.unpack_from(buf, SOFH_LENGTH)
        if schema_id != SCHEMA_ID:
            raise SbeDecodeError(Reason.ENG_GW_SCHEMA_ID, 0, f"schemaId {schema_id}")
        if version == 0 or version > SCHEMA_VERSION:
            raise SbeDecodeError(Reason.ENG_GW_SCHEMA_VERSION, 0, f"version {version}")
        entry = _DECODERS.get(template_id)
        if entry is None:
            raise SbeDecodeError(Reason.ENG_GW_UNKNOWN_TEMPLATE, template_id, f"templateId {template_id}")
        min_block, decode = entry
        if block_length < min_block:
            raise SbeDecodeError(Reason.ENG_GW_BLOCK_LENGTH, template_id, f"blockLength {block_length} < {min_block}")
        if frame_length - (SOFH_LENGTH + HEADER_LENGTH) < block_length:
            raise SbeDecodeError(Reason.ENG_GW_BODY_TRUNCATED, template_id,
                                 f"blockLength {block_length} past a frame of {frame_length}")
        return decode(buf, frame_length, block_length)


class Encoder:
    """Build once, reuse: encodes a message into a new bytes object or into a buffer the caller keeps."""

    __slots__ = ()

    def encode_into(self, msg: Message, buf: WritableBuffer, offset: int = 0) -> int:
        """Writes the frame at buf[offset:]; returns its length. Raises SbeEncodeError for a message the
        decoder would refuse, SbeBufferTooSmall (buffer untouched) when it does not fit."""
        encode = _ENCODERS.get(type(msg))
        if encode is None:
            raise SbeEncodeError(Reason.ENG_GW_UNKNOWN_TEMPLATE, 0, f"{type(msg).__name__} is not a message of the schema")
        return encode(msg, buf, offset)

    def encode(self, msg: Message) -> bytes:
        buf = bytearray(MAX_FRAME_LENGTH)
        n = self.encode_into(msg, buf, 0)
        return bytes(buf[:n])'''


# ---------------------------------------------------------------------------------------------


def generate(schema_path: Path = SCHEMA_PATH, header_path: Path = LAYOUT_HEADER) -> dict[Path, str]:
    """Validates the schema and returns {output path: text}; raises SchemaError."""
    schema = parse_schema(schema_path)
    errors = codec_error_lines(header_path)
    return {
        C_HEADER_PATH: emit_c_header(schema),
        C_SOURCE_PATH: emit_c_source(schema, errors),
        PY_PATH: emit_python(schema),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", type=Path, default=SCHEMA_PATH)
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a committed file differs")
    args = ap.parse_args(argv)
    try:
        outputs = generate(args.schema)
    except SchemaError as exc:
        print(f"generate_sbe: {args.schema}: {exc}", file=sys.stderr)
        return 2
    stale = []
    for path, text in outputs.items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text)
    rel = ", ".join(str(p.relative_to(ROOT)) for p in stale)
    if args.check:
        if stale:
            print(f"generate_sbe: out of date: {rel}; run python scripts/generate_sbe.py", file=sys.stderr)
            return 1
        print("generate_sbe: generated files are up to date")
        return 0
    print(f"generate_sbe: wrote {rel}" if stale else "generate_sbe: nothing to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
