"""The configuration a running venue runs with: the venue file as ``up`` loaded it at start, of
which only the credentials follow later edits of the file.

Invariant: every process ``up`` starts or restarts (control plane, gateway, dashboard) runs with the
configuration the engine started with. The engine took its instruments and capacities, and the
gateway's flow store its [[sessions]], when the venue started; a process restarted on an edited
file disagreed with them and could not run: an instrument added to the file made a restarted
control plane send SET_INSTRUMENT_RISK for an instrument the engine does not have, exit, and be
restarted for ever (the venue without a control plane); a session added made a restarted gateway
refuse its flow store, for ever too. So ``up`` writes the running configuration into its private
run directory and hands that file to the processes; an edit of the venue file changes it only in
what rotates live:

- [[users]] (tokens, roles): the control plane and the dashboard watch the running file;
- the key or key_hash of a [[sessions]] entry the venue started with: the gateway's credentials
  file is written again from it (gateway/security/key_rotation.py installs changed hashes).

Everything else is read at start: ``apply_edit`` names what an edit changed there, so that ``up``
says it is not applied (the next ``up`` takes it) instead of dropping it silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import msgspec

from gateway.control.config import VenueConfig, parse_text
from gateway.venues.toml_text import toml_text

RUNNING_CONFIG_NAME = "venue-running.toml"


@dataclass(frozen=True)
class Edit:
    running: VenueConfig          # the configuration to run with after the edit
    rotated: list[str]            # what the edit changes now, e.g. "[[users]]", "session 101's key"
    not_applied: list[str]        # what it changes that is read at start only, e.g. "[[instruments]]"


def _section(name: str, value: object) -> str:
    return f"[[{name}]]" if isinstance(value, list) else f"[{name}]"


def _without_key(s: msgspec.Struct) -> msgspec.Struct:
    return msgspec.structs.replace(s, key="", key_hash="")


def apply_edit(running: VenueConfig, started: VenueConfig, edited: VenueConfig) -> Edit:
    """What an edit of the venue file does to the running configuration. `started` is the
    configuration the venue started with (what "not applied" is measured against, so an edit
    undone is no longer reported); `running` the one in force."""
    rotated: list[str] = []
    not_applied: list[str] = []
    if edited.users != running.users:
        rotated.append("[[users]]")
    edited_sessions = {s.session_id: s for s in edited.sessions}
    started_ids = [s.session_id for s in started.sessions]
    sessions = []
    for s in running.sessions:
        new = edited_sessions.get(s.session_id)
        if new is not None and (new.key, new.key_hash) != (s.key, s.key_hash):
            rotated.append(f"session {s.session_id}'s key")
            s = msgspec.structs.replace(s, key=new.key, key_hash=new.key_hash)
        sessions.append(s)
    added = sorted(set(edited_sessions) - set(started_ids))
    removed = sorted(set(started_ids) - set(edited_sessions))
    if added:
        not_applied.append(f"[[sessions]] {', '.join(map(str, added))} added")
    if removed:
        not_applied.append(f"[[sessions]] {', '.join(map(str, removed))} removed")
    if any(_without_key(s) != _without_key(edited_sessions[s.session_id])
           for s in started.sessions if s.session_id in edited_sessions):
        not_applied.append("[[sessions]] settings other than keys")
    for name in VenueConfig.__struct_fields__:
        if name not in ("users", "sessions") and getattr(edited, name) != getattr(started, name):
            not_applied.append(_section(name, getattr(started, name)))
    new_running = msgspec.structs.replace(running, users=edited.users, sessions=sessions)
    return Edit(new_running, rotated, not_applied)


def write_running_config(cfg: VenueConfig, path: Path) -> None:
    """The running configuration as a venue file (TOML), mode 0600 from its creation (it holds the
    sessions' keys), replaced atomically (the control plane and the dashboard watch it)."""
    text = toml_text(cfg)
    if parse_text(text, path.name) != cfg:        # toml_text's round trip is tested; never run on less
        raise ValueError(f"{path.name}: the configuration does not read back the same")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
