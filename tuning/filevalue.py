"""Settings backed by one procfs or sysfs file, the common case (sysctl, THP, hugepages, cpufreq,
workqueue masks). Each class knows how the kernel prints that kind of file, so the value read
back compares with the value written: whitespace-separated vectors, "[chosen]" menus, hex masks,
and counts where more than wanted is fine."""
from __future__ import annotations

import errno
import os

from tuning.cpulist import format_cpulist, format_cpumask, parse_cpulist, parse_cpumask
from tuning.errors import CannotRead
from tuning.hostroot import HostRoot
from tuning.setting import Setting


class FileSetting(Setting):
    """A file whose whole content is the value; runs of whitespace compare equal (tcp_rmem
    prints tabs, a profile writes spaces)."""

    def __init__(self, name: str, wanted: str, host: HostRoot, path: str,
                 missing_reason: str | None = None) -> None:
        super().__init__(name, " ".join(wanted.split()))
        self.host = host
        self.path = path
        self.missing_reason = missing_reason

    def read(self) -> str:
        return " ".join(self.host.read(self.path, self.missing_reason).split())

    def write(self, value: str) -> str | None:
        self.host.write(self.path, value)
        return None


class ChoiceSetting(FileSetting):
    """A menu file that prints every choice and brackets the live one: "always [madvise] never"."""

    def read(self) -> str:
        text = self.host.read(self.path, self.missing_reason)
        words = text.split()
        for word in words:
            if word.startswith("[") and word.endswith("]"):
                return word[1:-1]
        if len(words) == 1:
            return words[0]  # a copy of the tree (--root) holds just the word last written
        raise CannotRead(f"{self.path}: no [selected] choice in {text!r}")


class MaskSetting(FileSetting):
    """A file holding a hex CPU mask, spoken of as a CPU list ("0-1", not "3") so reports and
    profiles use one notation; compares by the CPUs named, not by zero padding."""

    def __init__(self, name: str, wanted_cpus: str, host: HostRoot, path: str,
                 missing_reason: str | None = None) -> None:
        super().__init__(name, format_cpulist(parse_cpulist(wanted_cpus)), host, path, missing_reason)

    def read(self) -> str:
        text = self.host.read(self.path, self.missing_reason)
        try:
            return format_cpulist(parse_cpumask(text))
        except ValueError as exc:
            raise CannotRead(f"{self.path}: {exc}") from None

    def write(self, value: str) -> str | None:
        self.host.write(self.path, format_cpumask(parse_cpulist(value)))
        return None


class AtLeastSetting(FileSetting):
    """A count where more than wanted is as good (hugepages another user reserved, say). The
    kernel may grant fewer than asked without an error, so write() reads back and says so."""

    def satisfied(self, current: str) -> bool:
        return int(current) >= int(self.wanted)

    def write(self, value: str) -> str | None:
        self.host.write(self.path, value)
        granted = self.read()
        if int(granted) < int(value):
            raise OSError(errno.ENOMEM, f"asked for {value}, the kernel granted {granted}"
                          f" ({os.strerror(errno.ENOMEM)})")
        return None
