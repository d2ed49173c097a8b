"""The rules' small statistics against their textbook definitions (numpy / brute force)."""
import itertools
import math
import warnings

import numpy as np
import pytest

from nndoctor.diagnoses.gradients import _bursts, _running_median_before
from nndoctor.diagnoses.stats import (mann_kendall_z, median, row_median, row_nanmedian, rows_at_same_steps,
                                      spearman, step_means, windows)


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


def test_step_means_match_nanmean_per_step_with_nan_and_inf():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(1, 60))
        steps = np.sort(rng.integers(0, 20, n)).astype(float)
        vals = rng.normal(size=n) * 10 ** rng.uniform(-3, 3, n)
        u = rng.random(n)
        vals[u < 0.1] = np.nan
        vals[(u > 0.1) & (u < 0.13)] = np.inf
        vals[(u > 0.13) & (u < 0.15)] = -np.inf
        got_steps, got = step_means(steps, vals)
        want_steps = np.unique(steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.array([np.nanmean(vals[steps == s]) for s in want_steps])
        np.testing.assert_array_equal(got_steps, want_steps)
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 31])
def test_median_matches_numpy_with_nan_inf_and_ints(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    assert median(x) == float(np.median(x))
    assert median(x.tolist()) == float(np.median(x))
    ints = rng.integers(0, 9, size=n)
    assert median(ints) == float(np.median(ints))
    x[0] = np.inf
    assert median(x) == float(np.median(x))
    x[-1] = np.nan
    assert math.isnan(median(x))
    assert math.isnan(median(np.array([])))


def test_spearman_is_the_pearson_correlation_of_the_ranks():
    rng = np.random.default_rng(0)
    for n in (3, 5, 12, 40):
        x, y = rng.normal(size=n), rng.normal(size=n)
        rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
        assert spearman(x, y) == pytest.approx(float(np.corrcoef(rx, ry)[0, 1]), abs=1e-12)
    assert spearman(np.arange(6), np.arange(6) ** 2) == pytest.approx(1.0)
    assert spearman(np.arange(6), -np.arange(6)) == pytest.approx(-1.0)
    assert spearman(np.arange(2), np.arange(2)) == 0.0


def test_rows_at_same_steps_pairs_equal_steps_in_order():
    a = np.array([1, 5, 20, 40, 41, 60])
    b = np.array([0, 1, 2, 3, 5, 6, 20, 41, 59])
    ia, ib = rows_at_same_steps(a, b)
    assert ia.tolist() == [0, 1, 2, 4] and ib.tolist() == [1, 4, 6, 7]
    assert a[ia].tolist() == b[ib].tolist()
    for x, y in ((a, np.array([], dtype=int)), (np.array([], dtype=int), b)):
        ia, ib = rows_at_same_steps(x, y)
        assert len(ia) == len(ib) == 0


def test_bursts_are_found_at_their_first_step_and_counted_once_per_episode():
    L = np.zeros(60)
    L[30:33] = [2.5, 3.0, 2.2]     # one compounding episode (3 steps >= 1 decade above)
    L[45] = 2.5                    # a single odd batch below 3 decades: not an explosion
    L[50] = 3.5                    # a single one at 3.5 decades: counted
    got = _bursts(L)
    assert [t for t, _ in got] == [30, 50]
    assert got[0][1] == pytest.approx(3.0) and got[1][1] == pytest.approx(3.5)


def test_mann_kendall_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(3)
    for n in (8, 13, 60):
        x = np.round(rng.normal(size=n).cumsum(), 1)  # rounding makes ties
        s = sum(np.sign(x[j] - x[i]) for i, j in itertools.combinations(range(n), 2))
        sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
        want = (s - np.sign(s)) / sd
        assert mann_kendall_z(x) == pytest.approx(want)
        with_nan = np.insert(x, [2, 5], np.nan)   # non-finite points are left out
        assert mann_kendall_z(with_nan) == mann_kendall_z(x)
    assert mann_kendall_z(np.arange(30.0)) > 1.96 > -1.96 > mann_kendall_z(-np.arange(30.0))


def test_mann_kendall_memory_does_not_grow_with_the_lengths_tested():
    """The rules test series of ever new lengths: the pair mask must not be kept once per length (an LRU
    cache of one n x n mask per length grew by ~40 kB per new length, up to 16 MB, and made the 2000-step
    memory test fail in CI)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    mann_kendall_z(rng.normal(size=300))   # the one shared mask is made here
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(150, 300, 7):
            mann_kendall_z(rng.normal(size=n))
        grew = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grew < 50_000, grew


def test_running_median_before_is_the_median_of_the_preceding_window():
    L = np.random.default_rng(0).normal(size=57)
    out = _running_median_before(L, 20)
    assert np.isnan(out[0])
    for t in range(1, 57):
        assert out[t] == pytest.approx(np.median(L[max(0, t - 20): t]))


def test_fused_layer_input_statistics_match_their_definitions():
    """The activation probe's packed layer-input statistics, decoded on the host, equal the plain
    definitions (exact thresholds included: values at exactly 0.99, 0.01, 0 and ±1)."""
    import torch

    from nndoctor.probes.activations import SIGMOID_SAT, TANH_SAT, _decode_layer_input, _layer_input_stats

    torch.manual_seed(0)
    edge = torch.tensor([[-1.0, 0.0, 1.0, -0.0, 0.99, -0.99, 0.01, 0.995, -0.995, 0.005, 2.0, -2.0, 0.5]])
    # float32/float64 CPU tensors take the numpy path (plain floats), half the torch path (device tensors)
    for x in (torch.randn(64, 13), edge, torch.rand(8, 3, 5, 5), torch.randn(4, 7).half(), edge.double()):
        out = torch.randn(5, 3)
        v = _layer_input_stats(x, out)
        assert isinstance(v[2], float) == (x.dtype != torch.float16)
        packed = list(v[2:]) if isinstance(v[2], float) else torch.cat([t.float().reshape(-1) for t in v[2:]]).tolist()
        got = _decode_layer_input(packed, v[0], v[1])
        xf = x if x.dtype == torch.float64 else x.float()
        want = {"rms_in": xf.pow(2).mean().sqrt(), "rms_out": out.pow(2).mean().sqrt(), "min_in": xf.min(),
                "max_in": xf.max(), "sat_in_tanh": (xf.abs() > TANH_SAT).float().mean(),
                "sat_in_sigmoid": ((xf < SIGMOID_SAT) | (xf > 1 - SIGMOID_SAT)).float().mean(),
                "discrete_in": ((xf == 0) | (xf.abs() == 1)).float().mean()}
        xm = xf.reshape(len(xf), -1)   # the part that varies over the batch (NaN for a batch of one)
        want["crms_in"] = (xm - xm.mean(0)).pow(2).mean().sqrt() if len(xf) > 1 else float("nan")
        for k, w in want.items():
            assert got[k] == pytest.approx(float(w), rel=1e-4, abs=1e-7, nan_ok=True), k


def test_the_probes_cpu_path_gives_the_same_statistics_as_the_device_path(monkeypatch):
    """On the CPU the activation probe reads tensors through numpy; the torch ops it uses on other
    devices give the same numbers (dead units, tail shares, layer-input statistics), NaN and Inf included."""
    import torch

    from nndoctor.probes import activations as A

    torch.manual_seed(0)
    xs = [torch.randn(32, 30) * 50, torch.rand(8, 4, 6, 6) - 0.3, torch.tensor([[0.0, float("nan"), 1.0, float("inf")]]),
          torch.sigmoid(torch.randn(16, 5) * 8), torch.tanh(torch.randn(3, 7, 11) * 4)]

    def run():
        out = []
        for x in xs:
            o = x * 2 + 1
            v = A._layer_input_stats(x, o)
            packed = list(v[2:]) if isinstance(v[2], float) else torch.cat([t.float().reshape(-1) for t in v[2:]]).tolist()
            out.append(A._decode_layer_input(packed, v[0], v[1]))
            for dim in range(x.ndim):
                a = A._alive(x, dim)
                out.append({"dead": float(A._dead_share(a)[0]) if isinstance(A._dead_share(a), torch.Tensor)
                            else A._dead_share(a), "units": A._n_units(a)})
            for kind in ("tanh", "sigmoid"):
                out.append({kind: float(A._tail_share(x, kind))})
        return out

    host = run()
    monkeypatch.setattr(A, "_host_view", lambda t: None)
    device = run()
    assert len(host) == len(device)
    for h, d in zip(host, device):
        assert h.keys() == d.keys()
        for k in h:
            assert h[k] == pytest.approx(d[k], rel=1e-5, abs=1e-7, nan_ok=True), k


def test_an_optimizer_state_snapshot_is_a_deep_copy_with_each_tensor_copied_once():
    import torch

    from nndoctor.repair.engine import _cpu

    m = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    m(torch.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    snap = _cpu(sd)
    assert snap["param_groups"] == sd["param_groups"] and snap["param_groups"] is not sd["param_groups"]
    for k, s in sd["state"].items():
        for name, t in s.items():
            c = snap["state"][k][name]
            assert torch.equal(c, t) and c.data_ptr() != t.data_ptr()
    before = {k: {n: t.clone() for n, t in s.items()} for k, s in snap["state"].items()}
    m(torch.randn(4, 3)).sum().backward()
    opt.step()   # the live state moves on; the snapshot does not
    for k, s in before.items():
        for name, t in s.items():
            assert torch.equal(snap["state"][k][name], t)


def test_mann_whitney_z_matches_scipy_and_is_scale_free():
    from scipy import stats as sps

    from nndoctor.diagnoses.stats import mann_whitney_z
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.3, 1.0, -0.5):
        a, b = rng.normal(size=40), rng.normal(size=25) + shift
        p = sps.mannwhitneyu(b, a, alternative="greater", use_continuity=False, method="asymptotic").pvalue
        assert mann_whitney_z(a, b) == pytest.approx(sps.norm.isf(p), abs=1e-9)
        # ranks only: a monotone transform of both samples leaves it unchanged
        assert mann_whitney_z(np.exp(a), np.exp(b)) == pytest.approx(mann_whitney_z(a, b))
    assert mann_whitney_z(np.array([1.0, 2.0]), np.arange(10.0)) == 0.0          # too few values
    assert mann_whitney_z(np.array([1.0, np.nan, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) > 0


def test_the_running_median_kept_between_evaluations_equals_the_full_computation():
    from nndoctor.diagnoses.gradients import _running_median_before_memo
    rng = np.random.default_rng(1)
    L = rng.normal(size=400)
    memo = {}
    for n in (3, 19, 20, 21, 40, 41, 41, 100, 257, 400):   # a series that grows between evaluations
        got = _running_median_before_memo(memo, "k", L[:n], 20)
        np.testing.assert_array_equal(got, _running_median_before(L[:n], 20))
    # rows rewritten (a rollback left some out): recomputed in full, not patched
    L2 = np.concatenate([L[:100], L[200:]])
    np.testing.assert_array_equal(_running_median_before_memo(memo, "k", L2, 20), _running_median_before(L2, 20))
    np.testing.assert_array_equal(_running_median_before_memo(memo, "k", L2[:50], 20),
                                  _running_median_before(L2[:50], 20))
    assert _bursts(L, memo={}, key="a") == _bursts(L)


def test_the_probes_sorted_quantile_equals_torch_quantile():
    import torch

    from nndoctor.probes.activations import _quantile_rows
    g = torch.Generator().manual_seed(0)
    for n in (2, 3, 7, 64, 100, 2048):
        f = torch.randn(n, 5, generator=g).abs()
        for q in (0.5, 0.9, 0.99):
            torch.testing.assert_close(_quantile_rows(f, q), torch.quantile(f, q, dim=0), rtol=1e-5, atol=1e-6)
    f[3, 1] = float("nan")   # a column with a NaN is NaN, the others unchanged
    torch.testing.assert_close(_quantile_rows(f, 0.99), torch.quantile(f, 0.99, dim=0), equal_nan=True)


def test_the_input_feature_statistics_read_through_numpy_equal_the_torch_path():
    """A CPU tensor's per-feature statistics (unnormalized-input's evidence) come from partial partitions
    on a numpy view: the same numbers as the torch path (sorts, torch.median), NaN columns included."""
    import torch

    from nndoctor.probes import activations as A
    g = torch.Generator().manual_seed(0)
    cases = [((64, 30), 1), ((32, 3, 8, 8), 1), ((5, 7, 4), 2), ((1, 6), 1), ((2, 4), 1), ((3000, 3), 1)]
    for shape, dim in cases:
        for dtype in (torch.float32, torch.float64):
            x = torch.randn(*shape, generator=g, dtype=dtype)
            x[x > 1.0] = 0.0       # features at one value (their median) much of the time
            x[x < -1.5] = 1.0
            if x.shape[0] > 3:
                x[2, 0] = float("nan")
            host = A._feature_stats(x, dim)
            view, A._host_view = A._host_view, lambda t: None   # the torch path, as for a GPU tensor
            try:
                ref = A._feature_stats(x, dim)
            finally:
                A._host_view = view
            assert host.dtype == ref.dtype == torch.float32 and host.shape == ref.shape
            torch.testing.assert_close(host, ref, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_quantile_equals_numpy_and_needs_no_numpy_ma():
    import subprocess
    import sys

    from nndoctor.diagnoses.stats import quantile
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 40, 101):
        x = rng.normal(size=n)
        for q in (0.0, 0.25, 0.5, 0.9, 1.0):
            assert quantile(x, q) == pytest.approx(float(np.quantile(x, q)), rel=1e-12, abs=1e-12)
    assert math.isnan(quantile([], 0.5)) and math.isnan(quantile([1.0, np.nan], 0.5))
    # median and quantile do not import numpy.ma (np.quantile/np.median/np.nanmedian do: ~20-30 ms once)
    code = ("import sys, numpy as np; from nndoctor.diagnoses.stats import median, quantile, row_nanmedian; "
            "median([1.0, 2.0]); quantile([1.0, 2.0], 0.9); row_nanmedian(np.ones((2, 3))); "
            "print('numpy.ma' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("n,k", [(0, 3), (2, 3), (3, 3), (10, 1), (10, 3), (50, 20), (7, 0)])
def test_windows_are_numpys_sliding_windows(n, k):
    rng = np.random.default_rng(n + k)
    for x in (rng.normal(size=n), rng.normal(size=2 * n)[::2], np.arange(n, dtype=np.int64)):   # (a strided view too)
        try:
            ref = np.lib.stride_tricks.sliding_window_view(x, k)
        except ValueError:
            with pytest.raises(ValueError):
                windows(x, k)
            continue
        got = windows(x, k)
        assert got.shape == ref.shape and np.array_equal(got, ref)
        assert not got.flags.writeable   # a view of the rules' input: never written through


def test_a_burst_within_the_first_steps_must_clear_a_higher_bar():
    """Before 5 steps the running level rests on 1-4 of them: a single step counts as a burst there only at
    >= 4 decades (an RNN's first update took its gradient up 5.7 decades and wrecked the weights), where
    later 3 decades at once suffice."""
    from nndoctor.diagnoses.gradients import _bursts
    flat = np.full(40, 2.0)
    early = flat.copy()
    early[1] = 7.7            # 5.7 decades above row 0
    assert _bursts(early) == [(1, pytest.approx(5.7))]
    modest = flat.copy()
    modest[2] = 5.5           # 3.5 decades: a burst later on, not yet
    assert _bursts(modest) == []
    later = flat.copy()
    later[12] = 5.5
    assert _bursts(later) == [(12, pytest.approx(3.5))]
    assert _bursts(early, memo={}, key="k") == _bursts(early)
