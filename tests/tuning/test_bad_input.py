"""Bad input gives one clear error: unknown profile, malformed or wrong profile files, unknown
setting names, failed variable assertions, and state files from another host or boot."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.tuning.faketree import TEST_PROFILE

from tuning.errors import ProfileError, StateError, UnknownSettingError
from tuning.runner import Tuner

REPO = Path(__file__).resolve().parents[2]


def _profile(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return str(path)


def test_unknown_profile_names_the_available_ones(fake_root: Path) -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'nosuch' \(available: cpu-partitioning"):
        Tuner("nosuch", str(fake_root))


def test_malformed_toml_names_the_file(tmp_path: Path, fake_root: Path) -> None:
    with pytest.raises(ProfileError, match=r"bad.toml: malformed TOML"):
        Tuner(_profile(tmp_path, "[sysctl\nvm.swappiness = 1\n"), str(fake_root))


def test_unknown_section_and_unknown_key_are_refused(tmp_path: Path, fake_root: Path) -> None:
    with pytest.raises(ProfileError, match=r"unknown section \[sysfs\]"):
        Tuner(_profile(tmp_path, "[sysfs]\na = 1\n"), str(fake_root))
    with pytest.raises(ProfileError, match=r"\[thp\] unknown setting 'enable'"):
        Tuner(_profile(tmp_path, "[thp]\nenable = \"never\"\n"), str(fake_root))
    with pytest.raises(ProfileError, match=r"\[thp\] enabled = 'sometimes'"):
        Tuner(_profile(tmp_path, "[thp]\nenabled = \"sometimes\"\n"), str(fake_root))
    with pytest.raises(ProfileError, match=r"not a sysctl name"):
        Tuner(_profile(tmp_path, "[sysctl]\n\"VM swappiness\" = 1\n"), str(fake_root))


def test_undefined_variable_is_named(tmp_path: Path, fake_root: Path) -> None:
    with pytest.raises(ProfileError, match=r"undefined variable \$\{engine_core\}"):
        Tuner(_profile(tmp_path, "[irq]\naffinity = \"${engine_core}\"\n"), str(fake_root))


def test_isolated_cores_assertions_refuse_offline_and_all_cpus(test_profile: str, fake_root: Path) -> None:
    with pytest.raises(ProfileError, match=r"names CPU\(s\) 7 that are not online"):
        Tuner(test_profile, str(fake_root), variables={"isolated_cores": "3,7"})
    with pytest.raises(ProfileError, match=r"must leave at least one online CPU"):
        Tuner(test_profile, str(fake_root), variables={"isolated_cores": "0-3"})
    with pytest.raises(ProfileError, match=r"isolated_cores must name at least one CPU"):
        Tuner("cpu-partitioning", str(fake_root))


def test_unknown_setting_name_suggests_close_ones(test_profile: str, fake_root: Path) -> None:
    with pytest.raises(UnknownSettingError, match=r"unknown setting 'vm.swapiness'.*vm.swappiness"):
        Tuner(test_profile, str(fake_root), only=["vm.swapiness"])


def test_state_file_from_another_host_is_refused(test_profile: str, fake_root: Path) -> None:
    Tuner(test_profile, str(fake_root)).apply()
    (fake_root / "etc/machine-id").write_text("ffffffffffffffffffffffffffffffff\n")
    (fake_root / "proc/sys/kernel/hostname").write_text("otherhost\n")
    with pytest.raises(StateError, match=r"belongs to host testhost .* this is otherhost"):
        Tuner.for_rollback(str(fake_root))
    with pytest.raises(StateError, match=r"belongs to host testhost"):
        Tuner(test_profile, str(fake_root)).apply()


def test_state_file_from_an_earlier_boot_is_refused(test_profile: str, fake_root: Path) -> None:
    Tuner(test_profile, str(fake_root)).apply()
    (fake_root / "proc/sys/kernel/random/boot_id").write_text("99999999-0000-0000-0000-000000000000\n")
    with pytest.raises(StateError, match=r"written during boot 11111111.*this is boot 99999999"):
        Tuner.for_rollback(str(fake_root))


def test_damaged_or_foreign_state_file_is_refused(test_profile: str, fake_root: Path) -> None:
    state = fake_root / "var/lib/venue-tuning/state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{not json")
    with pytest.raises(StateError, match=r"is damaged"):
        Tuner.for_rollback(str(fake_root))
    state.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(StateError, match=r"is not a tuning state file"):
        Tuner.for_rollback(str(fake_root))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuning", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["audit", "--profile", "nosuch"], "unknown profile 'nosuch'"),
    (["audit", "--only", "no.such.setting"], "unknown setting 'no.such.setting'"),
    (["audit", "--var", "isolated_cores=99"], "not online"),
    (["rollback", "--state-file", "/nonexistent/state.json"], "nothing to roll back"),
    (["measure", "--samples", "0"], "expected a positive integer"),
    (["frobnicate"], "invalid choice"),
    # qa4: a /dev/cpu_dma_latency value above the kernel's s32 was a struct.error traceback
    (["hold-dma-latency", "--value-us", "99999999999"], "expected an integer 0..2147483647"),
    (["measure", "--dma-latency-us", "99999999999"], "expected an integer 0..2147483647"),
    # qa5: no upper bound (4294967296 an OverflowError traceback in the C probe, less a run of hours)
    (["measure", "--samples", "4294967296"], "expected a positive integer up to 10,000,000, got '4294967296'"),
    (["measure", "--rounds", "101"], "expected a positive integer up to 100, got '101'"),
])
def test_cli_bad_input_is_one_message_and_nonzero_exit(args: list[str], message: str) -> None:
    done = _cli(*args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr      # usage errors too: no usage block


def test_cli_binary_profile_and_state_files_and_a_directory_for_a_profile(tmp_path: Path) -> None:
    """A binary profile or state file was a UnicodeDecodeError traceback; a directory given as the
    profile was said not to exist."""
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(128, 256)))
    done = _cli("verify", "--profile", str(binary))
    assert done.returncode == 2 and "not UTF-8 text" in done.stderr and "Traceback" not in done.stderr
    done = _cli("rollback", "--state-file", str(binary), "--root", str(tmp_path))
    assert done.returncode == 2 and "is not a tuning state file (not UTF-8 text)" in done.stderr
    assert "Traceback" not in done.stderr
    done = _cli("verify", "--profile", str(tmp_path) + "/")
    assert done.returncode == 2 and "is not a regular file" in done.stderr


def test_cli_malformed_profile_file(tmp_path: Path) -> None:
    done = _cli("verify", "--profile", _profile(tmp_path, TEST_PROFILE.replace("[thp]", "[thp")))
    assert done.returncode == 2
    assert "malformed TOML" in done.stderr and "Traceback" not in done.stderr


def test_apply_on_the_live_host_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuning.errors import PrivilegeError

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(PrivilegeError, match="needs root"):
        Tuner("latency-performance").apply()
