"""`mypy --strict` passes on the typed Python surface: the shared-memory faces (shm/), the native
wrapper (native/*.py: engine, records, the generated messages, batch, the build script), the
client library (gateway/client/), the venue launcher (gateway/launcher.py) and the control plane
(gateway/control/: its engine commands and events are the native.messages Structs, and what it
imports, such as gateway/latency, is checked with it). CI runs it as part of pytest, so a change that loses a
type fails the suite; the configuration (strict, the untyped third-party modules) is
pyproject.toml's [tool.mypy]."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRICT_PACKAGES = ["shm", "native", "gateway/client", "gateway/launcher.py", "gateway/control"]


def test_mypy_strict_passes_on_the_typed_surface(tmp_path: Path) -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
                          *STRICT_PACKAGES], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"mypy --strict {' '.join(STRICT_PACKAGES)}:\n{run.stdout}{run.stderr}"
    assert "Success" in run.stdout
