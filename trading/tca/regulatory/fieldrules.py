"""Field rules written down as data, and one validator that checks every row of a report
against them. A rule names the field, whether it is mandatory, and its format: a regular
expression, a closed list, or a named check (LEI, ISIN, MIC, currency, UTC timestamp at a given
granularity), or the stated rule under which it does not apply (then it must be blank).
``validate`` returns every violation (row, field, value, why); a report with any
violation is not written as complete (see regulatory/output.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from trading.tca.identifiers import currency_ok, isin_ok, lei_ok, mic_ok


@dataclass(frozen=True)
class FieldRule:
    number: str                     # the field's number in the regulation's table ("" if none)
    name: str
    mandatory: bool
    kind: str                       # "regex", "enum", "lei", "isin", "mic", "ccy", "ts_us", "decimal", "int"
    arg: str = ""                   # regex, or "|"-separated allowed values
    note: str = ""
    # not_applicable: the stated rule under which the field does not apply to this venue's flow;
    # such a field is left blank in every row (the table's prescribed form for a field that is
    # not populated) and a value there is a violation
    not_applicable: str = ""


@dataclass(frozen=True)
class Violation:
    row: int
    field: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"row {self.row}: field {self.field} = {self.value!r}: {self.why}"


_TS_US = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_DECIMAL = re.compile(r"^-?\d{1,18}(\.\d{1,17})?$")
_INT = re.compile(r"^-?\d+$")

_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "lei": (lei_ok, "not a valid LEI (ISO 17442: 20 characters, MOD 97-10 check digits)"),
    "isin": (isin_ok, "not a valid ISIN (ISO 6166: country, 9 characters, Luhn check digit)"),
    "mic": (mic_ok, "not a MIC (ISO 10383: 4 characters A-Z 0-9)"),
    "ccy": (currency_ok, "not an ISO 4217 currency code"),
    "ts_us": (lambda v: bool(_TS_US.match(v)),
              "not a UTC timestamp with microseconds (YYYY-MM-DDThh:mm:ss.ffffffZ)"),
    "decimal": (lambda v: bool(_DECIMAL.match(v)), "not a decimal (max 18 digits, 17 after the point)"),
    "int": (lambda v: bool(_INT.match(v)), "not an integer"),
}


def validate(rows: Sequence[Mapping[str, str]], rules: Sequence[FieldRule]) -> list[Violation]:
    """Every violation of every row; [] when the report is valid."""
    out: list[Violation] = []
    names = {r.name for r in rules}
    for i, row in enumerate(rows):
        for key in row:
            if key not in names:
                out.append(Violation(i, key, str(row[key]), "field not in the schema"))
        for rule in rules:
            value = str(row.get(rule.name, ""))
            if rule.not_applicable:
                if value != "":
                    out.append(Violation(i, rule.name, value, f"not applicable ({rule.not_applicable}): "
                                                              "must be left blank"))
                continue
            if value == "":
                if rule.mandatory:
                    out.append(Violation(i, rule.name, value, "mandatory field is empty"))
                continue
            if rule.kind == "regex":
                if not re.fullmatch(rule.arg, value):
                    out.append(Violation(i, rule.name, value, f"does not match {rule.arg}"))
            elif rule.kind == "enum":
                allowed = rule.arg.split("|")
                if value not in allowed:
                    out.append(Violation(i, rule.name, value, f"not one of {', '.join(allowed)}"))
            else:
                check, why = _CHECKS[rule.kind]
                if not check(value):
                    out.append(Violation(i, rule.name, value, why))
    return out
