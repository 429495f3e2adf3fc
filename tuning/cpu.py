"""[cpu]: frequency policy of every online CPU: cpufreq governor, energy-performance bias and
preference, and turbo boost. A VM or container often has no cpufreq driver at all; then each
setting is "not applicable here" with that reason, never "differs". The C-state side of tuned's
[cpu] plugin (force_latency) lives in tuning/dma_latency.py."""
from __future__ import annotations

from collections.abc import Mapping

from tuning.cpulist import parse_cpulist
from tuning.errors import CannotRead, NotApplicableHere, ProfileError
from tuning.filevalue import FileSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_CPU_DIR = "/sys/devices/system/cpu"
# Names the kernel accepts for energy_perf_bias and the numbers it prints back
# (arch/x86/kernel/cpu/intel_epb.c, energy_perf_strings / epb_userspace_policy).
_EPB_NAMES = {"performance": "0", "balance-performance": "4", "normal": "6",
              "balance-power": "8", "power": "15"}


def online_cpus(host: HostRoot) -> frozenset[int]:
    """CPUs the kernel reports online. Raises NotApplicableHere or CannotRead."""
    text = host.read(f"{_CPU_DIR}/online", "this host has no /sys/devices/system/cpu/online")
    try:
        return parse_cpulist(text)
    except ValueError as exc:
        raise CannotRead(f"{_CPU_DIR}/online: {exc}") from None


def _no_cpufreq_reason(host: HostRoot) -> str:
    if not host.exists(f"{_CPU_DIR}/cpufreq") or not host.glob(f"{_CPU_DIR}/cpufreq/policy*"):
        return "there is no cpufreq driver on this host (no cpufreq policy; typical of a VM)"
    return "this CPU has no cpufreq policy"


class _BoostSetting(Setting):
    """Turbo: acpi-cpufreq and amd-pstate expose cpufreq/boost (1 = on); intel_pstate exposes
    no_turbo (1 = off). The profile speaks of boost on/off either way."""

    def __init__(self, wanted: str, host: HostRoot) -> None:
        super().__init__("cpu boost", wanted)
        self.host = host

    def _file(self) -> tuple[str, bool]:
        if self.host.exists(f"{_CPU_DIR}/cpufreq/boost"):
            return f"{_CPU_DIR}/cpufreq/boost", False
        if self.host.exists(f"{_CPU_DIR}/intel_pstate/no_turbo"):
            return f"{_CPU_DIR}/intel_pstate/no_turbo", True
        raise NotApplicableHere("no boost control (neither cpufreq/boost nor intel_pstate/no_turbo):"
                                " " + _no_cpufreq_reason(self.host))

    def read(self) -> str:
        path, inverted = self._file()
        raw = self.host.read(path)
        if raw not in ("0", "1"):
            raise CannotRead(f"{path}: unexpected value {raw!r}")
        return str(int(raw == "0")) if inverted else raw

    def write(self, value: str) -> str | None:
        path, inverted = self._file()
        self.host.write(path, str(int(value == "0")) if inverted else value)
        return None


class CpuSubsystem(Subsystem):
    section = "cpu"
    known_keys = {"governor": "cpufreq scaling governor for every online CPU",
                  "energy_perf_bias": "x86 EPB: performance, balance-performance, normal, "
                                      "balance-power, power or 0-15",
                  "energy_performance_preference": "HWP EPP string, like performance",
                  "boost": "turbo boost on (true) or off (false)"}

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        epb = values.get("energy_perf_bias")
        if epb is not None and str(epb) not in _EPB_NAMES and not (
                str(epb).isdigit() and 0 <= int(str(epb)) <= 15):
            raise ProfileError(f"[cpu] energy_perf_bias = {epb!r}: expected a name "
                               f"({', '.join(_EPB_NAMES)}) or 0-15")
        if "boost" in values and not isinstance(values["boost"], bool):
            raise ProfileError(f"[cpu] boost = {values['boost']!r}: expected true or false")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        out: list[Setting] = []
        try:
            cpus = sorted(online_cpus(host))
        except (NotApplicableHere, CannotRead):
            cpus = []
        no_freq = _no_cpufreq_reason(host)
        for cpu in cpus:
            base = f"{_CPU_DIR}/cpu{cpu}"
            if "governor" in values:
                out.append(FileSetting(f"cpu{cpu} governor", values["governor"], host,
                                       f"{base}/cpufreq/scaling_governor", no_freq))
            if "energy_perf_bias" in values:
                wanted = _EPB_NAMES.get(values["energy_perf_bias"], values["energy_perf_bias"])
                out.append(FileSetting(f"cpu{cpu} energy_perf_bias", wanted, host,
                                       f"{base}/power/energy_perf_bias",
                                       "this CPU exposes no energy_perf_bias (not an Intel CPU with "
                                       "EPB, or a VM that hides it)"))
            if "energy_performance_preference" in values:
                out.append(FileSetting(f"cpu{cpu} energy_performance_preference",
                                       values["energy_performance_preference"], host,
                                       f"{base}/cpufreq/energy_performance_preference",
                                       "no energy_performance_preference (needs a HWP-capable "
                                       "driver such as intel_pstate or amd-pstate): " + no_freq))
        if "boost" in values:
            out.append(_BoostSetting(values["boost"], host))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        lines: list[str] = []
        if "governor" in values:
            lines.append(f"for f in {_CPU_DIR}/cpu[0-9]*/cpufreq/scaling_governor; do "
                         f"tune_exact \"governor $f\" \"$f\" {shell_quote(values['governor'])}; done")
        if "energy_perf_bias" in values:
            wanted = _EPB_NAMES.get(values["energy_perf_bias"], values["energy_perf_bias"])
            lines.append(f"for f in {_CPU_DIR}/cpu[0-9]*/power/energy_perf_bias; do "
                         f"tune_exact \"energy_perf_bias $f\" \"$f\" {shell_quote(wanted)}; done")
        if "energy_performance_preference" in values:
            epp = shell_quote(values["energy_performance_preference"])
            lines.append(f"for f in {_CPU_DIR}/cpu[0-9]*/cpufreq/energy_performance_preference; do "
                         f"tune_exact \"energy_performance_preference $f\" \"$f\" {epp}; done")
        if "boost" in values:
            on = values["boost"]
            off = "0" if on == "1" else "1"
            lines.append(f"tune_exact \"cpu boost\" {_CPU_DIR}/cpufreq/boost {shell_quote(on)}")
            lines.append(f"tune_exact \"cpu boost (intel_pstate no_turbo)\" "
                         f"{_CPU_DIR}/intel_pstate/no_turbo {shell_quote(off)}")
        return lines
