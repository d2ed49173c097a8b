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
