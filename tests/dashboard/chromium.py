"""Debian's Chromium driven by Playwright, as the dashboard's browser tests and bench use it.

Chromium comes from the system packages (`apt-get install -y chromium`), never from
`playwright install` (which downloads a browser). Tests skip, saying why, where either is absent.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def why_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (as root: apt-get update && apt-get install -y chromium)"
    return None


def launch(pw: Any) -> tuple[Any, str]:
    """A headless Chromium on a fresh profile directory (its own cookies: one browser user);
    returns (browser context, profile dir)."""
    profile = tempfile.mkdtemp(prefix="dash-chromium-")
    context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                    args=ARGS, viewport={"width": 1600, "height": 1000})
    return context, profile


def close(context: Any, profile: str) -> None:
    context.close()
    shutil.rmtree(profile, ignore_errors=True)
