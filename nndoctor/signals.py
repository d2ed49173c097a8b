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
        self._steps = np.zeros(64, dtype=np.int64)
        self._vals: np.ndarray | None = None   # (rows, ) for scalars, (rows, width) for vectors
        self._widths = np.zeros(64, dtype=np.int64)  # length of each vector row (padding beyond)
        self._n = 0
        self.total = 0  # rows ever appended

    def append(self, step: int, value: Any) -> None:
        vec = np.ndim(value) > 0
        v = np.asarray(value, dtype=np.float64)
        if self._vals is None:
            self._vals = np.full((64, len(v)) if vec else (64,), np.nan)
        if self._n == len(self._steps):
            self._grow(self._n + 1)
        if vec and len(v) > self._vals.shape[1]:  # a wider row (e.g. a param group was added)
            pad = np.full((self._vals.shape[0], len(v) - self._vals.shape[1]), np.nan)
            self._vals = np.concatenate([self._vals, pad], axis=1)
        self._steps[self._n] = int(step)
        self._widths[self._n] = len(v) if vec else 1
        if vec:
            self._vals[self._n, : len(v)] = v
            self._vals[self._n, len(v):] = np.nan
        else:
            self._vals[self._n] = v
        self._n += 1
        self.total += 1
        if self._n > self.capacity:
            self._thin()

    def extend(self, steps: Iterable[int], values: Iterable[Any]) -> None:
        """Append many rows; a 2-D array of equal-width vector rows goes in one copy."""
        steps = np.asarray(list(steps) if not isinstance(steps, np.ndarray) else steps, dtype=np.int64)
        if isinstance(values, np.ndarray) and values.ndim in (1, 2) and len(values) == len(steps) and len(steps):
            if self._vals is None:
                self._vals = np.full((64, values.shape[1]) if values.ndim == 2 else (64,), np.nan)
            if self._n + len(steps) > len(self._steps) and values.ndim == self._vals.ndim:
                self._grow(self._n + len(steps))   # (else the rows went in one by one: a Python loop per row)
        if isinstance(values, np.ndarray) and self._vals is not None and values.ndim == self._vals.ndim \
                and (values.ndim == 1 or values.shape[1] == self._vals.shape[1]) \
                and self._n + len(steps) <= len(self._steps):
            k = len(steps)
            self._steps[self._n: self._n + k] = steps
            self._vals[self._n: self._n + k] = values
            self._widths[self._n: self._n + k] = values.shape[1] if values.ndim == 2 else 1
            self._n += k
            self.total += k
            while self._n > self.capacity:
                self._thin()
            return
        for s, v in zip(steps, values):
            self.append(int(s), v)

    def _grow(self, rows: int) -> None:
        """Room for at least ``rows`` rows (doubling)."""
        grow = len(self._steps)
        while grow < rows:
            grow *= 2
        if grow == len(self._steps):
            return
        self._steps = np.resize(self._steps, grow)
        self._widths = np.resize(self._widths, grow)
        self._vals = np.concatenate([self._vals, np.full((grow - len(self._vals),) + self._vals.shape[1:], np.nan)])

    def _thin(self) -> None:
        # keep the head, drop every other row of the older half of the rest, keep the recent half
        head, n = self.keep_head, self._n
        mid = head + (n - head) // 2
        keep = np.concatenate([np.arange(head), np.arange(head, mid, 2), np.arange(mid, n)])
        m = len(keep)
        self._steps[:m] = self._steps[keep]
        self._widths[:m] = self._widths[keep]
        self._vals[:m] = self._vals[keep]
        self._n = m

    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._n].copy()

    def array(self, fill: float = np.nan) -> np.ndarray:
        """Values: shape (n,) for scalars, (n, width) for vectors (short rows padded with fill)."""
        if self._vals is None:
            return np.zeros((0,))
        out = self._vals[: self._n].copy()
        if out.ndim == 2:
            pad = np.arange(out.shape[1])[None, :] >= self._widths[: self._n, None]
            out[pad] = fill
        return out


class SignalStore:
    """Named series plus a dict of facts (one-off observations such as graph analysis)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.series: dict[str, Series] = {}
        self.facts: dict[str, Any] = {}
        # what a rule derived from the series and may reuse at the next evaluation (a causal statistic of
        # a series that only grows: its values for the old rows do not change); a cache, never exported
        self.memo: dict[Any, Any] = {}

    def __getitem__(self, name: str) -> Series:
        s = self.series.get(name)
        if s is None:
            s = self.series[name] = Series(self.capacity)
        return s

    def __contains__(self, name: str) -> bool:
        return name in self.series and len(self.series[name]) > 0

    def append(self, name: str, step: int, value: Any) -> None:
        self[name].append(step, value)
