"""[netdev]: per-interface NAPI settings that busy polling wants (Documentation/networking/napi.rst,
"Busy polling" and "IRQ mitigation"): with SO_PREFER_BUSY_POLL (the gateway's --prefer-busy-poll),
napi_defer_hard_irqs > 0 keeps the device's interrupts masked for that many empty polls and
gro_flush_timeout (ns) is the timer that re-arms them if the application stops polling, so the
busy-polling thread, not an interrupt, drives the receive queue. Plain sysfs files under
/sys/class/net/IFACE/, on every interface but loopback (veth and virtual devices have them too,
and the AF_XDP feed path here is a veth), or on the ones named."""
from __future__ import annotations

from collections.abc import Mapping

from tuning.errors import ProfileError
from tuning.filevalue import FileSetting
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_KEYS = ("napi_defer_hard_irqs", "gro_flush_timeout")


def interfaces(host: HostRoot, wanted: list[str]) -> list[str]:
    """Every interface but lo (wanted == ['*']), or those of `wanted` that exist."""
    names = sorted(p.rsplit("/", 1)[1] for p in host.glob("/sys/class/net/*"))
    if wanted == ["*"]:
        return [n for n in names if n != "lo"]
    return [n for n in names if n in wanted]


class NetdevSubsystem(Subsystem):
    section = "netdev"
    known_keys = {"devices": "space-separated interface names, or * for every interface but lo",
                  "napi_defer_hard_irqs": "empty NAPI polls before the device's IRQ is re-armed "
                                          "(busy polling with SO_PREFER_BUSY_POLL: > 0)",
                  "gro_flush_timeout": "ns before a deferred IRQ is re-armed anyway (> 0 with "
                                       "napi_defer_hard_irqs)"}

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        for key in _KEYS:
            value = values.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ProfileError(f"[netdev] {key} = {value!r}: expected an integer >= 0")
        if "devices" in values and not str(values["devices"]).split():
            raise ProfileError("[netdev] devices is empty: name interfaces, or * for all but lo")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        names = interfaces(host, values.get("devices", "*").split())
        out: list[Setting] = []
        for name in names:
            for key in _KEYS:
                if key in values:
                    out.append(FileSetting(f"netdev {name} {key}", values[key], host,
                                           f"/sys/class/net/{name}/{key}",
                                           f"{name} has no {key} (Linux < 5.10 for "
                                           "napi_defer_hard_irqs)"))
        return out

    def shell(self, values: Mapping[str, str]) -> list[str]:
        devices = values.get("devices", "*")
        lines = [f"for netdev in /sys/class/net/*; do",
                 f"  n=$(basename \"$netdev\"); [ \"$n\" = lo ] && [ {shell_quote(devices)} = \"*\" ] && continue",
                 f"  [ {shell_quote(devices)} = \"*\" ] || case \" {devices} \" in *\" $n \"*) ;; *) continue ;; esac"]
        for key in _KEYS:
            if key in values:
                lines.append(f"  tune_exact \"netdev $n {key}\" \"$netdev/{key}\" {shell_quote(values[key])}")
        lines.append("done")
        return lines
