"""AMP: GradScaler's loss scaling and skipped steps are understood; bf16 autocast on the CPU works."""
import torch
from torch import nn

import nndoctor
from nndoctor.probes import tap


def _run(dtype, init_scale=2.0 ** 16, nan_grad=False, steps=120, lr=0.1, watch=True):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 20, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
    doc = nndoctor.watch(model, opt) if watch else None
    losses = []
    for i in range(steps):
        j = (i * 32) % 512
        opt.zero_grad()
        with torch.autocast("cpu", dtype=dtype):
            out = model(X[j:j + 32])
            if nan_grad:  # a finite value whose gradient is NaN (sqrt at 0, times 0)
                out = out + 0 * (out - out.detach()).sqrt().sum()
            loss = nn.functional.cross_entropy(out, y[j:j + 32])
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.detach().float())
    report = doc.close() if doc is not None else None
    return report, doc, torch.stack(losses), scaler


def test_fp16_overflowing_scale_skips_steps_quietly_and_the_loss_series_is_unscaled():
    # init_scale 2**40 overflows fp16 gradients: GradScaler skips steps and halves the scale until
    # it fits (a couple of dozen steps here), then trains normally
    r, doc, losses, scaler = _run(torch.float16, init_scale=2.0 ** 40)
    amp = doc.store.facts["amp"]
    assert amp["skipped"] >= 5 and amp["streak"] == 0
    assert r.steps == 120 - amp["skipped"] and r.backward_passes == 120
    assert [f.code for f in r.findings if f.severity != "info"] == []
    series = doc.store["loss"].array()
    assert abs(series[0] - float(losses[0])) < 1e-6 * max(1.0, float(losses[0]))  # not loss x 2**40
    assert series.max() < 10


def test_persistent_skipping_is_non_finite():
    r, doc, _, scaler = _run(torch.float16, nan_grad=True)
    f = r.get("non-finite")
    assert f is not None and f.severity == "error"
    assert f.evidence["amp_skipped_steps"] == 120 and f.evidence["loss_scale"] < 1
    assert "optimizer-step-missing" not in r.codes   # the scaler called step(); it skipped it for NaN


def test_bf16_autocast_healthy_quiet_and_faulty_found():
    r, *_ = _run(torch.bfloat16, steps=60)
    assert [f.code for f in r.findings if f.severity != "info"] == [] and r.internal_errors == []
    r, *_ = _run(torch.bfloat16, lr=300.0, steps=60)
    assert {"non-finite", "exploding-gradient", "learning-rate-too-high"} & set(r.codes)


def test_watching_amp_changes_nothing():
    _, _, a, sa = _run(torch.float16, init_scale=2.0 ** 40, steps=40, watch=False)
    _, _, b, sb = _run(torch.float16, init_scale=2.0 ** 40, steps=40)
    assert torch.equal(a, b) and sa.get_scale() == sb.get_scale()
    assert tap.active_count() == 0
    assert torch.amp.GradScaler.scale.__name__ == "scale" and not hasattr(torch.amp.GradScaler.scale, "__wrapped__")
