"""The settings the kernel-bypass paths want (issue 27), through apply, verify and rollback on the
fake tree like the rest: [netdev] napi_defer_hard_irqs / gro_flush_timeout on every interface but
lo (or the ones named), and [memlock], advice only (a process limit), compared with the limit this
process runs with; bad values are one clear ProfileError."""
from __future__ import annotations

import resource
from pathlib import Path

import pytest

from tests.tuning.faketree import build_tree, snapshot
from tuning.errors import ProfileError
from tuning.runner import Tuner
from tuning.setting import Status

NETS = {f"sys/class/net/{n}/{k}": "0" for n in ("lo", "eth0", "veth7")
        for k in ("napi_defer_hard_irqs", "gro_flush_timeout")}


def _profile(tmp_path: Path, body: str) -> str:
    path = tmp_path / "bypass.toml"
    path.write_text('[main]\nsummary = "bypass test"\n' + body)
    return str(path)


@pytest.fixture
def net_root(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "host", NETS)


def test_netdev_apply_verify_rollback_on_every_interface_but_lo(tmp_path: Path, net_root: Path) -> None:
    prof = _profile(tmp_path, "[netdev]\ndevices = \"*\"\nnapi_defer_hard_irqs = 2\n"
                              "gro_flush_timeout = 200000\n")
    before = snapshot(net_root)
    report = Tuner(prof, str(net_root)).apply()
    assert sorted(c.name for c in report.changed) == [
        "netdev eth0 gro_flush_timeout", "netdev eth0 napi_defer_hard_irqs",
        "netdev veth7 gro_flush_timeout", "netdev veth7 napi_defer_hard_irqs"]
    assert (net_root / "sys/class/net/veth7/napi_defer_hard_irqs").read_text().strip() == "2"
    assert (net_root / "sys/class/net/lo/gro_flush_timeout").read_text().strip() == "0"
    assert all(f.status == Status.OK for f in Tuner(prof, str(net_root)).verify())
    Tuner(prof, str(net_root)).rollback()
    assert snapshot(net_root) == before


def test_netdev_named_devices_only(tmp_path: Path, net_root: Path) -> None:
    prof = _profile(tmp_path, "[netdev]\ndevices = \"veth7\"\nnapi_defer_hard_irqs = 1\n")
    assert [f.name for f in Tuner(prof, str(net_root)).audit()] == ["netdev veth7 napi_defer_hard_irqs"]


@pytest.mark.parametrize("body,match", [
    ("[netdev]\nnapi_defer_hard_irqs = -1\n", r"\[netdev\] napi_defer_hard_irqs = -1: expected an integer >= 0"),
    ("[netdev]\ngro_flush_timeout = \"soon\"\n", r"\[netdev\] gro_flush_timeout = 'soon'"),
    ("[netdev]\ndevices = \" \"\n", r"\[netdev\] devices is empty"),
    ("[netdev]\nnapi_defer = 1\n", r"\[netdev\] unknown setting 'napi_defer'"),
    ("[memlock]\nbytes = -5\n", r"\[memlock\] bytes = -5"),
    ("[memlock]\nbytes = \"lots\"\n", r"\[memlock\] bytes = 'lots'"),
])
def test_bad_bypass_values_are_one_clear_error(tmp_path: Path, net_root: Path, body: str, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        Tuner(_profile(tmp_path, body), str(net_root)).audit()


def test_memlock_is_audited_against_this_process_and_only_advised(tmp_path: Path, net_root: Path) -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft == resource.RLIM_INFINITY:
        enough, short = '"unlimited"', None
    else:
        enough, short = str(soft), str(soft + 4096)
    ok = Tuner(_profile(tmp_path, f"[memlock]\nbytes = {enough}\n"), str(net_root)).audit()
    assert [(f.name, f.status) for f in ok] == [("memlock bytes", Status.OK)]
    if short is None:
        return
    prof = _profile(tmp_path, f"[memlock]\nbytes = {short}\n")
    (finding,) = Tuner(prof, str(net_root)).audit()
    assert finding.status == Status.DIFFERS and "process limit" in finding.reason
    report = Tuner(prof, str(net_root)).apply()
    assert report.changed == [] and any("memlock" in a for a in report.advice)
    assert resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == soft     # never changed by apply
