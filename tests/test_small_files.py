"""gateway/small_files.py: a config, token or key file is read only when it is a small regular
file (qa4: ``/dev/zero`` as a venue config read until memory ran out, a FIFO blocked open()
forever). A regular file under the limit reads whole; one over it, a device, a FIFO and a
directory are NotASmallFile; a missing file stays an OSError."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.small_files import NotASmallFile, read_small_file, read_small_text


def test_a_small_regular_file_reads_whole(tmp_path: Path) -> None:
    p = tmp_path / "venue.toml"
    p.write_bytes(b"[venue]\nname = 'x'\n" * 1000)
    assert read_small_file(p) == p.read_bytes()
    assert read_small_text(p, limit=len(p.read_bytes())).startswith("[venue]")


def test_a_file_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "big"
    p.write_bytes(b"x" * 1025)
    with pytest.raises(NotASmallFile, match="larger than 1 KiB"):
        read_small_file(p, limit=1024)
    assert len(read_small_file(p, limit=1025)) == 1025


@pytest.mark.parametrize("what", ["/dev/zero", "FIFO", "DIR"])
def test_devices_fifos_and_directories_are_refused_at_once(what: str, tmp_path: Path) -> None:
    path = Path(what)
    if what == "FIFO":
        path = tmp_path / "fifo"
        os.mkfifo(path)               # no writer: a blocking open() would never return
    elif what == "DIR":
        path = tmp_path
    with pytest.raises(NotASmallFile):
        read_small_file(path)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_small_file(tmp_path / "absent")
    with pytest.raises(UnicodeDecodeError):
        (tmp_path / "bin").write_bytes(bytes(range(128, 256)))
        read_small_text(tmp_path / "bin")
