"""Intraday volume profile for VWAP: the share of a day's volume traded in each time bucket.

Estimated from historical executions (a LOBSTER day's visible and hidden executions, or any
(time, qty) series) or read from a stored JSON file ({"start_s", "bucket_s", "volumes"}). Times are
seconds after midnight. ``cumulative(t0, t1)`` turns it into the curve the VWAP schedule follows
over a parent order's horizon: P(t) = share of the horizon's expected volume traded by t, with the
volume spread evenly inside each bucket. Estimating the profile from the very day that is replayed
is in-sample (it knows the day's volume curve); a stored profile from other days is not.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.small_files import read_small_text


@dataclass(frozen=True)
class VolumeProfile:
    start_s: float
    bucket_s: float
    volumes: tuple[float, ...]     # expected volume per bucket (any scale)

    def __post_init__(self) -> None:
        if not self.bucket_s > 0:
            raise ValueError(f"volume profile: bucket_s must be positive, got {self.bucket_s}")
        if not self.volumes or min(self.volumes) < 0 or sum(self.volumes) <= 0:
            raise ValueError("volume profile: volumes must be non-negative with a positive total")

    @classmethod
    def from_executions(cls, ts_ns: np.ndarray, qty: np.ndarray, start_s: float, end_s: float,
                        bucket_s: float) -> VolumeProfile:
        n = max(1, int(np.ceil((end_s - start_s) / bucket_s)))
        idx = np.clip(((np.asarray(ts_ns) / 1e9 - start_s) // bucket_s).astype(np.int64), 0, n - 1)
        vol = np.bincount(idx, weights=np.asarray(qty, dtype=float), minlength=n)
        return cls(float(start_s), float(bucket_s), tuple(float(v) for v in vol))

    @classmethod
    def load(cls, path: str | Path) -> VolumeProfile:
        try:
            doc = json.loads(read_small_text(path))     # a small regular file (/dev/zero, a FIFO: refused)
            return cls(float(doc["start_s"]), float(doc["bucket_s"]), tuple(float(v) for v in doc["volumes"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"volume profile {path}: {exc}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"start_s": self.start_s, "bucket_s": self.bucket_s,
                                          "volumes": list(self.volumes)}))

    def volume_between(self, t0_s: float, t1_s: float) -> float:
        """Expected volume in [t0, t1] (uniform within a bucket; nothing outside the profile)."""
        return self._cum(t1_s) - self._cum(t0_s)

    def _cum(self, t_s: float) -> float:
        x = (t_s - self.start_s) / self.bucket_s
        if x <= 0:
            return 0.0
        k = min(int(x), len(self.volumes))
        done = float(sum(self.volumes[:k]))
        return done + (self.volumes[k] * (x - k) if k < len(self.volumes) else 0.0)
