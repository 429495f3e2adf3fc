"""The tuning package's exceptions, one family per kind of trouble, so callers can keep "you are
wrong" (a bad profile, an unknown setting, a foreign state file) apart from "not possible here" (a
sysctl absent in this namespace, no cpufreq driver) and from "it failed while changing the host".
Every message names the thing at fault; the CLI prints it as one line, never a traceback."""
from __future__ import annotations


class TuningError(Exception):
    """Base of every error this package raises on purpose."""


class ProfileError(TuningError):
    """The profile is wrong: unknown name, malformed TOML, unknown section or key, a failed assertion."""


class UnknownSettingError(TuningError):
    """A setting name given on the command line matches nothing the profile defines."""


class StateError(TuningError):
    """The state file is unusable: another host's, another boot's, or not a state file at all."""


class PrivilegeError(TuningError):
    """The command changes the host and this process is not root."""


class ApplyError(TuningError):
    """A change failed; ``restored`` tells whether everything changed before it was put back."""

    def __init__(self, message: str, restored: bool) -> None:
        super().__init__(message)
        self.restored = restored


class NotApplicableHere(Exception):
    """Raised by a getter: this setting does not exist on this host; the message says why."""


class CannotRead(Exception):
    """Raised by a getter: the setting exists but its value cannot be read; the message says why."""


class RefusedByKernel(Exception):
    """Raised by a setter: the kernel declines this particular change by design (for example a
    managed IRQ answers EIO); apply records it and goes on instead of failing."""


class AdvisoryOnly(TuningError):
    """The setting is checked and advised but never written by this tool (the kernel command line:
    changing it means a boot-loader edit and a reboot, which an operator does by hand)."""
