"""Small scale-free statistics shared by the rules (numpy only)."""
from __future__ import annotations

import math

import numpy as np


def sig4(v) -> float | None:
    """v to 4 significant digits for evidence (None when v is not a finite number)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return float(f"{v:.4g}") if math.isfinite(v) else None


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation (no tie correction; enough for trend tests). The ranks are permutations of
    0..n-1, so their Pearson correlation is exactly 1 - 6 sum(d^2) / (n (n^2 - 1))."""
    n = len(x)
    if n < 3:
        return 0.0
    d = np.argsort(np.argsort(x)) - np.argsort(np.argsort(y))
    return float(1.0 - 6.0 * float(d @ d) / (n * (n * n - 1.0)))


def rows_at_same_steps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (ia, ib) with a[ia] == b[ib], in a's order, for two increasing step series (e.g.
    the sampled update steps and the per-step gradient rows)."""
    a, b = np.asarray(a), np.asarray(b)
    if not len(a) or not len(b):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    ib = np.minimum(np.searchsorted(b, a), len(b) - 1)
    hit = b[ib] == a
    return np.flatnonzero(hit), ib[hit]


def decades(a: float, b: float) -> float:
    """log10(b / a) for positive a, b (0 when either is not positive)."""
    if not (a > 0 and b > 0) or not (math.isfinite(a) and math.isfinite(b)):
        return 0.0
    return math.log10(b / a)


def robust_noise(x: np.ndarray) -> float:
    """Step-to-step noise of a series, insensitive to its trend and to outliers: the MAD of the
    first differences, scaled to a standard deviation (for i.i.d. noise, diff has variance 2 s^2)."""
    x = x[np.isfinite(x)]
    if len(x) < 4:
        return float("nan")
    d = np.diff(x)
    return median(np.abs(d - median(d))) * 1.4826 / math.sqrt(2)


_UPPER_MAX = 1024
_upper_big: np.ndarray | None = None


def _upper(n: int) -> np.ndarray:
    """The n x n boolean mask of the pairs (i, j), i < j.

    For n <= 1024 it is a view of one mask (the top-left n x n block of an upper triangle is the upper
    triangle of that block), so memory stays flat however many lengths the rules test; an LRU cache of
    one mask per length held up to 16 MB and grew as new lengths came. The mask grows by powers of two
    as longer series come (at most 1 MB): made at full size at once it cost ~2 ms in every process,
    paid by the first evaluation of a run whose series are all a few hundred points long."""
    global _upper_big
    if n > _UPPER_MAX:
        return np.triu(np.ones((n, n), dtype=bool), 1)
    if _upper_big is None or len(_upper_big) < n:
        size = min(_UPPER_MAX, max(128, 1 << (n - 1).bit_length()))
        idx = np.arange(size)
        _upper_big = idx[:, None] < idx[None, :]
    return _upper_big[:n, :n]


def mann_kendall_z(x: np.ndarray) -> float:
    """Mann-Kendall trend statistic (normal approximation): < -1.96 is a significant decrease at
    the 5% level, > 1.96 a significant increase. O(n^2): callers pass <= ~400 points."""
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 8:
        return 0.0
    # S = sum over i < j of sign(x_j - x_i). With G[i, j] = x_j > x_i, the rises are G's pairs above the
    # diagonal and the falls its pairs below it (x_j < x_i for i < j is G[j, i]); the diagonal is False, so
    # S = 2 * #(G above) - #G: one comparison matrix, no gather of the n(n-1)/2 pairs (ties count 0)
    G = x[None, :] > x[:, None]
    s = float(2 * np.count_nonzero(G & _upper(n)) - np.count_nonzero(G))
    var = n * (n - 1) * (2 * n + 5) / 18.0
    if s > 0:
        return (s - 1) / math.sqrt(var)
    if s < 0:
        return (s + 1) / math.sqrt(var)
    return 0.0


def mann_whitney_z(a: np.ndarray, b: np.ndarray) -> float:
    """Mann-Whitney rank-sum statistic (normal approximation) for "b tends to be larger than a": > 2.58 is
    significant at the 1% level (two-sided), < -2.58 says b tends to be smaller. Scale-free (ranks only);
    ties count a half. O(len(a) * len(b)): callers pass a few hundred values at most. 0 when either
    side has fewer than 3 finite values."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n1, n2 = len(a), len(b)
    if n1 < 3 or n2 < 3:
        return 0.0
    u = float(np.count_nonzero(b[None, :] > a[:, None]) + 0.5 * np.count_nonzero(b[None, :] == a[:, None]))
    mu = n1 * n2 / 2.0
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)
    return (u - mu) / sd


def median(x) -> float:
    """The median of a 1-D series, as ``float(np.median(x))`` (NaN when x holds a NaN or is empty)
    by one sort: ~10x cheaper than ``np.median`` on the short series the rules read at every
    evaluation (np.median's generic machinery costs ~30 us a call, the sort ~2 us)."""
    a = np.asarray(x, dtype=float).ravel()
    n = a.size
    if n == 0:
        return float("nan")
    s = np.sort(a)  # NaN sorts last
    if s[-1] != s[-1]:
        return float("nan")
    k = n // 2
    return float(s[k]) if n % 2 else float(0.5 * (s[k - 1] + s[k]))


def windows(x: np.ndarray, k: int) -> np.ndarray:
    """The read-only (len(x) - k + 1, k) view of x's length-k windows, as
    ``np.lib.stride_tricks.sliding_window_view(x, k)`` for a 1-D array, without its generic argument
    handling (~15 us a call; the rules take such views at every evaluation)."""
    x = np.ascontiguousarray(x)
    n = x.shape[0] - k + 1
    if n <= 0 or k <= 0:
        return np.lib.stride_tricks.sliding_window_view(x, k)   # (its errors and empty shapes)
    return np.lib.stride_tricks.as_strided(x, shape=(n, k), strides=(x.strides[0], x.strides[0]), writeable=False)


def row_median(X: np.ndarray) -> np.ndarray:
    """Median of each row of a 2-D array (NaN where a row holds NaN, as ``np.median(X, axis=1)``).

    A sort of short rows: several times faster than ``np.median(axis=1)`` on the sliding-window
    views the rules take of a series, and these run at every evaluation."""
    if X.shape[1] == 0:
        return np.full(X.shape[0], np.nan)
    S = np.sort(X, axis=1)  # NaN sorts last
    k = X.shape[1]
    out = 0.5 * (S[:, (k - 1) // 2] + S[:, k // 2])
    out[np.isnan(S[:, -1])] = np.nan
    return out


def row_nanmedian(X: np.ndarray) -> np.ndarray:
    """Median of the non-NaN values of each row (NaN for a row with none), as
    ``np.nanmedian(X, axis=1)`` without its per-row Python cost."""
    if X.shape[1] == 0:
        return np.full(X.shape[0], np.nan)
    S = np.sort(X, axis=1)  # NaN sorts last
    k = (~np.isnan(S)).sum(axis=1)
    r = np.arange(len(S))
    out = 0.5 * (S[r, np.maximum(k - 1, 0) // 2] + S[r, k // 2 - (k == 0)])
    out[k == 0] = np.nan
    return out


def step_means(steps: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct steps, and the mean of the non-NaN values at each (NaN where a step has none), as
    ``[np.nanmean(vals[steps == u]) for u in np.unique(steps)]`` in three array ops instead of a
    Python loop over the steps (a validation series logs several batches per step)."""
    uniq, inv = np.unique(steps, return_inverse=True)
    ok = ~np.isnan(vals)
    cnt = np.bincount(inv[ok], minlength=len(uniq))
    tot = np.bincount(inv[ok], weights=vals[ok], minlength=len(uniq))
    with np.errstate(invalid="ignore", divide="ignore"):
        return uniq, np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def quantile(x, q: float) -> float:
    """``float(np.quantile(x, q))`` (linear interpolation; NaN when x holds a NaN or is empty) by one sort:
    np.quantile, np.percentile and np.nanmedian import numpy.ma on their first call (~20-30 ms, once per
    process), which a short run watched by nndoctor would pay."""
    a = np.asarray(x, dtype=float).ravel()
    n = a.size
    if n == 0:
        return float("nan")
    s = np.sort(a)
    if s[-1] != s[-1]:
        return float("nan")
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


def thin(x: np.ndarray, n: int = 400) -> np.ndarray:
    """At most n evenly spaced points of x (for the O(n^2) tests)."""
    if len(x) <= n:
        return x
    idx = np.linspace(0, len(x) - 1, n).round().astype(int)
    return x[idx]


def segment_medians(x: np.ndarray, parts: int) -> list[float]:
    """Median of each of `parts` consecutive equal segments of x."""
    chunks = np.array_split(x[np.isfinite(x)], parts)
    return [median(c) if len(c) else float("nan") for c in chunks]

