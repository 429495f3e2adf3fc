"""The contract every tunable obeys, after tuned's plugin base: a Setting pairs a getter with a
setter, so whatever apply can change, audit and verify can read back; a Subsystem turns one profile
section into Settings and into the equivalent shell. The driver (tuning/runner.py) owns ordering,
the state file and rollback; a Setting owns only how to read, write and compare its one value."""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from tuning.errors import AdvisoryOnly, ProfileError
from tuning.hostroot import HostRoot


class Status(str, enum.Enum):
    """The four audit verdicts, spelt exactly as reports print them."""

    OK = "ok"
    DIFFERS = "differs"
    CANNOT_READ = "cannot read"
    NOT_APPLICABLE = "not applicable here"


@dataclass(frozen=True)
class Finding:
    """One audited setting: its live value against the profile's, with a verdict and a reason."""

    name: str
    current: str
    wanted: str
    status: Status
    reason: str
    problem: str  # one line an operator understands, empty when status is ok or not applicable

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "current": self.current, "wanted": self.wanted,
                "status": self.status.value, "reason": self.reason}


class Setting(ABC):
    """One value on the host. ``read`` raises NotApplicableHere or CannotRead (from
    tuning.errors) instead of returning a made-up value; ``write`` raises OSError on failure,
    RefusedByKernel when the kernel declines this change by design."""

    #: True for settings apply must not change by itself (the kernel command line): plan and apply
    #: print ``advice()`` instead, and verify keeps reporting them until the operator acts.
    advisory: ClassVar[bool] = False
    #: What audit says of an advisory setting that differs.
    advisory_reason: ClassVar[str] = "set at boot: apply only advises, `plan` prints the boot-loader command"

    def __init__(self, name: str, wanted: str) -> None:
        self.name = name
        self.wanted = wanted
        self.section = ""  # the profile section it came from, set by tuning.runner.build_settings

    @abstractmethod
    def read(self) -> str:
        """The live value, normalised so it compares with ``wanted``."""

    def write(self, value: str) -> str | None:
        """Sets the value. Returns a token the state file keeps for ``restore`` (a holder's pid,
        say), or None. Only advisory settings may leave this unimplemented."""
        raise AdvisoryOnly(f"{self.name} is advisory: apply prints the command, never runs it")

    def restore(self, original: str, token: str | None) -> None:
        """Puts ``original`` back; ``token`` is what ``write`` returned."""
        self.write(original)

    def satisfied(self, current: str) -> bool:
        return current == self.wanted

    def problem(self, current: str) -> str:
        """One line for the engine's start-up warnings."""
        return f"{self.name} is {current!r}, profile wants {self.wanted!r}"

    def advice(self) -> str:
        """For advisory settings: the exact command an operator runs."""
        return ""


class Subsystem(ABC):
    """One profile section. ``known_keys`` maps every accepted key to what it means; None means the
    section takes free-form keys (sysctl names, boot parameter groups) that ``check_key`` vets."""

    section: ClassVar[str]
    known_keys: ClassVar[Mapping[str, str] | None] = None

    def validate(self, values: Mapping[str, object]) -> None:
        """Raises ProfileError for an unknown key or a value of the wrong type."""
        for key, value in values.items():
            if self.known_keys is not None and key not in self.known_keys:
                known = ", ".join(sorted(self.known_keys))
                raise ProfileError(f"[{self.section}] unknown setting {key!r} (known: {known})")
            if self.known_keys is None:
                self.check_key(key)
            if not isinstance(value, (str, int, bool)):
                raise ProfileError(f"[{self.section}] {key}: expected a string, number or boolean, "
                                   f"got {type(value).__name__}")

    def check_key(self, key: str) -> None:
        """Vets a free-form key; the default accepts any."""

    @abstractmethod
    def settings(self, values: Mapping[str, str], host: HostRoot) -> list[Setting]:
        """The Settings for this section, with variables already expanded into ``values``."""

    @abstractmethod
    def shell(self, values: Mapping[str, str]) -> list[str]:
        """Bash lines doing the same through the generated script's helpers (see
        tuning/shellscript.py); ``values`` still hold ${variable} references, which the script
        defines at its top."""


def text_value(value: object) -> str:
    """Profile values as the strings the kernel speaks: booleans become 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def shell_quote(value: str) -> str:
    """Double-quotes ``value`` for bash, escaping everything but ${name} variable references."""
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "$" and value.startswith("${", i):
            end = value.index("}", i)
            out.append(value[i:end + 1])
            i = end + 1
            continue
        if ch in '"\\`$':
            out.append("\\")
        out.append(ch)
        i += 1
    return '"' + "".join(out) + '"'
