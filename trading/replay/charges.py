"""The strategy's measured computation time, kept so that a measured run can be rerun exactly.

A replay in "measured" mode (the default) charges the strategy's clock with the wall-clock time of
its callbacks (FIDELITY.md rule 7). Those readings differ between runs, so the run writes them to
``compute_charges.json`` beside its results; ``--compute-charges FILE`` replays them in the order
they were taken instead of measuring, which makes the rerun a pure function of its inputs again:
its result files are byte-identical to the run that recorded them.

File: one JSON object {"format": "compute-charges/1", "strategy", "params", "symbol",
"readings_ns": [int, ...]}. Loading checks the format and every value and names the file and the
problem; the runtime checks the count (a file from another run runs out or has some left).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trading.replay.runtime import ReplayResult

FORMAT = "compute-charges/1"


class ChargesFileError(ValueError):
    """A compute-charges file that cannot be used (missing, not JSON, wrong shape)."""


def charges_document(r: ReplayResult) -> dict[str, Any]:
    return {"format": FORMAT, "strategy": r.strategy, "params": r.params, "symbol": r.config.get("symbol"),
            "readings_ns": list(r.compute_charges)}


def save_charges(r: ReplayResult, path: Path) -> None:
    path.write_text(json.dumps(charges_document(r), sort_keys=True) + "\n")


def load_charges(path: str | Path, strategy: str | None = None) -> tuple[int, ...]:
    """The readings of a compute-charges file; strategy (a class name), when given, must match
    the one that recorded them."""
    file = Path(path)
    try:
        doc = json.loads(file.read_text())
    except FileNotFoundError:
        raise ChargesFileError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChargesFileError(f"{file}: not a compute-charges file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ChargesFileError(f"{file}: not a compute-charges file (format is not {FORMAT!r})")
    readings = doc.get("readings_ns")
    if not isinstance(readings, list) or any(type(v) is not int or v < 0 for v in readings):
        raise ChargesFileError(f"{file}: readings_ns must be a list of integers >= 0")
    if strategy is not None and doc.get("strategy") != strategy:
        raise ChargesFileError(f"{file}: recorded for strategy {doc.get('strategy')!r}, not {strategy!r}")
    return tuple(readings)
