"""[nic]: interrupt coalescing and receive offloads of physical NICs, through the same SIOCETHTOOL
ioctls ethtool(8) uses (include/uapi/linux/ethtool.h), so no ethtool binary is needed. These act
on the live kernel's devices: under a --root copy of the tree they are "not applicable here".
Only devices with a /sys/class/net/X/device link count as NICs (lo, bridges, veth, ifb do not)."""
from __future__ import annotations

import array
import errno
import fcntl
import os
import socket
import struct
from collections.abc import Mapping

from tuning.errors import CannotRead, NotApplicableHere, ProfileError
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem, shell_quote

_SIOCETHTOOL = 0x8946
_ETHTOOL_GCOALESCE, _ETHTOOL_SCOALESCE = 0x0E, 0x0F
_ETHTOOL_GGRO, _ETHTOOL_SGRO = 0x2B, 0x2C
_ETHTOOL_GFLAGS, _ETHTOOL_SFLAGS = 0x25, 0x26
_ETH_FLAG_LRO = 1 << 15
# struct ethtool_coalesce: cmd followed by 22 __u32 fields; the ones we manage, by index.
_COALESCE_WORDS = 23
_COALESCE_FIELDS = {"rx_usecs": 1, "tx_usecs": 5, "adaptive_rx": 10, "adaptive_tx": 11}
_ETHTOOL_NAMES = {"rx_usecs": "rx-usecs", "tx_usecs": "tx-usecs", "adaptive_rx": "adaptive-rx",
                  "adaptive_tx": "adaptive-tx", "gro": "gro", "lro": "lro"}


def _ethtool(ifname: str, buf: array.array) -> None:  # type: ignore[type-arg]
    address, _ = buf.buffer_info()
    ifreq = struct.pack("16sP", ifname.encode(), address).ljust(40, b"\0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock.fileno(), _SIOCETHTOOL, ifreq)


class NicSetting(Setting):
    def __init__(self, ifname: str, driver: str, key: str, wanted: str) -> None:
        super().__init__(f"nic {ifname} {key}", wanted)
        self.ifname = ifname
        self.driver = driver
        self.key = key

    def _call(self, words: list[int], verb: str) -> array.array:  # type: ignore[type-arg]
        buf = array.array("I", words)
        try:
            _ethtool(self.ifname, buf)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL) and verb == "get":
                raise NotApplicableHere(f"driver {self.driver} of {self.ifname} does not support "
                                        f"{_ETHTOOL_NAMES[self.key]}") from None
            if exc.errno == errno.ENODEV:
                raise NotApplicableHere(f"{self.ifname} disappeared") from None
            if exc.errno in (errno.EPERM, errno.EACCES) and verb == "get":
                raise CannotRead(f"ethtool ioctl on {self.ifname}: permission denied") from None
            raise
        return buf

    def read(self) -> str:
        if self.key in _COALESCE_FIELDS:
            buf = self._call([_ETHTOOL_GCOALESCE] + [0] * (_COALESCE_WORDS - 1), "get")
            return str(buf[_COALESCE_FIELDS[self.key]])
        if self.key == "gro":
            return str(self._call([_ETHTOOL_GGRO, 0], "get")[1])
        flags = self._call([_ETHTOOL_GFLAGS, 0], "get")[1]
        return str(int(bool(flags & _ETH_FLAG_LRO)))

    def write(self, value: str) -> str | None:
        if self.key in _COALESCE_FIELDS:
            buf = self._call([_ETHTOOL_GCOALESCE] + [0] * (_COALESCE_WORDS - 1), "get")
            buf[0] = _ETHTOOL_SCOALESCE
            buf[_COALESCE_FIELDS[self.key]] = int(value)
            self._call(list(buf), "set")
        elif self.key == "gro":
            self._call([_ETHTOOL_SGRO, int(value)], "set")
        else:
            flags = self._call([_ETHTOOL_GFLAGS, 0], "get")[1]
            flags = flags | _ETH_FLAG_LRO if value == "1" else flags & ~_ETH_FLAG_LRO
            self._call([_ETHTOOL_SFLAGS, flags], "set")
        return None


class _NotHere(Setting):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, "")
        self.reason = reason

    def read(self) -> str:
        raise NotApplicableHere(self.reason)


def physical_nics(host: HostRoot) -> list[tuple[str, str]]:
    """(interface, driver) for every interface backed by a device."""
    out: list[tuple[str, str]] = []
    for path in host.glob("/sys/class/net/*"):
        name = path.rsplit("/", 1)[1]
        if not host.exists(f"{path}/device"):
            continue
        driver_link = host.path(f"{path}/device/driver")
        driver = os.path.basename(os.readlink(driver_link)) if driver_link.is_symlink() else "unknown"
        out.append((name, driver))
    return out


class NicSubsystem(Subsystem):
    section = "nic"
    known_keys = {"devices": "space-separated interface names, or * for every physical NIC",
                  "rx_usecs": "rx interrupt coalescing delay (0 = interrupt per packet)",
                  "tx_usecs": "tx completion coalescing delay",
                  "adaptive_rx": "adaptive rx coalescing on/off (true/false)",
                  "adaptive_tx": "adaptive tx coalescing on/off (true/false)",
                  "gro": "generic receive offload on/off (true/false)",
                  "lro": "large receive offload on/off (true/false)"}

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        for key in ("rx_usecs", "tx_usecs"):
            value = values.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ProfileError(f"[nic] {key} = {value!r}: expected microseconds >= 0")
        for key in ("adaptive_rx", "adaptive_tx", "gro", "lro"):
            if key in values and not isinstance(values[key], bool):
                raise ProfileError(f"[nic] {key} = {values[key]!r}: expected true or false")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        keys = [k for k in values if k != "devices"]
        if not host.is_live:
            return [_NotHere("nic", "ethtool settings act on the live kernel's devices, not on a "
                                    f"tree under {host.root}")]
        nics = physical_nics(host)
        wanted_names = values.get("devices", "*").split()
        if wanted_names != ["*"]:
            nics = [n for n in nics if n[0] in wanted_names]
        if not nics:
            return [_NotHere("nic", "no physical NIC on this host (only virtual interfaces)")]
        return [NicSetting(name, driver, key, values[key]) for name, driver in nics for key in keys]

    def shell(self, values: Mapping[str, str]) -> list[str]:
        devices = values.get("devices", "*")
        args = " ".join(f"{_ETHTOOL_NAMES[k]} {shell_quote(v)}" for k, v in values.items()
                        if k != "devices")
        return [f"tune_nics {shell_quote(devices)} {args}"]
