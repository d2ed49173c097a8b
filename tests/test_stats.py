"""The rules' small statistics against their textbook definitions (numpy / brute force)."""
import itertools
import math
import warnings

import numpy as np
import pytest

from nndoctor.diagnoses.gradients import _running_median_before
from nndoctor.diagnoses.stats import mann_kendall_z, row_median, row_nanmedian


@pytest.mark.parametrize("shape", [(40, 1), (40, 2), (40, 5), (40, 6), (3, 20), (0, 4)])
def test_row_medians_match_numpy_with_and_without_nan(shape):
    rng = np.random.default_rng(shape[1])
    X = rng.normal(size=shape)
    X[rng.random(shape) < 0.3] = np.nan
    if shape[0]:
        X[0] = np.nan  # a row with no value at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(row_nanmedian(X), np.nanmedian(X, axis=1), equal_nan=True)
    np.testing.assert_allclose(row_median(X), np.median(X, axis=1), equal_nan=True)


def test_mann_kendall_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(3)
    for n in (8, 13, 60):
        x = np.round(rng.normal(size=n).cumsum(), 1)  # rounding makes ties
        s = sum(np.sign(x[j] - x[i]) for i, j in itertools.combinations(range(n), 2))
        sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
        want = (s - np.sign(s)) / sd
        assert mann_kendall_z(x) == pytest.approx(want)
    assert mann_kendall_z(np.arange(30.0)) > 1.96 > -1.96 > mann_kendall_z(-np.arange(30.0))


def test_running_median_before_is_the_median_of_the_preceding_window():
    L = np.random.default_rng(0).normal(size=57)
    out = _running_median_before(L, 20)
    assert np.isnan(out[0])
    for t in range(1, 57):
        assert out[t] == pytest.approx(np.median(L[max(0, t - 20): t]))
