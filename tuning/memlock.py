"""[memlock]: the locked-memory limit (RLIMIT_MEMLOCK) the venue's processes need: an AF_XDP
socket's UMEM is pinned and, on kernels before 5.11 and for processes without CAP_IPC_LOCK,
charged to it (the feed's default UMEM is 4096 frames x 2 KiB = 8 MiB), as are io_uring's
registered buffers before 5.12 (the gateway's registered send buffers: 32 KiB per connection).
A limit belongs to a process and its children, set at login (pam_limits) or by the service
manager, so this is advice like [bootcmdline]: audit compares the limit this tool runs with (as the
venue would, started from the same shell or unit) against the profile's, and plan/apply print how
to raise it; apply never edits limits.conf or units itself."""
from __future__ import annotations

import resource
from collections.abc import Mapping

from tuning.errors import ProfileError
from tuning.hostroot import HostRoot
from tuning.setting import Setting, Subsystem

UNLIMITED = "unlimited"


def _text(limit: int) -> str:
    return UNLIMITED if limit == resource.RLIM_INFINITY else str(limit)


class MemlockSetting(Setting):
    advisory = True
    advisory_reason = "a process limit: apply only advises, `plan` prints how to raise it"

    def __init__(self, wanted: str, host: HostRoot) -> None:
        super().__init__("memlock bytes", wanted)
        self.host = host

    def read(self) -> str:
        soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
        return _text(soft)

    def satisfied(self, current: str) -> bool:
        if current == UNLIMITED:
            return True
        return self.wanted != UNLIMITED and int(current) >= int(self.wanted)

    def problem(self, current: str) -> str:
        return (f"RLIMIT_MEMLOCK is {current} bytes, profile wants at least {self.wanted} "
                "(AF_XDP UMEM, io_uring registered buffers)")

    def advice(self) -> str:
        kib = UNLIMITED if self.wanted == UNLIMITED else str(int(self.wanted) // 1024)
        return (f"echo '* - memlock {kib}' > /etc/security/limits.d/90-venue-memlock.conf and log in "
                f"again (KiB), or LimitMEMLOCK={self.wanted} in the venue's systemd unit, or "
                f"`ulimit -l {kib}` in the shell that starts it")


class MemlockSubsystem(Subsystem):
    section = "memlock"
    known_keys = {"bytes": "least RLIMIT_MEMLOCK the venue's processes should run with, or "
                           "\"unlimited\""}

    def validate(self, values: Mapping[str, object]) -> None:
        super().validate(values)
        value = values.get("bytes")
        if value is None:
            return
        if value != UNLIMITED and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ProfileError(f"[memlock] bytes = {value!r}: expected bytes >= 0 or \"unlimited\"")

    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        return [MemlockSetting(values["bytes"], host)] if "bytes" in values else []

    def shell(self, values: Mapping[str, str]) -> list[str]:
        if "bytes" not in values:
            return []
        want = values["bytes"]
        kib = UNLIMITED if want == UNLIMITED else str(int(want) // 1024)
        check = ('[ "$cur" = unlimited ]' if kib == UNLIMITED
                 else f'[ "$cur" = unlimited ] || [ "$cur" -ge {kib} ]')
        return ['cur=$(ulimit -l)',
                f'if {check}; then note "memlock" ok; '
                f'else differs "memlock (KiB, advice only: limits.d or LimitMEMLOCK)" "$cur" "{kib}"; fi']
