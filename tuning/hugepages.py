"""[hugepages]: the explicit huge page pool the shared-memory segments are mapped from. Keys name
the page size ("nr_2048kB = 512"). A reservation counts as met when at least that many pages are
reserved; the kernel may grant fewer than asked when memory is fragmented, and apply then fails
and rolls back rather than pretending. Per-NUMA-node pools are left to the kernel's spreading."""
from __future__ import annotations

import re
from collections.abc import Mapping

from tuning.errors import ProfileError
from tuning.filevalue import AtLeastSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_KEY = re.compile(r"^nr_(\d+)kB$")


def _pool_path(key: str) -> str:
    match = _KEY.match(key)
    assert match is not None
    return f"/sys/kernel/mm/hugepages/hugepages-{match.group(1)}kB/nr_hugepages"


class HugepagesSubsystem(Subsystem):
    section = "hugepages"

    def check_key(self, key: str) -> None:
        if not _KEY.match(key):
            raise ProfileError(f"[hugepages] unknown setting {key!r} (expected nr_<size>kB, "
                               "like nr_2048kB)")

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProfileError(f"[hugepages] {key} = {value!r}: expected a page count >= 0")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        out: list[Setting] = []
        for key, value in values.items():
            size = key[3:]
            reason = f"this kernel has no {size} huge page pool"
            out.append(AtLeastSetting(f"hugepages {size}", value, host, _pool_path(key), reason))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        return [f"tune_at_least {shell_quote('hugepages ' + key[3:])} {_pool_path(key)} "
                f"{shell_quote(value)}" for key, value in values.items()]
