"""A bounded, framework-free store of the numbers the probes collect, one series per signal.

Rules read from here and never touch PyTorch. Each series keeps (step, value) rows, where a value
is a float or a 1-D numpy vector (e.g. one entry per parameter). Memory is bounded: when a series
reaches its capacity, every other row of its older part is dropped, so recent history stays at
full resolution and old history thins out geometrically; the first ``keep_head`` rows (the start
of training, which several rules compare against) are never dropped.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np


class Series:
    def __init__(self, capacity: int = 4096, keep_head: int = 64) -> None:
        if capacity < 2 * keep_head + 4:
            raise ValueError("capacity too small for keep_head")
        self.capacity = capacity
        self.keep_head = keep_head
        self._steps: list[int] = []
        self._values: list[Any] = []
        self.total = 0  # rows ever appended

    def append(self, step: int, value: Any) -> None:
        self._steps.append(int(step))
        self._values.append(value)
        self.total += 1
        if len(self._steps) > self.capacity:
            self._thin()

    def extend(self, steps: Iterable[int], values: Iterable[Any]) -> None:
        for s, v in zip(steps, values):
            self.append(s, v)

    def _thin(self) -> None:
        # keep the head, drop every other row of the older half of the rest, keep the recent half
        head = self.keep_head
        n = len(self._steps)
        mid = head + (n - head) // 2
        keep = list(range(head)) + list(range(head, mid, 2)) + list(range(mid, n))
        self._steps = [self._steps[i] for i in keep]
        self._values = [self._values[i] for i in keep]

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> np.ndarray:
        return np.asarray(self._steps, dtype=np.int64)

    def array(self, fill: float = np.nan) -> np.ndarray:
        """Values as an array: shape (n,) for scalars, (n, width) for vectors (padded with fill)."""
        if not self._values:
            return np.zeros((0,))
        first = self._values[0]
        if np.ndim(first) == 0:
            return np.asarray(self._values, dtype=np.float64)
        width = max(len(v) for v in self._values)
        out = np.full((len(self._values), width), fill)
        for i, v in enumerate(self._values):
            out[i, : len(v)] = v
        return out

    def last(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        steps, values = self.steps, self.array()
        if n is None:
            return steps, values
        return steps[-n:], values[-n:]


class SignalStore:
    """Named series plus a dict of facts (one-off observations such as graph analysis)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.series: dict[str, Series] = {}
        self.facts: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Series:
        s = self.series.get(name)
        if s is None:
            s = self.series[name] = Series(self.capacity)
        return s

    def __contains__(self, name: str) -> bool:
        return name in self.series and len(self.series[name]) > 0

    def append(self, name: str, step: int, value: Any) -> None:
        self[name].append(step, value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dump (for run folders / plots)."""
        out: dict[str, Any] = {}
        for name, s in self.series.items():
            arr = s.array()
            out[name] = {"steps": s.steps.tolist(),
                         "values": np.where(np.isfinite(arr), arr, None).tolist() if arr.size else []}
        return out
