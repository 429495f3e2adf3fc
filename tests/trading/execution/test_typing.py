"""`mypy --strict` passes on the execution package, the TCA's expected cost, its bench, the control
plane's parent-order commands and the demo's execution process (pyproject.toml's [tool.mypy]; imports outside them are
followed silently: their own typing is their rooms' concern)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FILES = ["trading/execution", "trading/tca/expected.py", "bench/execution.py", "gateway/control/parent_orders.py",
         "gateway/demo/execution_algo.py"]


def test_mypy_strict_on_execution(tmp_path: Path) -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir",
                          str(tmp_path / "cache"), *FILES], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
