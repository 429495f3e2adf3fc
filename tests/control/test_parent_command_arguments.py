"""The control plane's parent.* commands turn their arguments into numbers at the boundary
(gateway/control/arguments.py), naming the argument when one is not a number of the right
kind. Found by sweeping every command with hostile values against a real `up` (qa4): before,
``id=inf`` or ``qty=inf`` was answered as an internal error (OverflowError), ``id=True`` and
``id=1.5`` acted on parent 1, and ``qty=''`` said only "invalid literal for int()". Every
refusal is a ValueError, which ``_parent_call`` answers as bad_request."""
from __future__ import annotations

from typing import Any

import pytest

from gateway.control.arguments import finite_number, key_values, typed_values, whole_number
from gateway.control.parent_orders import AMEND_FIELDS, ORDER_FIELDS


@pytest.mark.parametrize("value", [True, False, None, 1.5, float("inf"), float("nan"), "", "abc", "1.5", "1e3"])
def test_a_whole_number_argument_refuses_what_is_not_one(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^id: expected a whole number, got "):
        whole_number("id", value)


@pytest.mark.parametrize("value, expected", [(7, 7), (7.0, 7), ("7", 7), (" 12 ", 12), (-3, -3)])
def test_a_whole_number_argument_takes_ints_integral_floats_and_decimal_text(value: Any, expected: int) -> None:
    assert whole_number("id", value) == expected       # a negative id is refused further in, as an unknown parent


@pytest.mark.parametrize("value, words", [
    (True, "expected a number"), (None, "expected a number"), ("soon", "expected a number"),
    (float("inf"), "must be a finite number"), ("nan", "must be a finite number"), (1e309, "must be a finite number"),
])
def test_a_seconds_argument_must_be_a_finite_number(value: Any, words: str) -> None:
    with pytest.raises(ValueError, match=f"^duration_s: {words}"):
        finite_number("duration_s", value)


def test_k_v_lists_name_their_argument_and_refuse_non_finite_values() -> None:
    with pytest.raises(ValueError, match=r"^changes: expected k=v"):
        key_values("qty", "changes")
    with pytest.raises(ValueError, match=r"^params: expected k=v"):
        key_values("inf")
    with pytest.raises(ValueError, match=r"^start_in_s: must be a finite number, got 'inf'"):
        typed_values({"start_in_s": "inf"}, ORDER_FIELDS)
    with pytest.raises(ValueError, match=r"^risk_aversion: must be a finite number, got 'nan'"):
        typed_values({"risk_aversion": "nan"}, AMEND_FIELDS)
    assert typed_values(key_values("qty=200, duration_s=30"), AMEND_FIELDS) == {"qty": 200, "duration_s": 30.0}


@pytest.mark.parametrize("value", [-1, 1.5, True, ["a=1"], {"a": "1"}])
def test_a_k_v_list_must_be_text(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^params: expected k=v\[,k=v\.\.\.\] text, got "):
        key_values(value)
    assert key_values(None) == key_values("") == {}
