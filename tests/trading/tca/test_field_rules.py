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


def test_rts22_has_all_65_fields_each_applying_or_with_its_rule() -> None:
    # Annex I Table 2 of Delegated Regulation (EU) 2017/590 numbers its fields 1..65
    assert [f.number for f in rts22.FIELDS] == [str(i) for i in range(1, 66)]
    assert len({f.name for f in rts22.FIELDS}) == 65 and rts22.COLUMNS == tuple(f.name for f in rts22.FIELDS)
    for f in rts22.FIELDS:
        assert not (f.mandatory and f.not_applicable), f.name          # a mandatory field always applies
    na = {f.number for f in rts22.FIELDS if f.not_applicable}
    assert {str(i) for i in range(42, 57)} <= na                        # instrument details: ISIN given
    assert {"32", "35", "38", "39", "61", "63", "64"} <= na
    assert not na & {"1", "2", "3", "4", "6", "7", "16", "28", "29", "30", "33", "34", "36", "41", "59", "65"}


def test_a_value_in_a_not_applicable_field_is_a_violation() -> None:
    rules = (FieldRule("30", "qty", True, "decimal"),
             FieldRule("35", "net_amount", False, "decimal", not_applicable="debt instruments only"))
    bad = validate([{"qty": "100", "net_amount": ""}, {"qty": "100", "net_amount": "1.5"}], rules)
    assert [(v.row, v.field) for v in bad] == [(1, "net_amount")]
    assert "debt instruments only" in str(bad[0]) and "left blank" in str(bad[0])


def test_rts22_rows_carry_every_field_and_validate(small_day: str) -> None:
    from tests.trading.tca.conftest import REFERENCE
    from trading.tca.analysis import analyze
    from trading.tca.tape import load_tape
    rows, bad = rts22.transaction_reports(analyze(load_tape(small_day), REFERENCE))
    assert bad == [] and len(rows) == 10
    for r in rows:
        assert set(r) == set(rts22.COLUMNS)
        assert all(r[f.name] == "" for f in rts22.FIELDS if f.not_applicable)
        assert all(r[f.name] != "" for f in rts22.FIELDS if f.mandatory)
