"""startup_warnings: one line per problem for the engine's cores, on the fake tree."""
from __future__ import annotations

from pathlib import Path

from tuning import startup_warnings


def test_untuned_host_warns_per_problem_in_one_line_each(fake_root: Path) -> None:
    lines = startup_warnings([2, 3], root=str(fake_root))
    assert "core 2 is not isolated" in lines
    assert "core 3 is not isolated" in lines
    assert "cpu_dma_latency not held" in lines
    assert any(line.startswith("2 IRQ(s) not confined to housekeeping cores") for line in lines)
    assert all("\n" not in line for line in lines)


def test_isolated_cores_stop_the_isolation_warning(fake_root: Path) -> None:
    (fake_root / "sys/devices/system/cpu/isolated").write_text("2-3\n")
    lines = startup_warnings([2, 3], root=str(fake_root))
    assert not any("not isolated" in line for line in lines)


def test_unreadable_file_is_a_line_not_an_exception(fake_root: Path) -> None:
    isolated = fake_root / "sys/devices/system/cpu/isolated"
    isolated.unlink()
    isolated.mkdir()
    lines = startup_warnings([2], root=str(fake_root))
    assert any(line.startswith("core 2 isolated: cannot read") for line in lines)


def test_engine_core_that_is_offline_is_reported(fake_root: Path) -> None:
    assert startup_warnings([9], root=str(fake_root)) == [
        "tuning profile venue does not fit engine cores 9: variable isolated_cores = 9 names "
        "CPU(s) 9 that are not online (online: 0-3)"]
