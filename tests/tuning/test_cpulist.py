"""CPU lists and masks parse and print the way the kernel does."""
from __future__ import annotations

import pytest

from tuning.cpulist import format_cpulist, format_cpumask, parse_cpulist, parse_cpumask


def test_cpulist_round_trips_in_compact_form() -> None:
    assert parse_cpulist("0-2,5,7-8") == {0, 1, 2, 5, 7, 8}
    assert format_cpulist({8, 7, 5, 2, 1, 0}) == "0-2,5,7-8"
    assert parse_cpulist("") == frozenset()


def test_masks_wider_than_32_bits_use_comma_groups() -> None:
    assert format_cpumask({0, 1}) == "3"
    assert format_cpumask({0, 33}) == "2,00000001"
    assert parse_cpumask("00000002,00000001") == {0, 33}


@pytest.mark.parametrize("bad", ["a", "3-1", "1,,x", "-1"])
def test_bad_cpulist_names_the_bad_part(bad: str) -> None:
    with pytest.raises(ValueError, match="bad CPU"):
        parse_cpulist(bad)
