"""The running configuration of a venue (gateway/control/running_config.py): an edit of the venue
file rotates [[users]] and the keys of the sessions the venue started with, and names everything
else it changes as not applied, leaving the running configuration as the venue started."""
from __future__ import annotations

import stat
from pathlib import Path

import msgspec

from gateway.control.config import load_config
from gateway.control.running_config import apply_edit, write_running_config
from tests.control.cp_venue import write_config


def _cfgs(tmp: Path, edit: str = "", replace: tuple[str, str] = ("", "")):
    path = write_config(tmp, "rcfg")
    started = load_config(path)
    text = path.read_text()
    if replace[0]:
        assert replace[0] in text
        text = text.replace(replace[0], replace[1])
    path.write_text(text + edit)
    return started, load_config(path)


NEW_INSTRUMENT = '\n[[instruments]]\nid = 9\nsymbol = "NEWCO"\ntick = 1\nlot = 1\nreference_price = 500\n'
NEW_SESSION = '\n[[sessions]]\nsession_id = 102\nfirm_id = 1\nkey = "key-102"\n'


def test_an_added_instrument_and_session_are_named_and_not_run(tmp_path: Path) -> None:
    started, edited = _cfgs(tmp_path, NEW_INSTRUMENT + NEW_SESSION,
                            ("max_position = 1000", "max_position = 5"))
    e = apply_edit(started, started, edited)
    assert e.running == started
    assert e.rotated == []
    assert e.not_applied == ["[[sessions]] 102 added", "[[instruments]]", "[[accounts]]"]


def test_users_and_session_keys_rotate_the_rest_stays(tmp_path: Path) -> None:
    started, edited = _cfgs(tmp_path, NEW_INSTRUMENT, ('key = "key-101"', 'key = "key-101b"'))
    edited = msgspec.structs.replace(edited, users=edited.users[:1])
    e = apply_edit(started, started, edited)
    assert e.rotated == ["[[users]]", "session 101's key"]
    assert e.not_applied == ["[[instruments]]"]
    assert e.running.users == edited.users
    assert [s.key for s in e.running.sessions] == ["key-101b", "key-201"]
    assert e.running.instruments == started.instruments


def test_an_edit_undone_is_no_longer_reported(tmp_path: Path) -> None:
    started, edited = _cfgs(tmp_path, NEW_INSTRUMENT)
    first = apply_edit(started, started, edited)
    again = apply_edit(first.running, started, started)
    assert (again.rotated, again.not_applied, again.running) == ([], [], started)


def test_session_settings_other_than_keys_are_not_applied(tmp_path: Path) -> None:
    started, edited = _cfgs(tmp_path, "", ('key = "key-201"', 'key = "key-201"\ncancel_on_disconnect = false'))
    e = apply_edit(started, started, edited)
    assert e.not_applied == ["[[sessions]] settings other than keys"]
    assert e.running == started


def test_the_running_file_reads_back_and_is_private(tmp_path: Path) -> None:
    started, _ = _cfgs(tmp_path)
    out = tmp_path / "run.toml"
    write_running_config(started, out)
    assert load_config(out) == started
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
