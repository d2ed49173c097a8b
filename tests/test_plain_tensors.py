"""`nndoctor run` on scripts written without nn.Module (and without an optimizer): weights made with
torch.randn(..., requires_grad=True), updated by hand or by an optimizer over the bare tensors (the seventh
held-out audit's beginner-style programs)."""
import io
from contextlib import redirect_stdout

import pytest

from nndoctor.runner import run_script

_DATA = '''
import torch
torch.manual_seed(0)
X = torch.randn(256, 16)
y = (X[:, :4].sum(1) > 0).long()
W1 = torch.randn(16, 32) * 0.3
W1.requires_grad = True
b1 = torch.zeros(32, requires_grad=True)
W2 = torch.randn(32, 2) * 0.3
W2.requires_grad = True
b2 = torch.zeros(2, requires_grad=True)
'''

_MANUAL = _DATA + '''
for step in range(300):
    i = (step * 32) % 256
    h = torch.relu(X[i:i + 32] @ W1 + b1)
    loss = torch.nn.functional.cross_entropy(h @ W2 + b2, y[i:i + 32])
    loss.backward()
    with torch.no_grad():
        for w in (W1, b1, W2, b2):
            w -= 0.05 * w.grad
{zero}
'''

_NUMPY_CUT = _DATA + '''
import numpy as np
opt = torch.optim.Adam([W1, b1, W2, b2], lr=0.01)
for step in range(300):
    i = (step * 32) % 256
    z = X[i:i + 32] @ W1 + b1
    h = {hidden}
    loss = torch.nn.functional.cross_entropy(h @ W2 + b2, y[i:i + 32])
    opt.zero_grad()
    loss.backward()
    opt.step()
'''


def _run(tmp_path, src):
    path = tmp_path / "train.py"
    path.write_text(src)
    with redirect_stdout(io.StringIO()):
        code, report = run_script(str(path), [], quiet=True)
    assert code == 0 and not report.internal_errors, report.internal_errors
    return report


@pytest.mark.parametrize("zeroed", [False, True])
def test_hand_written_updates_of_bare_tensors_are_watched(tmp_path, zeroed):
    """No model, no optimizer: the tensors the loss reaches are adopted as the parameters (a note says so),
    and a .grad never reset between the hand-written updates is gradient-not-zeroed."""
    zero = "            w.grad.zero_()" if zeroed else ""
    report = _run(tmp_path, _MANUAL.format(zero=zero))
    assert any("no nn.Module and no optimizer were found" in n and "`W1`" in n for n in report.notes), report.notes
    codes = {f.code for f in report.findings if f.severity != "info"}
    assert ("gradient-not-zeroed" in codes) != zeroed, [(f.code, f.summary) for f in report.findings]


@pytest.mark.parametrize("cut", [True, False])
def test_bare_tensors_cut_off_by_numpy_get_no_gradient(tmp_path, cut):
    """An optimizer over bare tensors whose hidden layer goes through numpy: W1 and b1 (most of what it trains)
    are never reached by a backward pass: broken-gradient-flow, an error naming them."""
    hidden = "torch.Tensor(np.clip(z.detach().numpy(), 0, 6))" if cut else "torch.clamp(z, 0, 6)"
    report = _run(tmp_path, _NUMPY_CUT.format(hidden=hidden))
    found = [f for f in report.findings if f.code == "broken-gradient-flow" and f.severity != "info"]
    if cut:
        assert found and found[0].severity == "error" and set(found[0].where) == {"W1", "b1"}, found
    else:
        assert not found, [(f.code, f.summary) for f in report.findings]


_STRAY = '''
import torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)
X = torch.randn(256, 8)
y = X[:, :1] * 2 + 0.1 * torch.randn(256, 1)
net = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
raw_sigma = nn.Parameter(torch.tensor(0.5))     # a learned noise scale beside the model
opt = torch.optim.Adam({params}, lr=3e-3)
for step in range(200):
    i = (step * 32) % 256
    mu, s = net(X[i:i + 32]), F.softplus(raw_sigma) + 1e-3
    loss = (0.5 * ((y[i:i + 32] - mu) / s) ** 2 + torch.log(s)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
{manual}
print(f"sigma={{float(F.softplus(raw_sigma)):.4f}}")
'''


@pytest.mark.parametrize("case", ["left_out", "optimized", "by_hand"])
def test_an_nn_parameter_of_no_module_left_out_of_the_optimizer(tmp_path, case):
    """`raw_sigma = nn.Parameter(...)` beside the model, the optimizer built from `net.parameters()`: the loss
    reaches it, no optimizer holds it, nothing updates it: parameter-not-optimized names it. Not when it is in
    the optimizer, nor when the script updates it by hand."""
    params = "list(net.parameters()) + [raw_sigma]" if case == "optimized" else "net.parameters()"
    manual = ("    with torch.no_grad():\n        raw_sigma -= 3e-3 * raw_sigma.grad\n        raw_sigma.grad = None"
              if case == "by_hand" else "")
    report = _run(tmp_path, _STRAY.format(params=params, manual=manual))
    found = [f for f in report.findings if f.code == "parameter-not-optimized" and f.severity != "info"]
    if case == "left_out":
        assert found and found[0].where == ["raw_sigma"], [(f.code, f.summary) for f in report.findings]
    else:
        assert not found, [(f.code, f.summary) for f in report.findings]


def test_repair_puts_the_left_out_parameter_into_the_optimizer(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(_STRAY.format(params="net.parameters()", manual=""))
    buf = io.StringIO()
    with redirect_stdout(buf):
        code, report = run_script(str(path), [], quiet=True, fix=True)
    assert code == 0 and not report.internal_errors
    rec = [r for r in report.repairs if r.get("remedy") == "optimizer-all-params"]
    assert rec and rec[0]["outcome"] in ("cleared", "improved") and rec[0]["action"]["parameters"] == ["raw_sigma"]
    # it learns: from softplus(0.5) = 0.974 toward the residual std (~0.1) at Adam's pace of ~lr per step
    assert float(buf.getvalue().split("sigma=")[-1].split()[0]) < 0.93


def test_weights_rebound_at_each_update_are_not_read_as_a_missing_step(tmp_path):
    """`W = (W - lr * W.grad).detach().requires_grad_()`: new tensors at every update (a healthy program of the
    seventh audit drew optimizer-step-missing, an error: the first tensors, adopted, never change). The rebinding
    is seen, said in a note, and the checks of hand-written updates stand down."""
    src = _DATA + '''
for step in range(300):
    i = (step * 32) % 256
    h = torch.relu(X[i:i + 32] @ W1 + b1)
    loss = torch.nn.functional.cross_entropy(h @ W2 + b2, y[i:i + 32])
    loss.backward()
    W1, b1, W2, b2 = [(w - 0.05 * w.grad).detach().requires_grad_() for w in (W1, b1, W2, b2)]
'''
    report = _run(tmp_path, src)
    assert not [f for f in report.findings if f.severity != "info"], [(f.code, f.summary) for f in report.findings]
    assert any("new weight tensors at each update" in n for n in report.notes), report.notes



def _run_fix(tmp_path, src):
    path = tmp_path / "train.py"
    path.write_text(src)
    buf = io.StringIO()
    with redirect_stdout(buf):
        code, report = run_script(str(path), [], quiet=True, fix=True)
    assert code == 0 and not report.internal_errors, report.internal_errors
    return report, buf.getvalue()


_FINAL_LOSS = '''
with torch.no_grad():
    h = torch.relu(X @ W1 + b1)
    print(f"final_loss={float(torch.nn.functional.cross_entropy(h @ W2 + b2, y)):.5f}")
'''


def test_repair_zeroes_the_gradients_a_hand_written_update_never_resets(tmp_path):
    """No optimizer: repair mode is driven from the backward passes. The forgotten reset is repaired (the gradients
    zeroed before each pass that follows an update, in place: the script's `w -= lr * w.grad` keeps working), and
    the run ends where the script with the reset ends."""
    report, out = _run_fix(tmp_path, _MANUAL.format(zero="") + _FINAL_LOSS)
    rec = [r for r in report.repairs if r.get("code") == "gradient-not-zeroed"]
    assert rec and rec[0]["remedy"] == "zero-grad" and rec[0]["outcome"] in ("cleared", "improved"), report.repairs
    _, ref = _run_fix(tmp_path, _MANUAL.format(zero="            w.grad.zero_()") + _FINAL_LOSS)
    fixed, healthy = (float(s.split("final_loss=")[-1].split()[0]) for s in (out, ref))
    assert fixed < 1.5 * healthy + 0.02, (fixed, healthy)


def test_repair_of_hand_written_updates_keeps_hand_written_accumulation(tmp_path):
    """Accumulation by hand (two backward passes, then the update): the repaired reset comes only after an update,
    so the gradient the update uses is the sum of its two micro-batches' gradients, as the script means."""
    src = _DATA + '''
ok = []
for step in range(300):
    i = (step * 32) % 256
    parts = []
    for j in (i, i + 16):
        h = torch.relu(X[j:j + 16] @ W1 + b1)
        loss = torch.nn.functional.cross_entropy(h @ W2 + b2, y[j:j + 16]) / 2
        parts.append(torch.autograd.grad(loss, W1, retain_graph=True)[0])
        loss.backward()
    ok.append(bool(torch.allclose(W1.grad, parts[0] + parts[1], atol=1e-6)))
    with torch.no_grad():
        for w in (W1, b1, W2, b2):
            w -= 0.05 * w.grad
print("tail_ok=" + str(all(ok[-100:])))
'''
    report, out = _run_fix(tmp_path, src)
    assert [r for r in report.repairs if r.get("remedy") == "zero-grad"], report.repairs
    assert "tail_ok=True" in out


def test_repair_of_a_hand_written_log_of_zero_under_hand_written_updates(tmp_path):
    """A sigmoid and BCE typed out by hand turn NaN once a probability rounds to 1 (log(1 - p) = -inf); the update
    is hand-written. Repair restores the last healthy state -- zeroing the gradients in place, between the backward
    pass and the script's update, which would raise on a None gradient -- and guards the log: the weights stay
    finite and the model keeps what it had learned."""
    src = '''
import torch
torch.manual_seed(0)
X = torch.randn(512, 8)
X[:, 0] *= 6
y = (X[:, 0] > 0).float().unsqueeze(1)
model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
for step in range(400):
    z = model(X)
    p = 1 / (1 + torch.exp(-z))
    loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for w in model.parameters():
            w -= 0.5 * w.grad
with torch.no_grad():
    acc = float(((model(X) > 0).float() == y).float().mean())
    finite = all(bool(torch.isfinite(w).all()) for w in model.parameters())
print(f"acc={acc:.4f} finite={finite}")
'''
    report, out = _run_fix(tmp_path, src)
    rec = [r for r in report.repairs if r.get("code") == "non-finite"]
    assert rec and rec[0]["remedy"] == "safe-log" and rec[0]["outcome"] in ("cleared", "improved"), report.repairs
    assert "finite=True" in out and float(out.split("acc=")[-1].split()[0]) > 0.95, out
