"""The state file apply writes before it changes anything: every original value, the token a
setter returned (a holder's pid), and the identity of the host and boot it belongs to. rollback
reads it back; a file from another machine or an earlier boot is refused with a clear error,
because restoring someone else's values, or runtime values a reboot already reset, would be wrong.
Writes go through a temporary file and rename, so a crash leaves the old or the new file whole."""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from gateway.small_files import NotASmallFile, read_small_text
from tuning.errors import CannotRead, NotApplicableHere, StateError
from tuning.hostroot import HostRoot

FORMAT = "venue-tuning-state/1"
DEFAULT_STATE_FILE = "/var/lib/venue-tuning/state.json"


@dataclass(frozen=True)
class HostIdentity:
    hostname: str
    machine_id: str
    boot_id: str

    @classmethod
    def of(cls, host: HostRoot) -> HostIdentity:
        def read(path: str, fallback: str) -> str:
            try:
                return host.read(path)
            except (NotApplicableHere, CannotRead):
                return fallback
        hostname = read("/proc/sys/kernel/hostname", socket.gethostname() if host.is_live else "unknown")
        return cls(hostname=hostname, machine_id=read("/etc/machine-id", "unknown"),
                   boot_id=read("/proc/sys/kernel/random/boot_id", "unknown"))


@dataclass
class Entry:
    name: str
    original: str
    applied: str
    token: str | None = None


@dataclass
class State:
    identity: HostIdentity
    profile: str
    entries: list[Entry] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # setting -> why the kernel declined
    variables: dict[str, str] = field(default_factory=dict)  # the --var overrides apply ran with

    def entry(self, name: str) -> Entry | None:
        return next((e for e in self.entries if e.name == name), None)


def state_path(host: HostRoot, state_file: str | None) -> Path:
    """An explicit --state-file is used as given; the default lives under the root."""
    return Path(state_file) if state_file else host.path(DEFAULT_STATE_FILE)


def load_state(path: Path, host: HostRoot) -> State | None:
    """The saved state, or None when there is none. Raises StateError for a damaged file or one
    written on another host or during another boot."""
    try:
        raw = read_small_text(path)
    except FileNotFoundError:
        return None
    except NotASmallFile as exc:
        raise StateError(f"state file {path}: {exc}") from None
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise StateError(f"{path} is not a tuning state file (not UTF-8 text)") from None
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise StateError(f"{path} is not a tuning state file (format {data.get('format')!r}, "
                             f"expected {FORMAT!r})")
        ident = HostIdentity(**data["host"])
        state = State(identity=ident, profile=str(data["profile"]),
                      entries=[Entry(**e) for e in data["entries"]],
                      refused={str(k): str(v) for k, v in data.get("refused", {}).items()},
                      variables={str(k): str(v) for k, v in data.get("variables", {}).items()})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"state file {path} is damaged ({type(exc).__name__}: {exc})") from None
    here = HostIdentity.of(host)
    if (ident.hostname, ident.machine_id) != (here.hostname, here.machine_id):
        raise StateError(f"state file {path} belongs to host {ident.hostname} (machine-id "
                         f"{ident.machine_id}), this is {here.hostname} (machine-id "
                         f"{here.machine_id}); refusing to restore another host's values")
    if ident.boot_id != here.boot_id:
        raise StateError(f"state file {path} was written during boot {ident.boot_id}, this is boot "
                         f"{here.boot_id}: the reboot already reset every runtime setting it "
                         "records; check the host with `python -m tuning audit` and delete the file")
    return state


def save_state(path: Path, state: State) -> None:
    data = {"format": FORMAT, "host": vars(state.identity), "profile": state.profile,
            "entries": [vars(e) for e in state.entries], "refused": state.refused,
            "variables": state.variables}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove_state(path: Path) -> None:
    path.unlink(missing_ok=True)
