"""apply, verify and rollback against the fake tree: apply changes exactly what plan listed,
saves originals first, is idempotent; rollback puts every value back and removes the state."""
from __future__ import annotations

import json
from pathlib import Path

from tests.tuning.faketree import snapshot

from tuning.runner import Tuner
from tuning.setting import Status


def _values(profile: str, root: Path) -> dict[str, str]:
    return {f.name: f.current for f in Tuner(profile, str(root)).audit()}


def test_apply_changes_what_plan_listed_and_verify_passes(fake_root: Path, test_profile: str) -> None:
    planned = {c.name for c in Tuner(test_profile, str(fake_root)).plan()}
    report = Tuner(test_profile, str(fake_root)).apply()
    assert {c.name for c in report.changed} == planned
    findings = Tuner(test_profile, str(fake_root)).verify()
    assert [f.name for f in findings if f.status != Status.OK] == []


def test_apply_saves_originals_with_host_identity_before_changing(fake_root: Path, test_profile: str) -> None:
    Tuner(test_profile, str(fake_root)).apply()
    state = json.loads((fake_root / "var/lib/venue-tuning/state.json").read_text())
    assert state["host"]["hostname"] == "testhost"
    assert state["host"]["machine_id"] == "0123456789abcdef0123456789abcdef"
    originals = {e["name"]: e["original"] for e in state["entries"]}
    assert originals["sysctl vm.swappiness"] == "60"
    assert originals["thp enabled"] == "madvise"
    assert originals["irqbalance banned cpus"] == "unset"


def test_second_apply_changes_nothing_and_keeps_first_originals(fake_root: Path, test_profile: str) -> None:
    Tuner(test_profile, str(fake_root)).apply()
    state_file = fake_root / "var/lib/venue-tuning/state.json"
    first_state = state_file.read_text()
    tree = snapshot(fake_root)
    again = Tuner(test_profile, str(fake_root)).apply()
    assert again.changed == []
    assert snapshot(fake_root) == tree
    assert state_file.read_text() == first_state


def test_rollback_restores_every_saved_value_and_removes_state(fake_root: Path, test_profile: str) -> None:
    before = _values(test_profile, fake_root)
    plain_files = {k: v for k, v in snapshot(fake_root).items() if "transparent_hugepage" not in k}
    Tuner(test_profile, str(fake_root)).apply()
    assert _values(test_profile, fake_root) != before
    restored = Tuner.for_rollback(str(fake_root)).rollback()
    assert len(restored) == len(before)
    assert _values(test_profile, fake_root) == before
    after_files = {k: v for k, v in snapshot(fake_root).items() if "transparent_hugepage" not in k}
    assert after_files == plain_files  # byte for byte, apart from the menus printed by the kernel
    assert not (fake_root / "var/lib/venue-tuning/state.json").exists()


def test_only_limits_apply_to_the_named_settings(fake_root: Path, test_profile: str) -> None:
    report = Tuner(test_profile, str(fake_root), only=["vm.swappiness", "thp"]).apply()
    assert sorted(c.name for c in report.changed) == ["sysctl vm.swappiness", "thp defrag", "thp enabled"]
    assert (fake_root / "proc/sys/vm/dirty_ratio").read_text().strip() == "20"
