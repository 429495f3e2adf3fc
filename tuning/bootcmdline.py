"""[bootcmdline]: kernel command-line parameters (isolcpus, nohz_full, rcu_nocbs, ...). They take
effect only at boot, so this module checks and advises and never edits the boot loader itself:
plan and apply print the exact command for the boot loader found under the root, verify keeps
reporting "differs" until the host has rebooted with them. Besides the text of /proc/cmdline it
reads what the kernel made of it (/sys/devices/system/cpu/isolated and nohz_full) per core."""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from tuning.cpulist import format_cpulist, parse_cpulist
from tuning.errors import CannotRead, ProfileError
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_ABSENT = "absent"
_PRESENT = "present"
# Parameters whose value ends in a CPU list, optionally after flags ("managed_irq,domain,1-3").
_CPULIST_PARAMS = {"isolcpus", "nohz_full", "rcu_nocbs", "irqaffinity", "kthread_cpus"}
_PARAM = re.compile(r"^[A-Za-z0-9_.\-]+(=\S+)?$")


def parse_cmdline(text: str) -> dict[str, str]:
    """Kernel parameters by name (later ones win, as the kernel's own parsers mostly do); what
    follows " -- " belongs to init and is left out."""
    params: dict[str, str] = {}
    for word in shlex.split(text):
        if word == "--":
            break
        name, sep, value = word.partition("=")
        params[name] = value if sep else _PRESENT
    return params


def _normalise(name: str, value: str) -> str:
    if name not in _CPULIST_PARAMS or value in (_ABSENT, _PRESENT):
        return value
    parts = value.split(",")
    flags = [p for p in parts if p and not p[0].isdigit()]
    cpus = ",".join(p for p in parts if p and p[0].isdigit())
    try:
        return ",".join(sorted(flags) + [format_cpulist(parse_cpulist(cpus))])
    except ValueError:
        return value


def boot_loader_advice(host: HostRoot, params: list[str]) -> str:
    """The exact command that adds ``params`` for the boot loader found under the root."""
    joined = " ".join(params)
    for grubby in ("/usr/sbin/grubby", "/sbin/grubby", "/usr/bin/grubby"):
        if host.exists(grubby):
            return f"grubby --update-kernel=ALL --args={shlex.quote(joined)} && reboot"
    if host.exists("/etc/default/grub"):
        update = ("update-grub" if host.exists("/usr/sbin/update-grub")
                  else "grub2-mkconfig -o /boot/grub2/grub.cfg")
        sed = f"s/^GRUB_CMDLINE_LINUX=\"/&{joined} /"
        return f"sed -i {shlex.quote(sed)} /etc/default/grub && {update} && reboot"
    if host.exists("/etc/kernel/cmdline"):
        return (f"sed -i {shlex.quote('s/$/ ' + joined + '/')} /etc/kernel/cmdline && "
                "kernel-install add \"$(uname -r)\" /lib/modules/\"$(uname -r)\"/vmlinuz && reboot")
    return ("no boot loader configuration here (no grubby, /etc/default/grub or /etc/kernel/cmdline;"
            " a VM booted directly by its hypervisor takes its command line from the VM "
            f"configuration, e.g. Firecracker's boot_args): add {joined!r} there and restart the VM")


class BootParamSetting(Setting):
    advisory = True

    def __init__(self, param: str, wanted: str, host: HostRoot, group: list[str]) -> None:
        super().__init__(f"boot {param}", _normalise(param, wanted))
        self.param = param
        self.host = host
        self.group = group  # every parameter the profile wants, for one combined command

    def read(self) -> str:
        params = parse_cmdline(self.host.read("/proc/cmdline", "this host has no /proc/cmdline"))
        return _normalise(self.param, params.get(self.param, _ABSENT))

    def problem(self, current: str) -> str:
        return f"kernel command line has {self.param}={current}, profile wants {self.wanted}"

    def advice(self) -> str:
        return boot_loader_advice(self.host, self.group)


class _CpuListFileMember(Setting):
    """Whether one core appears in a kernel-maintained CPU list file (isolated, nohz_full)."""

    advisory = True

    def __init__(self, name: str, cpu: int, host: HostRoot, path: str, word: str,
                 group: list[str], missing_reason: str) -> None:
        super().__init__(name, word)
        self.cpu = cpu
        self.host = host
        self.path = path
        self.word = word
        self.group = group
        self.missing_reason = missing_reason

    def read(self) -> str:
        text = self.host.read(self.path, self.missing_reason)
        try:
            return self.word if self.cpu in parse_cpulist(text) else f"not {self.word}"
        except ValueError as exc:
            raise CannotRead(f"{self.path}: {exc}") from None

    def problem(self, current: str) -> str:
        return f"core {self.cpu} is {current}"

    def advice(self) -> str:
        return boot_loader_advice(self.host, self.group)


class BootCmdlineSubsystem(Subsystem):
    section = "bootcmdline"

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        for key, value in values.items():
            for word in str(value).split():
                if not _PARAM.match(word.replace("${", "").replace("}", "")):
                    raise ProfileError(f"[bootcmdline] {key}: {word!r} is not a kernel parameter")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        words = [w for value in values.values() for w in value.split()]
        wanted: dict[str, str] = {}
        for word in words:
            name, sep, value = word.partition("=")
            wanted[name] = value if sep else _PRESENT
        group = [f"{n}={v}" if v != _PRESENT else n for n, v in wanted.items()]
        out: list[Setting] = [BootParamSetting(n, v, host, group) for n, v in wanted.items()]
        for param, path, word in (("isolcpus", "/sys/devices/system/cpu/isolated", "isolated"),
                                  ("nohz_full", "/sys/devices/system/cpu/nohz_full", "nohz_full")):
            if param not in wanted:
                continue
            cpus_text = wanted[param].split(",")
            cpus = parse_cpulist(",".join(p for p in cpus_text if p[:1].isdigit()))
            for cpu in sorted(cpus):
                reason = (f"{path} does not exist (kernel built without "
                          f"{'CONFIG_NO_HZ_FULL' if param == 'nohz_full' else 'CPU isolation'})")
                out.append(_CpuListFileMember(f"core {cpu} {word}", cpu, host, path, word, group, reason))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        words = " ".join(values.values())
        return [f"check_boot_params {shell_quote(words)}"]

