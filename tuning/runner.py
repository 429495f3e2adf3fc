"""Drives audit, plan, apply, verify and rollback over the Settings a profile yields, the way
tuned's plugin base drives its plugins. Invariants: apply saves an original to the state file
before it writes the value; a failed apply puts back everything it changed in this run, in reverse
order, before raising; a second apply changes nothing; rollback writes back exactly the saved
originals and keeps in the state file whatever it could not restore."""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from tuning.errors import (ApplyError, CannotRead, NotApplicableHere, PrivilegeError,
                           RefusedByKernel, StateError, UnknownSettingError)
from tuning.hostroot import HostRoot
from tuning.profile import Profile, load_profile, resolve_sections
from tuning.setting import Finding, Setting, Status
from tuning.state import (Entry, HostIdentity, State, load_state, remove_state, save_state,
                          state_path)
from tuning.subsystems import SUBSYSTEMS


@dataclass(frozen=True)
class PlannedChange:
    name: str
    current: str
    wanted: str
    advice: str  # non-empty for advisory settings: apply prints this instead of changing anything


@dataclass
class ApplyReport:
    changed: list[PlannedChange]
    refused: dict[str, str]
    advice: list[str]


def build_settings(profile: Profile, host: HostRoot) -> list[Setting]:
    settings: list[Setting] = []
    for section, values in resolve_sections(profile, host).items():
        for setting in SUBSYSTEMS[section].settings(values, host):
            setting.section = section
            settings.append(setting)
    return settings


def select(settings: list[Setting], only: list[str] | None) -> list[Setting]:
    """Settings matching ``only``: a full name ("sysctl vm.swappiness"), its last word
    ("vm.swappiness") or a profile section ("sysctl", "bootcmdline"). An unknown name is an error."""
    if not only:
        return settings
    chosen: list[Setting] = []
    for wanted in only:
        matches = [s for s in settings if wanted in (s.name, s.section, s.name.split(" ")[-1])]
        if not matches:
            names = [s.name for s in settings] + [s.name.split(" ")[-1] for s in settings]
            close = difflib.get_close_matches(wanted, names, n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownSettingError(f"unknown setting {wanted!r}: the profile defines no such "
                                      f"setting{hint} (list them with `python -m tuning audit`)")
        chosen.extend(s for s in matches if s not in chosen)
    return chosen


def assess(setting: Setting, refused: dict[str, str] | None = None) -> Finding:
    """Reads one setting and judges it. Never raises for an unreadable or absent value."""
    try:
        current = setting.read()
    except NotApplicableHere as exc:
        return Finding(setting.name, "-", setting.wanted, Status.NOT_APPLICABLE, str(exc), "")
    except CannotRead as exc:
        return Finding(setting.name, "?", setting.wanted, Status.CANNOT_READ, str(exc),
                       f"{setting.name}: cannot read ({exc})")
    try:
        ok = setting.satisfied(current)
    except ValueError as exc:
        return Finding(setting.name, current, setting.wanted, Status.CANNOT_READ,
                       f"unexpected value: {exc}", f"{setting.name}: unexpected value {current!r}")
    if ok:
        return Finding(setting.name, current, setting.wanted, Status.OK, "", "")
    if refused and setting.name in refused:
        return Finding(setting.name, current, setting.wanted, Status.NOT_APPLICABLE,
                       refused[setting.name], "")
    reason = setting.advisory_reason if setting.advisory else "apply changes it"
    return Finding(setting.name, current, setting.wanted, Status.DIFFERS, reason,
                   setting.problem(current))


def _current(setting: Setting) -> str | None:
    """The live value, or None when it cannot be read (then restoring is the safe choice)."""
    try:
        return setting.read()
    except (NotApplicableHere, CannotRead):
        return None


class Tuner:
    """One profile on one host (a root), optionally narrowed to some settings."""

    def __init__(self, profile_name: str, root: str = "/", state_file: str | None = None,
                 variables: dict[str, str] | None = None, only: list[str] | None = None) -> None:
        self.host = HostRoot(root)
        if profile_name.endswith(".toml") or "/" in profile_name:
            profile_name = str(Path(profile_name).resolve())  # rollback may run from elsewhere
        self.profile_name = profile_name
        self.variables = dict(variables or {})
        self.profile = load_profile(profile_name, self.variables)
        self.settings = select(build_settings(self.profile, self.host), only)
        self.state_path: Path = state_path(self.host, state_file)

    @classmethod
    def for_rollback(cls, root: str = "/", state_file: str | None = None) -> Tuner:
        """A Tuner for the profile and variables the saved state was applied with."""
        host = HostRoot(root)
        path = state_path(host, state_file)
        state = load_state(path, host)
        if state is None:
            raise StateError(f"nothing to roll back: no state file at {path}")
        return cls(state.profile, root, state_file, state.variables)

    def _refused(self) -> dict[str, str]:
        try:
            state = load_state(self.state_path, self.host)
        except StateError:
            return {}
        return state.refused if state else {}

    def audit(self) -> list[Finding]:
        refused = self._refused()
        return [assess(s, refused) for s in self.settings]

    verify = audit  # the same comparison; the CLI turns any problem into a non-zero exit

    def plan(self) -> list[PlannedChange]:
        out: list[PlannedChange] = []
        for finding, setting in zip(self.audit(), self.settings):
            if finding.status in (Status.DIFFERS, Status.CANNOT_READ):
                advice = setting.advice() if setting.advisory else ""
                out.append(PlannedChange(setting.name, finding.current, setting.wanted, advice))
        return out

    def _require_root(self) -> None:
        if self.host.is_live and os.geteuid() != 0:
            raise PrivilegeError("changing host settings needs root (run with sudo); "
                                 "`python -m tuning audit` and `plan` work without it")

    def apply(self) -> ApplyReport:
        self._require_root()
        state = load_state(self.state_path, self.host) or State(
            identity=HostIdentity.of(self.host), profile=self.profile_name)
        state.profile = self.profile_name
        state.variables = self.variables
        report = ApplyReport(changed=[], refused={}, advice=[])
        done: list[tuple[Setting, str, str | None, bool]] = []  # setting, value before, token, new entry
        for setting in self.settings:
            finding = assess(setting)
            if finding.status in (Status.OK, Status.NOT_APPLICABLE):
                continue
            if finding.status == Status.CANNOT_READ:
                self._undo(done, state, f"cannot read {setting.name} ({finding.reason}), so its "
                                        "original could not be saved")
            if setting.advisory:
                advice = setting.advice()
                if advice and advice not in report.advice:
                    report.advice.append(advice)
                continue
            entry = state.entry(setting.name)
            new_entry = entry is None
            if entry is None:
                entry = Entry(setting.name, finding.current, setting.wanted)
                state.entries.append(entry)
            save_state(self.state_path, state)  # the original is on disk before the value changes
            try:
                token = setting.write(setting.wanted)
            except RefusedByKernel as exc:
                state.refused[setting.name] = str(exc)
                if new_entry:
                    state.entries.remove(entry)
                save_state(self.state_path, state)
                report.refused[setting.name] = str(exc)
                continue
            except OSError as exc:
                done.append((setting, finding.current, None, new_entry))
                self._undo(done, state, f"writing {setting.name} = {setting.wanted!r} failed: "
                                        f"{exc.strerror or exc}")
            if token is not None:
                entry.token = token
                save_state(self.state_path, state)
            done.append((setting, finding.current, token, new_entry))
            after = assess(setting)
            if after.status != Status.OK:
                self._undo(done, state, f"{setting.name} reads back {after.current!r} after "
                                        f"writing {setting.wanted!r}")
            report.changed.append(PlannedChange(setting.name, finding.current, setting.wanted, ""))
        if not state.entries and not state.refused:
            remove_state(self.state_path)
        return report

    def _undo(self, done: list[tuple[Setting, str, str | None, bool]], state: State, cause: str) -> None:
        failures: list[str] = []
        restored = 0
        for setting, before, token, new_entry in reversed(done):
            try:
                if token is not None or _current(setting) != before:
                    setting.restore(before, token)
                    restored += 1
            except (OSError, RefusedByKernel) as exc:
                failures.append(f"{setting.name} ({exc})")
                continue
            if new_entry:
                entry = state.entry(setting.name)
                if entry is not None:
                    state.entries.remove(entry)
        if state.entries or state.refused:
            save_state(self.state_path, state)
        else:
            remove_state(self.state_path)
        if failures:
            raise ApplyError(f"apply stopped: {cause}; restored {restored} change(s) but could not "
                             f"restore {', '.join(failures)} (originals kept in {self.state_path})",
                             restored=False)
        raise ApplyError(f"apply stopped: {cause}; restored the {restored} change(s) made before "
                         "it, the host is as it was", restored=True)

    def rollback(self) -> list[str]:
        """Restores every saved original. Returns what was restored; raises ApplyError naming
        what could not be (those stay in the state file)."""
        self._require_root()
        state = load_state(self.state_path, self.host)
        if state is None:
            return []
        by_name = {s.name: s for s in self.settings}
        restored: list[str] = []
        failures: list[str] = []
        for entry in reversed(list(state.entries)):
            setting = by_name.get(entry.name)
            if setting is None:
                failures.append(f"{entry.name} (profile {self.profile_name} no longer defines it)")
                continue
            try:
                setting.restore(entry.original, entry.token)
                if entry.token is None:
                    now = setting.read()
                    if now != entry.original:
                        raise OSError(f"reads back {now!r}, saved original was {entry.original!r}")
            except (OSError, RefusedByKernel, NotApplicableHere, CannotRead) as exc:
                failures.append(f"{entry.name} ({exc})")
                continue
            state.entries.remove(entry)
            restored.append(f"{entry.name} = {entry.original}")
        state.refused.clear()
        if state.entries:
            save_state(self.state_path, state)
            raise ApplyError(f"rollback could not restore {', '.join(failures)}; restored "
                             f"{len(restored)}; the rest stays in {self.state_path}", restored=False)
        remove_state(self.state_path)
        return restored
