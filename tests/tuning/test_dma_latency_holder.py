"""The cpu_dma_latency holder: apply starts a real holder process that keeps the request open,
audit finds it by scanning /proc/*/fd, rollback stops exactly that process. The fake tree's
device is an ordinary file and its proc is the live /proc, where the holder's fd shows up."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from tuning.dma_latency import DEVICE, choose_value_us, holders, read_limit_us
from tuning.hostroot import HostRoot
from tuning.measure import HeldLatency
from tuning.runner import Tuner
from tuning.setting import Status


@pytest.fixture
def dma_root(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    (root / "dev").mkdir(parents=True)
    (root / "dev/cpu_dma_latency").write_bytes(struct.pack("=i", 2_000_000_000))
    (root / "proc").symlink_to("/proc")
    return root


@pytest.fixture
def dma_profile(tmp_path: Path) -> str:
    path = tmp_path / "dma.toml"
    path.write_text("[cpu_dma_latency]\nvalue_us = 0\n")
    return str(path)


def test_apply_starts_holder_verify_sees_it_rollback_stops_it(dma_root: Path, dma_profile: str,
                                                               tmp_path: Path) -> None:
    state_file = str(tmp_path / "state.json")
    assert Tuner(dma_profile, str(dma_root), state_file).audit()[0].current == "not held"
    Tuner(dma_profile, str(dma_root), state_file).apply()
    pids, _ = holders(HostRoot(dma_root))
    try:
        assert len(pids) == 1
        finding = Tuner(dma_profile, str(dma_root), state_file).verify()[0]
        assert finding.status == Status.OK, finding
        assert finding.current == f"0 us, held by pid {pids[0]}"
        assert Tuner(dma_profile, str(dma_root), state_file).apply().changed == []
    finally:
        Tuner.for_rollback(str(dma_root), state_file).rollback()
    assert holders(HostRoot(dma_root))[0] == []
    assert not os.path.exists(f"/proc/{pids[0]}/fd") or os.listdir(f"/proc/{pids[0]}/fd") == []
    assert Tuner(dma_profile, str(dma_root), state_file).audit()[0].current == "not held"


def test_auto_value_is_zero_on_haltpoll_vm_and_c1_latency_on_bare_metal(tmp_path: Path) -> None:
    vm = tmp_path / "vm"
    (vm / "sys/devices/system/cpu/cpuidle").mkdir(parents=True)
    (vm / "sys/devices/system/cpu/cpuidle/current_driver").write_text("haltpoll\n")
    assert choose_value_us(HostRoot(vm))[0] == 0
    metal = tmp_path / "metal"
    for state, name, latency in (("state0", "POLL", 0), ("state1", "C1E", 3), ("state2", "C6", 170)):
        d = metal / "sys/devices/system/cpu/cpu0/cpuidle" / state
        d.mkdir(parents=True)
        (d / "name").write_text(name + "\n")
        (d / "latency").write_text(f"{latency}\n")
    (metal / "sys/devices/system/cpu/cpuidle").mkdir(parents=True)
    (metal / "sys/devices/system/cpu/cpuidle/current_driver").write_text("intel_idle\n")
    value, why = choose_value_us(HostRoot(metal))
    assert value == 3 and "C1E" in why


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(DEVICE),
                    reason="holding the real /dev/cpu_dma_latency needs root and the device")
def test_real_device_limit_is_held_only_while_open() -> None:
    host = HostRoot("/")
    before = read_limit_us(host)
    with HeldLatency(host, 0):
        assert read_limit_us(host) == 0
        assert os.getpid() in holders(host)[0]
    assert read_limit_us(host) == before
