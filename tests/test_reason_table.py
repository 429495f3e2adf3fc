"""The README's reason-code table is generated from native/layout/venue_layout.h and must not drift."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_reason_table_matches_the_layout_header():
    result = subprocess.run([sys.executable, "scripts/generate_reason_table.py", "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
