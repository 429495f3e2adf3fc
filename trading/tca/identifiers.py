"""Check digits and formats of the identifiers regulatory reports carry.

- LEI (ISO 17442): 20 characters [A-Z0-9], the last two numeric check digits; letters map to
  10..35 and the whole 20-character number mod 97 must be 1 (ISO 7064 MOD 97-10, as IBANs).
- ISIN (ISO 6166): 2-letter country code, 9 alphanumerics, 1 check digit: letters map to 10..35,
  then the Luhn algorithm over the resulting digit string (the check digit included) must give 0.
- MIC (ISO 10383): 4 characters [A-Z0-9].
- Currency (ISO 4217): 3 capital letters.
"""
from __future__ import annotations

import re

_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
_MIC = re.compile(r"^[A-Z0-9]{4}$")
_CCY = re.compile(r"^[A-Z]{3}$")


def _digits(s: str) -> str:
    return "".join(str(int(c, 36)) for c in s)


def lei_ok(lei: str) -> bool:
    return bool(_LEI.match(lei)) and int(_digits(lei)) % 97 == 1


def lei_check_digits(first18: str) -> str:
    """The two check digits that complete an 18-character LEI prefix."""
    return f"{98 - int(_digits(first18) + '00') % 97:02d}"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def isin_ok(isin: str) -> bool:
    return bool(_ISIN.match(isin)) and _luhn_ok(_digits(isin))


def mic_ok(mic: str) -> bool:
    return bool(_MIC.match(mic))


def currency_ok(ccy: str) -> bool:
    return bool(_CCY.match(ccy))
