"""Smoke test for the overhead benchmark: one model, a few steps, every mode.

Run with ``python -m pytest benchmarks/overhead/test_bench_smoke.py`` (it is outside ``tests/`` so the
default test run does not pick it up).
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("nndoctor_overhead_bench", HERE / "bench.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)


class _FakeWatch:
    """Stands in for nndoctor.watch: a forward hook on every module, a report with no findings."""

    def __init__(self, model, optimizer):
        self.calls = 0
        self.handles = [m.register_forward_hook(self._hook) for m in model.modules()]

    def _hook(self, *_):
        self.calls += 1

    def close(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def report(self):
        return []


def _nndoctor_ready() -> bool:
    sys.path.insert(0, str(bench.REPO_ROOT))
    try:
        import nndoctor

        return hasattr(nndoctor, "watch")
    except Exception:
        return False


@pytest.mark.parametrize("name", bench.MODEL_NAMES)
def test_build_forward(name):
    wl = bench.build(name, "cpu", n_batches=2)
    x, y = wl.batch(0)
    out = wl.model(x)
    assert out.shape == (wl.batch_size, 10) and y.shape == (wl.batch_size,)
    assert torch.isfinite(wl.loss_fn(out, y))


def test_measure_plain_anomaly_fake_watch():
    res = bench.measure("mlp", reps=2, steps=3, warmup=2, watch=_FakeWatch)
    assert set(res["median_ms_per_step"]) == {"plain", "nndoctor", "anomaly"}
    assert all(len(v) == 2 for v in res["block_ms_per_step"].values())
    assert res["ratio"]["anomaly"]["median_of_per_rep"] > 0
    assert res["nndoctor"]["findings"] == 0
    json.dumps(res)
    assert "mlp" in bench.text_table([res]) and "| mlp |" in bench.markdown_table([res])


@pytest.mark.skipif(not _nndoctor_ready(), reason="nndoctor.watch not available")
def test_measure_real_nndoctor():
    res = bench.measure("mlp", reps=2, steps=5, warmup=5)
    assert res["nndoctor"]["internal_errors"] == []
    assert res["nndoctor"]["findings_warning_or_error"] == 0, res["nndoctor"]["finding_descriptions"]


def test_cli_json(tmp_path):
    out = tmp_path / "o.json"
    assert bench.main(["--models", "mlp", "--modes", "plain,anomaly", "--reps", "2", "--steps", "2",
                       "--warmup", "1", "--threads", "1", "--json", str(out), "--markdown"]) == 0
    data = json.loads(out.read_text())
    assert data["environment"]["threads"] == 1 and data["results"][0]["model"] == "mlp"
