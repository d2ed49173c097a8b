"""An accelerate loop: the prepared model and AcceleratedOptimizer are looked through, steps that
gradient accumulation skips are understood, accelerator.backward is seen."""
import pytest
import torch
from torch import nn

import nndoctor
from nndoctor.probes import tap

accelerate = pytest.importorskip("accelerate")


def _loop(fault="healthy", helper=False, mixed="no", epochs=4):
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    torch.manual_seed(0)
    acc = Accelerator(cpu=True, gradient_accumulation_steps=2, mixed_precision=mixed)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1024, 20, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32, shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sch = torch.optim.lr_scheduler.StepLR(opt, 30, 0.5)
    model, opt, dl, sch = acc.prepare(model, opt, dl, sch)
    assert type(opt).__name__ == "AcceleratedOptimizer"
    if helper:
        from nndoctor.integrations.accelerate import watch
        w = watch(model, opt, verbose=False)
    else:
        w = nndoctor.watch(model, opt)
    for _ in range(epochs):
        for xb, yb in dl:
            with acc.accumulate(model):
                out = model(xb)
                loss = nn.functional.cross_entropy(out.softmax(-1) if fault == "softmax" else out, yb)
                acc.backward(loss)
                acc.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sch.step()
                opt.zero_grad()
    report = w.close()
    assert tap.active_count() == 0
    return report


@pytest.mark.parametrize("helper", [False, True])
def test_healthy_accelerate_loop_with_accumulation_is_quiet(helper):
    r = _loop(helper=helper)
    assert r.steps == 64 and r.backward_passes == 128   # accumulation: one step per two backward passes
    assert [f.code for f in r.findings if f.severity != "info"] == [] and r.internal_errors == []


def test_bf16_accelerate_loop_is_quiet_and_a_fault_is_found():
    r = _loop(mixed="bf16", epochs=2)
    assert r.steps == 32 and [f.code for f in r.findings if f.severity != "info"] == []
    r = _loop(fault="softmax", epochs=1)
    assert "loss-mismatch" in r.codes
