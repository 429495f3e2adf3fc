"""Identifier check digits and the field-rule validator that every regulatory row goes through."""
from __future__ import annotations

from trading.tca.identifiers import currency_ok, isin_ok, lei_check_digits, lei_ok, mic_ok
from trading.tca.regulatory import rts22
from trading.tca.regulatory.fieldrules import FieldRule, validate


def test_lei_iso17442() -> None:
    # published LEIs (GLEIF examples); the last two digits make the number = 1 mod 97
    for lei in ("529900T8BM49AURSDO55", "5493001KJTIIGC8Y1R12", "HWUPKR0MPOU8FGXBT394"):
        assert lei_ok(lei), lei
        assert lei_check_digits(lei[:18]) == lei[18:]
    assert not lei_ok("529900T8BM49AURSDO56")      # one check digit off
    assert not lei_ok("529900T8BM49AURSDO5")       # 19 characters
    assert not lei_ok("529900t8bm49aursdo55")      # lower case


def test_isin_iso6166() -> None:
    for isin in ("US0378331005", "DE000BAY0017", "GB0002634946", "US5949181045"):
        assert isin_ok(isin), isin
    assert not isin_ok("US0378331006")             # Luhn digit off
    assert not isin_ok("U10378331005")             # country not two letters
    assert mic_ok("XNAS") and not mic_ok("XNA") and currency_ok("EUR") and not currency_ok("eur")


def test_validator_reports_every_violation() -> None:
    rules = (FieldRule("28", "ts", True, "ts_us"), FieldRule("30", "qty", True, "decimal"),
             FieldRule("29", "cap", True, "enum", "DEAL|MTCH|AOTC"), FieldRule("", "opt", False, "lei"))
    rows = [{"ts": "2025-12-06T05:46:42.000000Z", "qty": "100", "cap": "DEAL", "opt": ""},
            {"ts": "2025-12-06T05:46:42.000Z", "qty": "1e2", "cap": "PRIN", "opt": "X", "extra": "1"}]
    bad = validate(rows, rules)
    assert [(v.row, v.field) for v in bad] == [(1, "extra"), (1, "ts"), (1, "qty"), (1, "cap"), (1, "opt")]
    assert "microseconds" in str(bad[1])   # a millisecond stamp is too coarse for RTS 25


def test_rts22_schema_is_data() -> None:
    numbers = [f.number for f in rts22.FIELDS]
    assert numbers[:7] == ["1", "2", "3", "4", "5", "6", "7"] and "41" in numbers and "28" in numbers
    assert {f.kind for f in rts22.FIELDS if f.name in ("buyer_id", "seller_id", "executing_entity_id")} == {"lei"}
    assert next(f for f in rts22.FIELDS if f.name == "instrument_id").kind == "isin"
