"""[irq]: interrupt affinity. Every movable IRQ and the default affinity for new ones go to the
housekeeping CPUs, and irqbalance (when installed) is told to leave the engine's cores alone, or
it would move them back. Some IRQs cannot move by design: the kernel answers EIO for managed and
per-CPU interrupts (kernel/irq/proc.c, write_irq_affinity via irq_can_set_affinity_usr); apply
records those as refused by the kernel instead of failing."""
from __future__ import annotations

import errno
import re
from collections.abc import Mapping

from tuning.cpulist import format_cpulist, parse_cpulist
from tuning.errors import CannotRead, NotApplicableHere, ProfileError, RefusedByKernel
from tuning.filevalue import MaskSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_IRQBALANCE_CONFIGS = ("/etc/sysconfig/irqbalance", "/etc/default/irqbalance")
_BANNED_KEY = "IRQBALANCE_BANNED_CPULIST"
_UNSET = "unset"


class IrqAffinitySetting(Setting):
    """/proc/irq/N/smp_affinity_list, compared as a set of CPUs."""

    def __init__(self, irq: str, wanted_cpus: frozenset[int], host: HostRoot) -> None:
        super().__init__(f"irq {irq} affinity", format_cpulist(wanted_cpus))
        self.irq = irq
        self.host = host
        self.path = f"/proc/irq/{irq}/smp_affinity_list"

    def read(self) -> str:
        text = self.host.read(self.path, f"IRQ {self.irq} disappeared")
        try:
            return format_cpulist(parse_cpulist(text))
        except ValueError as exc:
            raise CannotRead(f"{self.path}: {exc}") from None

    def write(self, value: str) -> str | None:
        try:
            self.host.write(self.path, value)
        except OSError as exc:
            if exc.errno == errno.EIO:
                raise RefusedByKernel(f"the kernel will not move IRQ {self.irq} (managed or "
                                      "per-CPU interrupt: irq_can_set_affinity_usr() in "
                                      "kernel/irq/proc.c answers EIO)") from None
            raise
        return None

    def problem(self, current: str) -> str:
        return f"irq {self.irq} may run on CPUs {current}, profile wants {self.wanted}"


class IrqbalanceBannedSetting(Setting):
    """The IRQBALANCE_BANNED_CPULIST line of irqbalance's environment file. irqbalance reads it
    at start, so a change takes effect after `systemctl restart irqbalance`."""

    def __init__(self, wanted: str, host: HostRoot) -> None:
        super().__init__("irqbalance banned cpus", wanted)
        self.host = host

    def _config(self) -> str:
        for path in _IRQBALANCE_CONFIGS:
            if self.host.exists(path):
                return path
        raise NotApplicableHere("irqbalance is not installed (no /etc/sysconfig/irqbalance or "
                                "/etc/default/irqbalance)")

    def read(self) -> str:
        text = self.host.read(self._config())
        for line in text.splitlines():
            match = re.match(rf"^\s*{_BANNED_KEY}\s*=\s*\"?([^\"#]*)\"?", line)
            if match:
                return format_cpulist(parse_cpulist(match.group(1)))
        return _UNSET

    def satisfied(self, current: str) -> bool:
        return current != _UNSET and parse_cpulist(current) == parse_cpulist(self.wanted)

    def write(self, value: str) -> str | None:
        path = self._config()
        lines = self.host.path(path).read_text().splitlines()
        kept = [line for line in lines if not re.match(rf"^\s*{_BANNED_KEY}\s*=", line)]
        if value != _UNSET:
            kept.append(f'{_BANNED_KEY}="{value}"')
        self.host.write(path, "\n".join(kept) + "\n")
        return None

    def advice(self) -> str:
        return "restart irqbalance (systemctl restart irqbalance) for the banned list to apply"


class IrqSubsystem(Subsystem):
    section = "irq"
    known_keys = {"affinity": "CPU list every movable IRQ is pinned to (the housekeeping cores)",
                  "default_affinity": "CPU list new IRQs start on",
                  "irqbalance_banned_cpus": "CPU list irqbalance must never use"}

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        out: list[Setting] = []
        parsed: dict[str, frozenset[int]] = {}
        for key, value in values.items():
            try:
                parsed[key] = parse_cpulist(value)
            except ValueError as exc:
                raise ProfileError(f"[irq] {key}: {exc}") from None
        if "affinity" in parsed:
            for irq_dir in host.glob("/proc/irq/[0-9]*"):
                if host.exists(f"{irq_dir}/smp_affinity_list"):
                    out.append(IrqAffinitySetting(irq_dir.rsplit("/", 1)[1], parsed["affinity"], host))
        if "default_affinity" in parsed:
            out.append(MaskSetting("irq default affinity", format_cpulist(parsed["default_affinity"]),
                                   host, "/proc/irq/default_smp_affinity",
                                   "this kernel has no /proc/irq/default_smp_affinity"))
        if "irqbalance_banned_cpus" in parsed:
            out.append(IrqbalanceBannedSetting(format_cpulist(parsed["irqbalance_banned_cpus"]), host))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        lines: list[str] = []
        if "affinity" in values:
            lines.append(f"for f in /proc/irq/[0-9]*/smp_affinity_list; do "
                         f"tune_irq \"$f\" {shell_quote(values['affinity'])}; done")
        if "default_affinity" in values:
            lines.append(f"tune_mask \"irq default affinity\" /proc/irq/default_smp_affinity "
                         f"\"$(cpulist_to_mask {shell_quote(values['default_affinity'])})\"")
        if "irqbalance_banned_cpus" in values:
            lines.append(f"tune_irqbalance {shell_quote(values['irqbalance_banned_cpus'])}")
        return lines
