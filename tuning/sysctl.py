"""[sysctl]: kernel parameters under /proc/sys, named the way sysctl(8) names them. Any name is
accepted if it is well formed; one that is absent here is "not applicable here" with the likely
reason, because a sysctl can exist on one kernel or namespace and not on another."""
from __future__ import annotations

import re
from collections.abc import Mapping

from tuning.errors import ProfileError
from tuning.filevalue import FileSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")

# Sysctls in these tables are registered for the initial network namespace only
# (net/core/sysctl_net_core.c registers net_core_table with register_net_sysctl(&init_net, ...)),
# so a container with its own namespace has no such file at all.
_INIT_NETNS_ONLY = {"net.core.busy_read", "net.core.busy_poll", "net.core.rmem_max",
                    "net.core.wmem_max", "net.core.netdev_budget", "net.core.netdev_budget_usecs",
                    "net.core.netdev_max_backlog", "net.core.rmem_default", "net.core.wmem_default"}


def sysctl_path(name: str) -> str:
    return "/proc/sys/" + name.replace(".", "/")


class SysctlSubsystem(Subsystem):
    section = "sysctl"

    def check_key(self, key: str) -> None:
        if not _NAME.match(key):
            raise ProfileError(f"[sysctl] {key!r} is not a sysctl name (expected dotted lowercase, "
                               "like vm.swappiness)")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        own_netns = _in_own_netns(host)
        out: list[Setting] = []
        for name, wanted in values.items():
            reason = f"sysctl {name} does not exist in this kernel"
            if name in _INIT_NETNS_ONLY and own_netns:
                reason = (f"{name} exists only in the initial network namespace "
                          "(net/core/sysctl_net_core.c) and this process runs in another one")
            out.append(FileSetting(f"sysctl {name}", wanted, host, sysctl_path(name), reason))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        return [f"tune_exact {shell_quote('sysctl ' + name)} {sysctl_path(name)} {shell_quote(value)}"
                for name, value in values.items()]


def _in_own_netns(host: HostRoot) -> bool:
    # Comparing our namespace with pid 1's needs to read /proc/1/ns/net, which an unprivileged
    # process in a container cannot; then we do not claim to know.
    try:
        return bool(host.path("/proc/self/ns/net").readlink() != host.path("/proc/1/ns/net").readlink())
    except OSError:
        return False
