import numpy as np

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
