"""Two simulated LOBSTER message files of one day with a known relation between their mids, for
the multi-instrument replay's tests: y's mid (in ticks) is a random walk (+-1 tick with
probability 1/2 every step), x's mid is ``ratio * y + e`` with e drawn from {-1, 0, 1} each step
(independent of y, so the least-squares ratio of x's changes on y's is `ratio`). Each step every
instrument deletes its one bid and one ask order and adds new ones a tick either side of its mid
(500 shares each); before that, with probability `hit` each, x's bid and x's ask are executed for
100 shares (a seller, a buyer), so a market maker quoting x at the touch trades both ways and its
inventory wanders. y's messages come `y_lag` steps after x's (0.5 by default: the books update
asynchronously, as two real instruments do; 0: both at the same instants). Deterministic for a seed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

TICK = 100          # LOBSTER price units per tick (1 cent)
SIZE = 500


def write_pair(folder: Path, steps: int = 3000, step_s: float = 0.2, ratio: int = 2, hit: float = 0.25,
               seed: int = 5, date: str = "2012-06-21", y_lag: float = 0.5) -> tuple[Path, Path]:
    """Writes X_<date>_..._message_1.csv and Y_<date>_..._message_1.csv; returns (x, y) paths."""
    rng = np.random.default_rng(seed)
    y = 2000 + np.cumsum(rng.choice([-1, 0, 0, 1], size=steps))
    x = ratio * y + rng.choice([-1, 0, 1], size=steps)
    hits = rng.random((steps, 2)) < hit
    rows: dict[str, list[str]] = {"X": [], "Y": []}
    ids = {"X": 1000, "Y": 500_000}
    live: dict[str, tuple[int, int, int, int]] = {}
    for k in range(steps):
        for name, mid in (("X", int(x[k])), ("Y", int(y[k]))):
            t = 34200.0 + k * step_s + (y_lag * step_s if name == "Y" else 0.0)
            out = rows[name]
            if name in live:
                bid_id, bid_px, ask_id, ask_px = live[name]
                bid_left = ask_left = SIZE
                if name == "X" and hits[k, 0]:
                    out.append(f"{t:.9f},4,{bid_id},100,{bid_px},1")
                    bid_left -= 100
                if name == "X" and hits[k, 1]:
                    out.append(f"{t:.9f},4,{ask_id},100,{ask_px},-1")
                    ask_left -= 100
                out.append(f"{t:.9f},3,{bid_id},{bid_left},{bid_px},1")
                out.append(f"{t:.9f},3,{ask_id},{ask_left},{ask_px},-1")
            ids[name] += 2
            bid_id, ask_id = ids[name] - 1, ids[name]
            bid_px, ask_px = (mid - 1) * TICK, (mid + 1) * TICK
            out.append(f"{t:.9f},1,{bid_id},{SIZE},{bid_px},1")
            out.append(f"{t:.9f},1,{ask_id},{SIZE},{ask_px},-1")
            live[name] = (bid_id, bid_px, ask_id, ask_px)
    paths = []
    for name in ("X", "Y"):
        path = folder / f"{name}_{date}_34200000_57600000_message_1.csv"
        path.write_text("\n".join(rows[name]) + "\n")
        paths.append(path)
    return paths[0], paths[1]
