"""[workqueue]: where unbound kernel work items may run. Keeping them on the housekeeping cores
keeps writeback and other deferred kernel work off the engine's cores (tuned's cpu-partitioning
does the same through its [sysfs] section). Values are CPU lists; the files take hex masks."""
from __future__ import annotations

from collections.abc import Mapping

from tuning.cpulist import parse_cpulist
from tuning.errors import ProfileError
from tuning.filevalue import MaskSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_PATHS = {"unbound_cpus": "/sys/devices/virtual/workqueue/cpumask",
          "writeback_cpus": "/sys/bus/workqueue/devices/writeback/cpumask"}


class WorkqueueSubsystem(Subsystem):
    section = "workqueue"
    known_keys = {"unbound_cpus": "CPUs unbound workqueues may use",
                  "writeback_cpus": "CPUs the writeback workqueue may use"}

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        out: list[Setting] = []
        for key, value in values.items():
            try:
                parse_cpulist(value)
            except ValueError as exc:
                raise ProfileError(f"[workqueue] {key}: {exc}") from None
            reason = f"{_PATHS[key]} does not exist in this kernel"
            out.append(MaskSetting(f"workqueue {key}", value, host, _PATHS[key], reason))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        return [f"tune_mask {shell_quote('workqueue ' + key)} {_PATHS[key]} "
                f"\"$(cpulist_to_mask {shell_quote(value)})\"" for key, value in values.items()]
