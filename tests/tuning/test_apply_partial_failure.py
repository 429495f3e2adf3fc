"""A failure in the middle of apply stops it, restores what this run had already changed, and
says what failed; the tree is left as it was before."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from tests.tuning.faketree import snapshot

from tuning.errors import ApplyError
from tuning.hostroot import HostRoot
from tuning.runner import Tuner


def test_write_error_midway_restores_earlier_changes(fake_root: Path, test_profile: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(fake_root)
    real_write = HostRoot.write

    def failing_write(self: HostRoot, host_path: str, value: str) -> None:
        if host_path == "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages":
            raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))
        real_write(self, host_path, value)

    monkeypatch.setattr(HostRoot, "write", failing_write)
    with pytest.raises(ApplyError, match="hugepages 2048kB") as info:
        Tuner(test_profile, str(fake_root)).apply()
    assert info.value.restored
    assert "restored the 7 change(s)" in str(info.value)  # 5 sysctls and 2 THP files came first
    monkeypatch.setattr(HostRoot, "write", real_write)
    after = snapshot(fake_root)
    changed = sorted(k for k in before if before[k] != after[k])
    # THP menus come back as the chosen word (the kernel would print the menu again).
    assert changed == ["sys/kernel/mm/transparent_hugepage/defrag",
                       "sys/kernel/mm/transparent_hugepage/enabled"]
    assert after["sys/kernel/mm/transparent_hugepage/enabled"].strip() == b"madvise"
    assert not (fake_root / "var/lib/venue-tuning/state.json").exists()


def test_value_that_does_not_stick_fails_and_restores(fake_root: Path, test_profile: str) -> None:
    # /dev/null swallows the write and reads back empty: the kernel refusing silently.
    target = fake_root / "proc/sys/kernel/numa_balancing"
    target.unlink()
    target.symlink_to("/dev/null")
    with pytest.raises(ApplyError, match="kernel.numa_balancing reads back"):
        Tuner(test_profile, str(fake_root)).apply()
    assert (fake_root / "proc/sys/vm/swappiness").read_text().strip() == "60"
    assert (fake_root / "proc/sys/vm/dirty_ratio").read_text().strip() == "20"


def test_unreadable_setting_midway_stops_before_changing_it(fake_root: Path, test_profile: str) -> None:
    governor = fake_root / "sys/devices/system/cpu/cpu2/cpufreq/scaling_governor"
    governor.unlink()
    governor.mkdir()  # reading a directory fails: its original could not be saved
    with pytest.raises(ApplyError, match="cannot read cpu2 governor"):
        Tuner(test_profile, str(fake_root)).apply()
    assert (fake_root / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip() \
        == "powersave"


def test_irq_the_kernel_refuses_to_move_is_recorded_not_fatal(fake_root: Path, test_profile: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = HostRoot.write

    def eio_for_irq_11(self: HostRoot, host_path: str, value: str) -> None:
        if host_path == "/proc/irq/11/smp_affinity_list":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_write(self, host_path, value)

    monkeypatch.setattr(HostRoot, "write", eio_for_irq_11)
    report = Tuner(test_profile, str(fake_root)).apply()
    assert "irq 11 affinity" in report.refused
    finding = next(f for f in Tuner(test_profile, str(fake_root)).verify() if f.name == "irq 11 affinity")
    assert finding.status.value == "not applicable here"
    assert "EIO" in finding.reason
