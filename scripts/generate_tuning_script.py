"""Writes scripts/tuning-<profile>.sh for every profile in tuning/profiles/ (or the ones named),
from the same definitions the Python tuning package uses. Run it after editing a profile; the test
tests/tuning/test_generated_script_matches_profile.py fails while a script is stale.

    python scripts/generate_tuning_script.py [PROFILE ...] [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tuning.errors import TuningError  # noqa: E402
from tuning.profile import available_profiles, load_profile  # noqa: E402
from tuning.shellscript import render  # noqa: E402

GENERATOR = "scripts/generate_tuning_script.py"


def script_path(name: str) -> Path:
    return ROOT / "scripts" / f"tuning-{name}.sh"


def generate(name: str) -> str:
    return render(load_profile(name), GENERATOR)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", nargs="*", help="profile names (default: all)")
    parser.add_argument("--check", action="store_true", help="fail if a script is out of date")
    args = parser.parse_args()
    stale = []
    try:
        for name in args.profiles or available_profiles():
            text = generate(name)
            path = script_path(name)
            if args.check:
                if not path.exists() or path.read_text() != text:
                    stale.append(str(path))
                continue
            path.write_text(text)
            path.chmod(0o755)
            print(f"wrote {path.relative_to(ROOT)}")
    except TuningError as exc:
        print(f"generate_tuning_script: {exc}", file=sys.stderr)
        return 2
    if stale:
        print("stale, regenerate: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
