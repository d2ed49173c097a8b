import numpy as np
import pytest

from nndoctor.signals import Series, SignalStore


def test_series_is_bounded_keeps_head_and_recent_history():
    s = Series(capacity=200, keep_head=20)
    for i in range(10_000):
        s.append(i, float(i))
    assert len(s) <= 200 and s.total == 10_000
    steps = s.steps
    assert list(steps[:20]) == list(range(20))          # the start of training is kept
    assert list(steps[-50:]) == list(range(9950, 10000))  # recent history at full resolution
    assert np.all(np.diff(steps) > 0)


def test_vector_series_pads():
    st = SignalStore()
    st.append("g", 1, np.array([1.0, 2.0]))
    st.append("g", 2, np.array([1.0, 2.0, 3.0]))
    a = st["g"].array(fill=-1.0)
    assert a.shape == (2, 3) and a[0, 2] == -1.0
    assert "g" in st and "h" not in st


def test_descent_cosine_of_an_update_against_its_gradient():
    import torch
    from nndoctor.probes.tensors import descent_cosine
    u = [torch.randn(3, 4), torch.randn(5)]
    assert float(descent_cosine(u, [-x for x in u])) == pytest.approx(-1.0, abs=1e-6)     # plain SGD: downhill
    assert float(descent_cosine(u, [x.clone() for x in u])) == pytest.approx(1.0, abs=1e-6)  # uphill
    # a gradient in another dtype, and a non-contiguous one: the same cosine
    assert float(descent_cosine(u, [-u[0].double(), -u[1]])) == pytest.approx(-1.0, abs=1e-6)
    w = torch.randn(4, 3).t()
    assert float(descent_cosine([w.contiguous()], [-w])) == pytest.approx(-1.0, abs=1e-6)
    # what cannot be measured: a missing gradient, a sparse one, nothing
    assert descent_cosine(u, [None, -u[1]]) is None
    assert descent_cosine([torch.ones(3)], [torch.ones(3).to_sparse()]) is None
    assert descent_cosine([], []) is None


def test_a_bulk_extend_beyond_the_allocated_rows_equals_row_by_row_appends(monkeypatch):
    """Batches of rows larger than the room left (a flush after many steps) go in by one copy after the
    series grows, with the same content as appending each row."""
    rng = np.random.default_rng(0)
    for vec in (False, True):
        a, b = Series(capacity=4096), Series(capacity=4096)
        step = 0
        for k in (3, 61, 200, 1, 700):
            steps = np.arange(step, step + k)
            step += k
            vals = rng.normal(size=(k, 4)) if vec else rng.normal(size=k)
            a.extend(steps, vals)
            for s, v in zip(steps, vals):
                b.append(int(s), v)
        assert np.array_equal(a.steps, b.steps)
        assert np.allclose(a.array(), b.array(), equal_nan=True)
    calls = []
    monkeypatch.setattr(Series, "append", lambda self, s, v: calls.append(s))
    c = Series(capacity=4096)
    c.extend(np.arange(500), np.zeros(500))
    assert not calls and len(c) == 500, "one copy, not one append per row"


def test_descent_cosine_of_a_small_cpu_model_flattens_with_the_same_value(monkeypatch):
    """Up to _FLAT_MAX elements on the CPU the update and the gradient are flattened into one dot product: the
    same cosine as the per-tensor sum, for the tuple torch._foreach_sub returns as for a list, and complex
    parameters keep the per-tensor path (their real inner product)."""
    import torch

    import nndoctor.probes.tensors as T
    torch.manual_seed(0)
    g = [torch.randn(32, 10), torch.randn(32), torch.randn(1, 32)]
    before = [torch.randn_like(x) for x in g]
    after = [b - 0.1 * x + 0.05 * torch.randn_like(x) for b, x in zip(before, g)]
    u = torch._foreach_sub(after, before)
    flat = float(T.descent_cosine(u, g, T.norms(list(u))))
    monkeypatch.setattr(T, "_FLAT_MAX", 0)
    per = float(T.descent_cosine(list(u), g))
    assert flat == pytest.approx(per, abs=1e-6) and -1.0 < flat < -0.5
    monkeypatch.undo()
    c = [torch.randn(4, dtype=torch.cfloat)]
    assert float(T.descent_cosine([-x for x in c], c)) == pytest.approx(-1.0, abs=1e-6)
