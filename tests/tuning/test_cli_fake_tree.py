"""The CLI over a fake tree: plan lists changes, apply makes them, verify turns from exit 1 to
exit 0, rollback restores; --json output parses."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuning", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_plan_apply_verify_rollback_round_trip(fake_root: Path, test_profile: str) -> None:
    common = ["--root", str(fake_root), "--profile", test_profile]
    plan = _cli("plan", *common)
    assert plan.returncode == 0, plan.stderr
    assert "change  sysctl vm.swappiness: 60 -> 10" in plan.stdout
    assert _cli("verify", *common).returncode == 1
    applied = _cli("apply", *common, "--json")
    assert applied.returncode == 0, applied.stderr
    assert len(json.loads(applied.stdout)["changed"]) == len(plan.stdout.splitlines()) - 1
    verified = _cli("verify", *common)
    assert verified.returncode == 0, verified.stdout
    assert "verify: passed" in verified.stdout
    rolled = _cli("rollback", "--root", str(fake_root))
    assert rolled.returncode == 0, rolled.stderr
    assert (fake_root / "proc/sys/vm/swappiness").read_text().strip() == "60"
    assert _cli("plan", *common).stdout == plan.stdout


def test_boot_parameters_are_advised_never_applied(fake_root: Path) -> None:
    common = ["--root", str(fake_root), "--profile", "cpu-partitioning", "--var", "isolated_cores=3",
              "--only", "bootcmdline"]
    plan = _cli("plan", *common)
    assert "advise  boot nohz_full: absent -> 3" in plan.stdout
    assert "no boot loader configuration here" in plan.stdout
    (fake_root / "usr/sbin").mkdir(parents=True)
    (fake_root / "usr/sbin/grubby").write_text("")
    plan = _cli("plan", *common)
    assert ("grubby --update-kernel=ALL --args='skew_tick=1 isolcpus=managed_irq,domain,3 "
            "nohz_full=3 rcu_nocbs=3' && reboot") in plan.stdout
    cmdline_before = (fake_root / "proc/cmdline").read_text()
    applied = _cli("apply", *common)
    assert applied.returncode == 0 and "advice  grubby" in applied.stdout
    assert (fake_root / "proc/cmdline").read_text() == cmdline_before
