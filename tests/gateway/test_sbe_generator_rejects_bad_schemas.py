"""scripts/generate_sbe.py refuses a bad schema with an error naming the element at fault, and exits 2
from the command line. Each file in schemas/ is valid_minimal.xml with exactly one defect."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
GENERATOR = ROOT / "scripts" / "generate_sbe.py"

_spec = importlib.util.spec_from_file_location("generate_sbe", GENERATOR)
gen = importlib.util.module_from_spec(_spec)
assert _spec.loader is not None
sys.modules["generate_sbe"] = gen
_spec.loader.exec_module(gen)

BAD = {
    "duplicate_template_id": "message 'Cancel': duplicate id 1",
    "duplicate_field_id": "field 'id': duplicate field id 38",
    "unknown_type": "field 'id': unknown type 'InstrumentIdentifier'",
    "enum_value_out_of_range": "validValue 'Sell': 300 is outside the range of uint8",
    "block_length_mismatch": "blockLength 16 does not match its fields (13 bytes)",
    "big_endian": "byteOrder 'bigEndian' refused",
    "sofh_big_endian_encoding": "encodingType 0x5BE0 is SBE big-endian",
    "null_inside_range": "nullValue 5 lies inside minValue..maxValue",
    "var_data_unbounded": "length needs a maxValue",
    "frame_too_large": "exceeds framingHeader messageLength maxValue 40",
    "repeating_group": "group 'fills': repeating groups are not supported",
    "float_type": "primitiveType 'double' refused",
    "not_well_formed": "not well-formed XML",
}


def test_every_schema_file_is_covered() -> None:
    assert {p.stem for p in SCHEMAS.glob("*.xml")} == set(BAD) | {"valid_minimal"}


def test_the_baseline_schema_is_accepted() -> None:
    schema = gen.parse_schema(SCHEMAS / "valid_minimal.xml")
    assert [(m.name, m.block_length) for m in schema.messages] == [("Order", 13), ("Cancel", 8)]
    assert gen.generate(SCHEMAS / "valid_minimal.xml")


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_schema_is_refused_with_a_message_naming_the_defect(name: str) -> None:
    with pytest.raises(gen.SchemaError) as info:
        gen.parse_schema(SCHEMAS / f"{name}.xml")
    assert BAD[name] in str(info.value)


def test_command_line_exits_2_and_prints_the_reason() -> None:
    run = subprocess.run([sys.executable, str(GENERATOR), "--schema", str(SCHEMAS / "unknown_type.xml"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "unknown type 'InstrumentIdentifier'" in run.stderr


def test_generator_refuses_a_header_without_the_codec_error_codes(tmp_path: Path) -> None:
    header = tmp_path / "venue_layout.h"
    header.write_text("typedef enum eng_reason {\n    ENG_OK = 0\n} eng_reason_t;\n")
    with pytest.raises(gen.SchemaError, match="lacks the codec error codes"):
        gen.generate(gen.SCHEMA_PATH, header)
