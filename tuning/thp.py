"""[thp]: transparent huge pages. The venue maps its segments on explicit hugetlbfs pages (see
[hugepages]); THP only adds khugepaged scans and compaction stalls on top, so the profiles turn it
off or confine it to madvise. Values are the kernel's menu words."""
from __future__ import annotations

from collections.abc import Mapping

from tuning.errors import ProfileError
from tuning.filevalue import ChoiceSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_DIR = "/sys/kernel/mm/transparent_hugepage"
_CHOICES = {"enabled": ("always", "madvise", "never"),
            "defrag": ("always", "defer", "defer+madvise", "madvise", "never")}


class ThpSubsystem(Subsystem):
    section = "thp"
    known_keys = {"enabled": "THP policy: always, madvise or never",
                  "defrag": "when a THP fault may stall on compaction"}

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        for key, value in values.items():
            if value not in _CHOICES[key]:
                raise ProfileError(f"[thp] {key} = {value!r}: expected one of {', '.join(_CHOICES[key])}")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        reason = "this kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE off)"
        return [ChoiceSetting(f"thp {key}", value, host, f"{_DIR}/{key}", reason)
                for key, value in values.items()]

    def shell(self, values: Mapping[str, str]) -> list[str]:
        return [f"tune_choice {shell_quote('thp ' + key)} {_DIR}/{key} {shell_quote(value)}"
                for key, value in values.items()]
