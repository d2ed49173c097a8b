"""Repair mode mechanisms: the live safe-sqrt (0*inf gradients), the measured LR with a dead-ReLU
re-initialization, the early rollback, the NaN safeguard after giving up, the optimizer state after
input standardization."""
import math
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import nndoctor
from nndoctor.findings import Finding
from nndoctor.repair import actions as A
from nndoctor.repair import engine as E

from conftest import blobs, mlp, train
from test_repair import _inject, attempts, kept, run_fixed


# --------------------------------------------------------------------------- safe-sqrt (0 * inf in backward)
def _ctl():
    return SimpleNamespace(backward_actions=[], doctor=SimpleNamespace(_internal_error=lambda *a: None))


def _pairwise_loss(z, eps=0.0):
    d = torch.sqrt(((z.unsqueeze(1) - z.unsqueeze(0)) ** 2).sum(-1) + eps)
    off = 1.0 - torch.eye(len(z))
    return (off * (d - 1.0) ** 2).sum() / off.sum()


def test_finite_backward_turns_0_times_inf_into_0_and_matches_the_code_fix():
    torch.manual_seed(0)
    lin = nn.Linear(5, 3)
    x = torch.randn(8, 5)
    # unguarded: sqrt'(0) = inf on the diagonal times its zero gradient gives NaN in every weight
    lin.zero_grad()
    _pairwise_loss(lin(x)).backward()
    assert not torch.isfinite(lin.weight.grad).all()
    # guarded: finite, and equal to the code fix sqrt(u + 1e-12)
    ctl = _ctl()
    act = A.FiniteBackward(ctl, Finding("non-finite", "error", ""))
    act.apply()
    lin.zero_grad()
    loss = _pairwise_loss(lin(x))
    ctl.backward_actions[0].on_backward_start(loss)
    loss.backward()
    guarded = lin.weight.grad.clone()
    lin.zero_grad()
    _pairwise_loss(lin(x), eps=1e-12).backward()
    assert torch.isfinite(guarded).all()
    assert torch.allclose(guarded, lin.weight.grad, rtol=1e-4, atol=1e-6)
    assert act.zeroed() == 8 and "SqrtBackward0" in act.ops   # the 8 diagonal elements, nothing else
    act.undo()
    assert ctl.backward_actions == []


def test_finite_backward_leaves_a_genuinely_infinite_gradient_alone():
    # log(0) with a non-zero gradient reaching it: the gradient is -inf for real; the guard must not hide it
    w = torch.tensor([0.0, 1.0], requires_grad=True)
    ctl = _ctl()
    act = A.FiniteBackward(ctl, Finding("non-finite", "error", ""))
    act.apply()
    loss = torch.log(w * 1.0).sum()
    act.on_backward_start(loss)
    loss.backward()
    assert act.zeroed() == 0
    assert w.grad[0] == float("inf") and w.grad[1] == 1.0


# --------------------------------------------------------------------------- autograd-backward (a custom Function's)
class _PairDist(torch.autograd.Function):
    """sqrt(|z_i - z_j|^2 + eps), whose backward recomputes the norm without the eps: 0/0 on the diagonal."""

    @staticmethod
    def forward(ctx, z):
        diff = z.unsqueeze(1) - z.unsqueeze(0)
        ctx.save_for_backward(diff)
        return torch.sqrt((diff * diff).sum(-1) + 1e-8)

    @staticmethod
    def backward(ctx, g):
        (diff,) = ctx.saved_tensors
        return (((g + g.T) / diff.norm(dim=-1)).unsqueeze(-1) * diff).sum(1)


class _RoundSTE(torch.autograd.Function):
    """A straight-through rounding: the forward's numpy round-trip is not differentiable, the backward is all."""

    @staticmethod
    def forward(ctx, x):
        return torch.from_numpy(np.round(x.detach().numpy()))

    @staticmethod
    def backward(ctx, g):
        return g


def test_autograd_backward_replaces_a_hand_written_backward_by_the_forwards_derivative():
    torch.manual_seed(0)
    z = torch.randn(6, 3, requires_grad=True)
    _PairDist.apply(z).sum().backward()
    assert not torch.isfinite(z.grad).all()              # the hand-written backward: NaN
    act = A.AutogradBackward(SimpleNamespace(doctor=SimpleNamespace(
        _graph={"functions": {"t._PairDist": _PairDist}}, _internal_error=lambda *a: None)),
        Finding("non-finite", "error", ""))
    act.apply()
    z.grad = None
    _PairDist.apply(z).sum().backward()
    derived = z.grad.clone()
    z.grad = None
    diff = z.unsqueeze(1) - z.unsqueeze(0)
    torch.sqrt((diff * diff).sum(-1) + 1e-8).sum().backward()  # the forward's math, differentiated by autograd
    assert torch.isfinite(derived).all() and torch.allclose(derived, z.grad)
    assert act.calls == 1 and act.inapplicable(5, 5) is None
    act.undo()                                                 # the class is given back its own apply
    assert "apply" not in vars(_PairDist)
    z.grad = None
    _PairDist.apply(z).sum().backward()
    assert not torch.isfinite(z.grad).all()


def test_autograd_backward_leaves_a_function_whose_forward_autograd_cannot_differentiate():
    # a straight-through estimator: the custom backward is its only gradient; the original apply keeps running
    act = A.AutogradBackward(SimpleNamespace(doctor=SimpleNamespace(
        _graph={"functions": {"t._RoundSTE": _RoundSTE}}, _internal_error=lambda *a: None)),
        Finding("non-finite", "error", ""))
    act.apply()
    x = torch.tensor([0.4, 1.6], requires_grad=True)
    (_RoundSTE.apply(x) * torch.tensor([1.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0]
    assert "not differentiable by autograd" in act.inapplicable(1, 5)
    act.undo()


_CUSTOM_FN_SCRIPT = """
import torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)


class PairDist(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h):
        diff = h.unsqueeze(2) - h.unsqueeze(1)
        ctx.save_for_backward(diff)
        return torch.sqrt((diff * diff).sum(-1) + 1e-8)

    @staticmethod
    def backward(ctx, g):
        (diff,) = ctx.saved_tensors
        {backward}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.point = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 8))
        self.head = nn.Linear(1, 2)

    def forward(self, x):
        d = PairDist.apply(self.point(x))
        return self.head(d.mean(dim=(1, 2)).unsqueeze(1))


X = torch.randn(400, 10, 2)
X[:200] *= 3.0
y = (torch.arange(400) < 200).long()
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
for epoch in range(4):
    for i in range(0, 400, 20):
        idx = torch.randperm(400)[:20]
        loss = F.cross_entropy(net(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
with torch.no_grad():
    acc = float((net(X).argmax(1) == y).float().mean())
print(f"acc={{acc:.3f}}")
"""


def test_a_nan_made_by_a_custom_functions_backward_is_repaired_live(tmp_path):
    """A custom Function's backward without the forward's eps: NaN gradients from step 1, written into the weights
    by Adam. Repair swaps in autograd's derivative of the forward, and the run ends where the same script with the
    eps in its backward ends (which draws no non-finite finding and no repair)."""
    import io
    from contextlib import redirect_stdout

    from nndoctor.runner import run_script

    def run(norm, fix):
        path = tmp_path / "train.py"
        path.write_text(_CUSTOM_FN_SCRIPT.format(
            backward=f"return (((g + g.transpose(1, 2)) / {norm}).unsqueeze(-1) * diff).sum(2)"))
        buf = io.StringIO()
        with redirect_stdout(buf):
            code, report = run_script(str(path), [], quiet=True, fix=fix)
        assert code == 0 and not report.internal_errors, report.internal_errors
        return report, float(buf.getvalue().split("acc=")[-1].split()[0])

    report, repaired = run("diff.norm(dim=-1)", True)
    nf = [f for f in report.findings if f.code == "non-finite"]
    assert nf and nf[0].remedies[0].id == "autograd-backward" and "PairDist.backward" in nf[0].remedies[0].snippet
    rec = [r for r in report.repairs if r.get("remedy") == "autograd-backward"]
    assert rec and rec[0]["outcome"] in ("cleared", "improved"), report.repairs
    twin_report, twin = run("torch.sqrt((diff * diff).sum(-1) + 1e-8)", True)
    assert not twin_report.repairs and not [f for f in twin_report.findings if f.code == "non-finite"]
    _, unrepaired = run("diff.norm(dim=-1)", False)
    assert twin > 0.6 and unrepaired == 0.5          # (NaN weights: every comparison False, one class predicted)
    assert repaired >= twin - 0.03, (repaired, twin)


def test_a_nan_made_by_sqrt_in_the_backward_pass_is_repaired_live():
    report, out = run_fixed("faulty_non-finite_sqrt_distance.py")
    rec = kept(report, "non-finite", "safe-sqrt")
    assert rec["rolled_back_to_step"] <= 1     # the NaN update of step 1 is undone first (the state before it)
    assert "SqrtBackward0" in rec["note"] and "sqrt(x + 1e-12)" in rec["permanent_fix"]
    final = float(out.split("final loss")[1].split()[0])
    assert final == final and final < 0.5           # unrepaired: NaN from the first step
    assert not attempts(report, "dead-relu")        # the NaN weights no longer fake dead units


def test_a_backward_nan_tries_safe_sqrt_first():
    f = Finding("non-finite", "error", "", evidence={"stage": "backward"})
    assert E.plan(f)[0] == "safe-sqrt"
    assert "safe-sqrt" not in E.plan(Finding("non-finite", "error", "", evidence={"stage": "loss"}))
    custom = Finding("non-finite", "error", "", evidence={"stage": "backward", "custom_functions": ["PairDist"]})
    assert E.plan(custom)[:2] == ["autograd-backward", "safe-sqrt"]


# --------------------------------------------------------------------------- a NaN a module's own forward code makes
class _StandardizingMLP(nn.Module):
    """(x - mean) / std over the batch in forward(): 0/0 on a constant feature, before fc1 sees it."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 16), nn.Linear(16, 3)

    def forward(self, x):
        x = (x - x.mean(0)) / x.std(0)
        return self.fc2(torch.relu(self.fc1(x)))


def test_a_nan_made_between_layers_is_located_at_the_layer_it_enters():
    from nndoctor.probes.forward import locate_nonfinite_forward

    m = _StandardizingMLP()
    x = torch.randn(8, 6)
    x[:, 2] = 1.0                                      # a constant feature: std 0
    names = {id(mod): (n or "net") for n, mod in m.named_modules()}
    o = locate_nonfinite_forward(m, (x,), {}, names)
    assert (o.stage, o.module, o.enters) == ("forward", "net", "fc1")
    x[:, 2] = torch.randn(8)                           # no constant feature: nothing to find
    assert locate_nonfinite_forward(m, (x,), {}, names).stage == "none"


def test_a_nan_from_the_first_forward_is_located_under_nndoctor_run_and_repaired_with_the_code_fix():
    # nndoctor run finds the model at the first backward pass, after the forward that made the NaN ran
    # unhooked: the process-wide hooks kept its inputs, so the NaN is located in the model's own forward
    # code (not blamed on the loss), and safe-forward turns 0/0 into 0, what an epsilon would give
    from torch.nn.modules import module as M

    report, out = run_fixed("faulty_non-finite_per_batch_standardization_zero_std.py")
    nf = [f for f in report.findings if f.code == "non-finite"][0]
    assert nf.evidence["stage"] == "forward" and nf.evidence["enters_module"] == "fc1"
    assert nf.remedies[0].id == "safe-forward" and "std(0) + 1e-5" in nf.remedies[0].snippet
    rec = kept(report, "non-finite", "safe-forward")
    assert rec["step"] <= 1 and rec["action"]["layer"] == "fc1"
    acc = float(out.split("NNDOCTOR_METRIC test_acc=")[1].split()[0])
    assert acc > 0.9                                   # unrepaired 0.08 (NaN from the first step); the fixed code 0.976
    assert not M._global_forward_pre_hooks and not M._global_forward_hooks   # the process-wide hooks are gone


def test_a_model_holding_a_remedys_hooks_can_be_saved_and_deep_copied():
    # a checkpoint (torch.save of the whole model) or an EMA copy taken while a remedy's hook is on the model
    # must work, and the copy must not carry the doctor (the remedy's hooks turn inert in it)
    import copy
    import io

    from nndoctor.probes.hooks import INERT

    torch.manual_seed(0)
    m = _StandardizingMLP()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    X, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    X[:, 2] = 1.0                                          # 0/0 at the first forward: safe-forward goes on fc1
    with nndoctor.watch(m, opt, repair=True) as doctor:
        for i in range(30):
            loss = nn.functional.cross_entropy(m(X[i % 4 * 16:(i % 4 + 1) * 16]), y[i % 4 * 16:(i % 4 + 1) * 16])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i == 10:
                assert len(m.fc1._forward_pre_hooks) == 1  # the remedy's hook is on
                buf = io.BytesIO()
                torch.save(m, buf)
                twin = copy.deepcopy(m)
    assert not doctor.internal_errors
    assert [r["remedy"] for r in doctor.report().repairs if r.get("remedy")][0] == "safe-forward"
    restored = torch.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert all(h is INERT for h in twin.fc1._forward_pre_hooks.values())
    assert all(h.func is object.__init__ for h in restored.fc1._forward_pre_hooks.values())   # the same, unpickled
    for copied in (restored, twin):
        out = copied(X[:16])                                # the inert hook changes nothing: NaN as coded
        assert torch.isnan(out).any()


def test_a_forward_code_nan_at_the_first_step_tries_the_code_guard_first_and_later_the_step_size():
    first = Finding("non-finite", "error", "", evidence={"stage": "forward", "enters_module": "fc1", "step": 1})
    later = Finding("non-finite", "error", "", evidence={"stage": "forward", "enters_module": "fc1", "step": 40})
    assert E.plan(first)[0] == "safe-forward"          # no update yet: the step size cannot have made it
    assert E.plan(later)[0] == "lower-lr" and "safe-forward" in E.plan(later)
    assert "safe-forward" not in E.plan(Finding("non-finite", "error", "", evidence={"stage": "forward"}))


# --------------------------------------------------------------------------- a NaN the code makes: give up, stay finite
def test_a_nan_the_code_makes_is_reported_as_the_codes_and_the_model_stays_finite():
    report, out = run_fixed("faulty_non-finite_heteroscedastic_relu_variance.py")
    gave = [r for r in report.repairs if r["code"] == "non-finite" and r["outcome"] == "gave up"]
    assert gave and "the code makes this NaN" in gave[0]["why"] and "loss computation" in gave[0]["why"]
    assert "skipped" in gave[0]["safeguard"]
    # no attempts on the symptoms of NaN weights (dead units), and the run ends finite
    assert not attempts(report, "dead-relu")
    last = [ln for ln in out.splitlines() if ln.startswith("epoch")][-1]
    # the weights stay finite (unrepaired, every epoch from 6 on prints nan for all three). The NLL itself
    # may be NaN on a batch where the model puts a variance at exactly 0: that is the code's NaN, skipped
    mse = float(last.split("val mse ")[1].split()[0])
    assert math.isfinite(mse) and mse < 1.0, last


# --------------------------------------------------------------------------- dead ReLUs under oversized updates
def test_dead_relus_killed_by_oversized_updates_get_the_lr_lowered_with_the_reinit():
    # the factor: ReLUs alive at init that died under updates >= 1e-2 of the weights get the LR brought to
    # the floor of healthy updates with their re-initialization (a re-initialized unit dies again under the
    # same steps), the network's movement under the oversized bar
    from nndoctor.diagnoses.hyperparams import CUT_TARGET, HIGH_RATIO
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        train(m, opt, X, y, steps=100)
        r = doctor.repair.update_ratio(opt)
        assert r is not None and r[0] >= HIGH_RATIO
        g = Finding("dead-relu", "error", "", where=["1"], evidence={"dead_fraction_at_init": {"1": 0.0}})
        fac, why = doctor.repair.dead_relu_lr_factor(g)
        net = doctor.repair.network_ratio(opt)[0]
        # (two hidden layers: the median layer's bound is the one that binds)
        assert fac == pytest.approx(min(max(CUT_TARGET / r[0], 1 / 100), 1 / 2)) and fac < 0.5
        assert net * fac <= HIGH_RATIO
        assert "update/weight ratio" in why
    # the clinic's program (lr=0.2 + momentum on a plain MLP): repaired whichever finding speaks first, the
    # loss climbing back under the oversized steps (an LR cut) or the units they killed (re-init + LR cut)
    report, out = run_fixed("faulty_dead-relu_resnet_lr_on_plain_mlp.py")
    first = [r for r in report.repairs if r.get("remedy")][0]
    assert (first["code"], first["remedy"]) in (("learning-rate-too-high", "lower-lr"),
                                                 ("dead-relu", "init-for-activation")), report.repairs
    assert first["outcome"] in ("cleared", "improved")
    if first["remedy"] == "init-for-activation":
        assert first["action"]["lr_factor"] < 0.5
    mse = float(out.split("NNDOCTOR_METRIC val_mse=")[1].split()[0])
    assert mse < 0.1   # unrepaired 0.17; the twin (lr 0.02) 0.07


def test_dead_relus_at_init_keep_the_lr():
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        train(m, opt, X, y, steps=100)   # update norms are sampled every `every` (20) steps after the 5th
        f = Finding("dead-relu", "error", "", where=["1"], evidence={"dead_fraction_at_init": {"1": 0.9}})
        assert doctor.repair.dead_relu_lr_factor(f) is None
        # alive at init: the LR is lowered only when the updates are oversized (this loop's are not)
        g = Finding("dead-relu", "error", "", where=["1"], evidence={"dead_fraction_at_init": {"1": 0.0}})
        r = doctor.repair.network_ratio(opt)
        assert r is not None and r[0] > 0
        assert (doctor.repair.dead_relu_lr_factor(g) is None) == (r[0] < 1e-2)


def test_the_updates_that_kill_units_are_judged_on_the_whole_network():
    """A unit's pre-activation moves with every update below it: 12 layers each moved by ~0.7% per step
    (under the per-layer 1e-2) move the network by ~sqrt(12) x 0.7% = 2.4% (the ratios in quadrature), and
    such steps kill a deep ReLU net's units. The LR comes down so the network moves by no more than the
    oversized bar (here below the healthy floor per layer: 12 layers at 3e-3 would move it by 1e-2)."""
    from nndoctor.diagnoses.hyperparams import CUT_TARGET, HIGH_RATIO, _network_ratio
    # the arithmetic: per sampled step sqrt(sum of squares) over the weight matrices, then the median
    R = np.array([[3e-3, 4e-3, np.nan], [6e-3, 8e-3, 0.0], [np.nan, np.nan, np.nan]])
    P = np.ones_like(R)
    ov = SimpleNamespace(key=0, positions=[0, 1, 2], upd_steps=np.array([1, 20, 40]), param=P, update=R)
    ctx = SimpleNamespace(cache={}, params=[SimpleNamespace(kind="weight")] * 3)
    net, n = _network_ratio(ctx, ov, np.array([True, True, True]))
    assert n == 2 and net == pytest.approx((5e-3 + 1e-2) / 2)   # the unmeasured step is not a zero
    # a 12-layer ReLU net at lr 0.06 with momentum: each layer under 1e-2, the network above it
    torch.manual_seed(0)
    X, y = blobs()
    layers, d = [], X.shape[1]
    for _ in range(12):
        layers += [nn.Linear(d, 64), nn.ReLU()]
        d = 64
    m = nn.Sequential(*layers, nn.Linear(d, int(y.max()) + 1))
    for mod in m:
        if isinstance(mod, nn.Linear):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.zeros_(mod.bias)
    opt = torch.optim.SGD(m.parameters(), lr=0.06, momentum=0.9)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        train(m, opt, X, y, steps=100)
        per_layer, net = doctor.repair.update_ratio(opt), doctor.repair.network_ratio(opt)
        assert per_layer[0] < HIGH_RATIO <= net[0], (per_layer, net)
        g = Finding("dead-relu", "error", "", where=["1"], evidence={"dead_fraction_at_init": {"1": 0.0}})
        fac, why = doctor.repair.dead_relu_lr_factor(g)
        assert fac == pytest.approx(min(max(HIGH_RATIO / net[0], 1 / 100), 1 / 2))
        assert fac < CUT_TARGET / per_layer[0]          # the network's bound binds, not the median layer's
        assert "in quadrature" in why


def test_a_run_that_is_learning_is_not_restarted_for_dead_units():
    """Dead units found late in a run whose loss has fallen a decade below its start (a OneCycle peak that
    killed part of a layer, the rest of the net converging): re-initializing or swapping layers would throw
    the progress away (an attempt 4 steps before the end left the script's final accuracy at 0.09), so the
    restarting remedies are not applied and the one that keeps what was learned is tried."""
    torch.manual_seed(0)
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        losses = train(m, opt, X, y, steps=150)
        assert losses[-10:].median() < 0.1 * losses[:5].median()   # learning
        before = [p.detach().clone() for p in m.parameters()]
        _inject(doctor, "dead-relu", dead_fraction={"1": 0.8}, dead_fraction_at_init={"1": 0.0})
        train(m, opt, X, y, steps=3)
    recs = attempts(doctor.report(), "dead-relu")
    restarts = [r for r in recs if r["remedy"] in ("init-for-activation", "leaky-relu")]
    assert restarts and all(r["outcome"] == "not applicable" and "the run is learning" in r["why"] for r in restarts)
    assert isinstance(m[1], nn.ReLU)   # not swapped
    assert any(r["remedy"] == "lower-lr" for r in recs)
    # what changed the weights is the 3 SGD steps, not a re-initialization
    assert all((a - b).norm() < 0.5 * b.norm() for a, b in zip(m.parameters(), before))


# --------------------------------------------------------------------------- early rollback
class _Jump(A.Action):
    """Multiplies the model's output by 50: every loss after it is far above the reference."""

    remedy = "jump"

    def apply(self):
        root = self.ctl.doctor.table.roots[0]
        self.handles.append(root.register_forward_hook(lambda m, a, out: out * 50))
        return {}


def _attempt_with(monkeypatch, action_cls):
    """The first repair attempt when ``action_cls`` is the only remedy (window 40, finding injected at 30)."""
    monkeypatch.setattr(E, "make_action", lambda ctl, f, remedy: action_cls(ctl, f))
    monkeypatch.setattr(E, "plan", lambda f: ["jump"])
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        doctor.repair.window = 40
        train(m, opt, X, y, steps=30)
        _inject(doctor, "learning-rate-too-low")
        train(m, opt, X, y, steps=60)
    return attempts(doctor.report(), "learning-rate-too-low")[0], doctor


def test_a_remedy_whose_every_loss_is_above_the_reference_is_rolled_back_early(monkeypatch):
    rec, doctor = _attempt_with(monkeypatch, _Jump)
    assert rec["outcome"] == "rolled back"
    assert rec["evidence"]["window_steps"] == doctor.repair._early_steps() == 10


def test_a_restarting_remedy_is_not_rolled_back_early(monkeypatch):
    class _JumpRestart(_Jump):
        restarts = True
    rec, _ = _attempt_with(monkeypatch, _JumpRestart)
    assert rec["evidence"]["window_steps"] == 40


# --------------------------------------------------------------------------- input standardization
def test_standardizing_the_input_drops_the_optimizer_state_of_the_raw_inputs():
    torch.manual_seed(0)
    X = torch.randn(256, 6) * 300 + 1000
    y = (X[:, 0] > 1000).long()
    m = mlp(d=6)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        train(m, opt, X, y, steps=25)
        assert len(opt.state) > 0
        f = Finding("unnormalized-input", "warning", "", where=["0"])
        act = A.StandardizeInput(doctor.repair, f)
        act.apply()
        assert len(opt.state) == 0   # Adam's moments of the raw-input gradients would hold the steps down
        act.undo()


def test_safe_sqrt_is_not_applicable_when_the_graph_has_no_singular_op(monkeypatch):
    # a NaN from an overflow, not from 0 * inf: the remedy finds no op to act on and says so after one pass
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        doctor.repair.window = 40
        train(m, opt, X, y, steps=30)
        _inject(doctor, "non-finite", stage="backward")
        for i in range(5):     # cross-entropy, nothing else: no sqrt/log/div node in the graph
            loss = nn.functional.cross_entropy(m(X[i * 32:(i + 1) * 32]), y[i * 32:(i + 1) * 32])
            loss.backward()
            opt.step()
            opt.zero_grad()
    recs = attempts(doctor.report(), "non-finite")
    assert recs[0]["remedy"] == "safe-sqrt" and recs[0]["outcome"] == "not applicable"
    assert "another cause" in recs[0]["why"] and recs[0]["steps"] == 1
    assert recs[1]["remedy"] == "lower-lr"      # the next remedy of the plan, at once
    assert not doctor.repair.backward_actions


def test_safe_sqrt_is_not_applicable_when_no_0_times_inf_occurs():
    # a division in the graph (hooked), but nothing of 0 * inf through it: taken back at the early check
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        doctor.repair.window = 40
        train(m, opt, X, y, steps=30, accum=2)          # loss / accum: a DivBackward0 node
        _inject(doctor, "non-finite", stage="backward")
        train(m, opt, X, y, steps=15, accum=2)
    rec = attempts(doctor.report(), "non-finite")[0]
    assert rec["remedy"] == "safe-sqrt" and rec["outcome"] == "not applicable"
    assert rec["steps"] == doctor.repair._early_steps() and "DivBackward0" in rec["why"]


def test_safe_log_is_the_printed_clamp_with_gradients_on_and_undo_puts_torch_back():
    """The live form of the printed fix ``torch.log(p.clamp_min(1e-7))``: an element in [0, 1e-7) becomes
    1e-7 while gradients are on (log finite, its gradient 0); every other element, a negative input's NaN
    and every no_grad call are untouched; undo restores torch.log and Tensor.log."""
    from nndoctor.remedies import CATALOGUE, SAFE_LOG_EPS

    assert SAFE_LOG_EPS == 1e-7 and "clamp_min(1e-7)" in CATALOGUE["safe-log"].snippet   # live == printed
    ctl = _ctl()
    orig_fn, had_method = torch.log, "log" in vars(torch.Tensor)
    act = A.SafeLog(ctl, Finding("non-finite", "error", "", evidence={"stage": "loss"}))
    act.apply()
    try:
        x = torch.tensor([0.0, 1e-45, 0.5, 2.0, -1.0, 3e-7], requires_grad=True)
        y = torch.log(x)
        f32 = lambda v: torch.tensor(v, dtype=torch.float32).item()   # noqa: E731
        floor = torch.log(torch.tensor(1e-7)).item()
        assert y[0].item() == y[1].item() == floor == pytest.approx(math.log(1e-7), rel=1e-6)
        assert y[2].item() == f32(math.log(0.5)) and y[3].item() == f32(math.log(2.0)) and math.isnan(y[4].item())
        assert y[5].item() == torch.log(torch.tensor(3e-7)).item() > floor   # above the clamp: untouched
        y[[0, 1, 2, 3, 5]].sum().backward()
        assert x.grad[:2].tolist() == [0.0, 0.0] and x.grad[2].item() == pytest.approx(2.0)
        assert torch.isfinite(x.detach().log2()[:4]).all() and torch.isfinite(torch.log10(x[:1])).all()
        with torch.no_grad():
            assert torch.log(torch.zeros(1)).item() == -math.inf
        assert act.inapplicable(3, 3) is None and act.n_changed == 5   # log: 2; log2: 2 (0, 1e-45); log10: 1
        assert "5 elements below 1e-07" in act.note()
    finally:
        act.undo()
    assert torch.log is orig_fn and ("log" in vars(torch.Tensor)) == had_method
    assert torch.log(torch.zeros(1)).item() == -math.inf


def test_a_log_of_zero_in_a_hand_written_loss_is_repaired_live_with_the_code_fix():
    report, out = run_fixed("faulty_non-finite_symmetric_ce_log_onehot.py")
    rec = kept(report, "non-finite", "safe-log")
    assert rec["step"] == 1 and "log(0) among them" in rec["note"]
    assert "clamp_min" in rec["permanent_fix"]
    acc = float(out.split("NNDOCTOR_METRIC test_acc=")[1].split()[0])
    assert acc > 0.88   # unrepaired 0.075; the twin (log clamped at 1e-4 in the code) 0.931
    assert torch.log(torch.zeros(1)).item() == -math.inf   # torch given back at the end of the run


def _log_twice(x):
    return torch.log(x) + x.log()


def test_torch_jit_script_works_while_remedies_with_hooks_and_patches_are_applied():
    """TorchScript compiles every module hook and resolves every torch function a scripted function calls:
    a remedy's Python hook on the model (model-train) or its patched torch.log (safe-log) would make
    ``torch.jit.script`` fail -- e.g. a script that exports its model at the end of a run under
    ``nndoctor run --fix``. While a script compiles they step aside, and come back after."""
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    with nndoctor.watch(m, opt, repair=True) as doctor:
        doctor.repair.window = 40
        train(m, opt, X, y, steps=5)
        _inject(doctor, "train-mode-off")
        train(m, opt, X, y, steps=2)
        assert doctor.repair.current is not None and doctor.repair.current["remedy"] == "model-train"
        action = doctor.repair.current["_action"]
        mine = [h.fn for h in action.handles]
        assert len(mine) == 2
        scripted = torch.jit.script(m)
        assert torch.allclose(scripted(X[:4]), m(X[:4]))
        on_model = list(m._forward_pre_hooks.values()) + list(m._forward_hooks.values())
        assert all(any(fn is h for h in on_model) for fn in mine)   # back after the compile
        # a kept safe-log's patched torch.log: scripting a function that calls it
        act = A.SafeLog(doctor.repair, Finding("non-finite", "error", "", evidence={"stage": "loss"}))
        act.apply()
        doctor.repair.attempts.append({"code": "non-finite", "remedy": "safe-log", "_action": act})
        patched = torch.log
        fn = torch.jit.script(_log_twice)
        assert torch.allclose(fn(torch.ones(3) * 2), 2 * torch.log(torch.ones(3) * 2))
        assert torch.log is patched   # the patch is back
        doctor.repair.attempts.pop()
        act.undo()
    assert torch.log(torch.zeros(1)).item() == -math.inf


def test_snapshots_on_disk_are_taken_at_doubling_flushes_and_in_memory_at_every_improving_one():
    """Repair mode snapshots the best state at every flush where the loss improves. A snapshot that goes to
    disk (above ``disk_threshold``: seconds to write for a large model), or that copies an accelerator's
    tensors to host memory, is taken only at the 1st, 2nd, 4th, 8th... flush: O(log steps) of them."""
    def snapshot_steps(threshold, from_device=False):
        torch.manual_seed(0)
        X, y = blobs()
        m = mlp()
        opt = torch.optim.SGD(m.parameters(), lr=0.05)
        taken = []
        with nndoctor.watch(m, opt, repair=True) as doctor:
            ctl = doctor.repair
            ctl.disk_threshold = threshold
            orig = ctl._maybe_snapshot

            def spy(force=False):   # the scheduled snapshots (a remedy's own "before" state is always taken)
                before = ctl.best
                orig(force=force)
                if not force and ctl.best is not before:
                    taken.append((doctor.step, ctl.best.path is not None))
            ctl._maybe_snapshot = spy
            if from_device:   # as for a model on an accelerator: each snapshot a copy over the bus to host memory
                make = ctl._snapshot

                def on_device(*a, **k):
                    snap = make(*a, **k)
                    snap.from_device = True
                    return snap
                ctl._snapshot = on_device
            train(m, opt, X, y, steps=400)
        return taken

    memory = snapshot_steps(1 << 40)
    disk = snapshot_steps(1)
    device = snapshot_steps(1 << 40, from_device=True)
    assert all(not on_disk for _, on_disk in memory) and all(on_disk for _, on_disk in disk)
    flushes = lambda taken: [s // 20 for s, _ in taken]   # noqa: E731
    assert len(flushes(memory)) >= 10                 # a healthy run improves at most flushes up to step 400
    assert flushes(disk) and all(k & (k - 1) == 0 for k in flushes(disk)), disk
    assert len(flushes(disk)) <= 5 < len(flushes(memory))
    assert flushes(device) == flushes(disk)          # host copies from an accelerator: the same doubling schedule
    assert not list(Path(tempfile.gettempdir()).glob("nndoctor-snapshot-*"))   # none left behind


# --------------------------------------------------------------------------- missing parameters and LR schedulers
def test_missing_parameters_join_the_first_group_so_the_scripts_scheduler_keeps_stepping():
    """A scheduler keeps one entry per param group and torch's step() zips them with the groups strictly:
    the parameters repair adds go into the first group (its LR and schedule), not a group of their own,
    which made the script's next scheduler.step() raise. Undone, they leave the group again."""
    X, y = blobs()
    m = mlp()
    opt = torch.optim.AdamW([{"params": m[0].parameters(), "weight_decay": 0.01},
                             {"params": m[2].parameters(), "weight_decay": 0.0}], lr=1e-2)   # the head m[4] is missing
    sched = torch.optim.lr_scheduler.LambdaLR(opt, [lambda s: 1.0 / (1 + 0.01 * s), lambda s: 1.0])
    with nndoctor.watch(m, opt, repair=True) as doctor:
        for _ in range(150):
            train(m, opt, X, y, steps=1)
            sched.step()
    report = doctor.report()
    rec = kept(report, "parameter-not-optimized", "optimizer-all-params")
    assert rec["action"]["param_group"] == 0 and len(opt.param_groups) == 2
    assert {id(p) for p in m[4].parameters()} <= {id(p) for p in opt.param_groups[0]["params"]}
    assert opt.param_groups[0]["lr"] < 1e-2 * 0.6        # the head follows the first group's schedule
    assert not report.internal_errors, report.internal_errors
    head = list(m[4].parameters())
    act = A.AddParams(SimpleNamespace(), Finding("parameter-not-optimized", "warning", ""))
    act.opt, act.group, act.added = opt, opt.param_groups[0], head   # (what apply() left)
    act.undo()
    assert not ({id(p) for p in head} & {id(p) for g in opt.param_groups for p in g["params"]})
    assert all(p not in opt.state for p in head)


# --------------------------------------------------------------------------- a kept repair is not rolled back
def test_poor_initialization_judged_on_the_first_sample_is_not_acted_on_after_a_reinit():
    """poor-initialization reads the first activation sample (the state at initialization): after the
    vanishing-gradient repair re-initialized the layers (the functional tanh swapped for ReLU, the layers
    He-initialized), it describes weights that are gone."""
    report, out = run_fixed("faulty_vanishing-gradient_tanh_small_init.py")
    kept(report, "vanishing-gradient", "relu-family")
    poor = [r for r in report.repairs if r["code"] == "poor-initialization"]
    assert poor and all(r["outcome"] == "not attempted" and "predates" in r["why"] for r in poor), poor
    assert float([line for line in out.splitlines() if line.startswith("epoch 20")][-1].split("acc ")[-1]) >= 0.98, \
        out[-300:]   # (1.000 with tanh's gain 5/3 in the re-initialization, 0.993 with Glorot's gain 1)


def test_a_rollback_never_goes_back_past_a_kept_repair(monkeypatch):
    """Acting on it anyway (the outdated check off), the attempt must not restore the state from before the
    kept re-initialization: its weights are larger than the tiny init's by design ('blown up' by the norm
    test) and its loss restarted, neither is damage. Before, the run went back to step 1's weights and the
    not-applicable re-initialization left it there (train_acc 0.627 against 1.0)."""
    monkeypatch.setattr(E.RepairController, "_outdated_by", lambda self, f: None)
    report, out = run_fixed("faulty_vanishing-gradient_tanh_small_init.py")
    kept_at = min(r["step"] for r in report.repairs if r.get("outcome") in ("cleared", "improved"))
    assert all(r.get("rolled_back_to_step", kept_at) >= kept_at for r in report.repairs), report.repairs
    assert float([line for line in out.splitlines() if line.startswith("epoch 20")][-1].split("acc ")[-1]) >= 0.98, \
        out[-300:]   # (1.000 with tanh's gain 5/3 in the re-initialization, 0.993 with Glorot's gain 1)


# --------------------------------------------------------------------------- zero-grad inside an L-BFGS closure
@pytest.mark.parametrize("keyword", [False, True])
def test_zero_grad_for_a_closure_optimizer_resets_at_the_top_of_each_evaluation(keyword):
    """L-BFGS evaluates its closure many times in one step(); a closure without zero_grad() adds every evaluation's
    gradient to the last. The live fix wraps the closure step() gets (positional or keyword), so each evaluation
    starts from zero, and the gradient L-BFGS sees is the current one."""
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(4))
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=5)
    target = torch.arange(4.0)
    seen = []

    def closure():
        loss = ((w - target) ** 2).sum()
        loss.backward()
        seen.append(torch.allclose(w.grad, 2 * (w.detach() - target)))   # the current gradient only?
        return loss

    handle = opt.register_step_pre_hook(A.ZeroGradAfterStep._wrap_closure)
    opt.step(closure=closure) if keyword else opt.step(closure)
    handle.remove()
    assert len(seen) > 1 and all(seen)
    assert torch.allclose(w.detach(), target, atol=1e-4)


def test_a_closure_that_never_zeroes_is_repaired_and_the_script_runs_to_its_end(tmp_path):
    import io
    from contextlib import redirect_stdout

    from nndoctor.runner import run_script
    src = """
import torch, torch.nn as nn
torch.manual_seed(0)
x = torch.linspace(-1, 1, 64).unsqueeze(1)
y = torch.sin(3 * x)
net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=20, line_search_fn="strong_wolfe")
def closure():
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    return loss
for outer in range(15):
    opt.step(closure)
print(f"final={float(((net(x) - y) ** 2).mean()):.3e}")
"""
    path = tmp_path / "train.py"
    path.write_text(src)
    out = {}
    for fix in (False, True):
        buf = io.StringIO()
        with redirect_stdout(buf):
            code, report = run_script(str(path), [], quiet=True, fix=fix)
        assert code == 0 and not report.internal_errors, (buf.getvalue()[-2000:], report.internal_errors)
        out[fix] = (report, float(buf.getvalue().split("final=")[-1].split()[0]))
    report = out[True][0]
    rec = kept(report, "gradient-not-zeroed", "zero-grad")
    assert "top of the closure" in rec["action"]["how"] and "zero_grad()" in rec["permanent_fix"]
    assert out[True][1] < out[False][1] / 10, (out[True][1], out[False][1])


# --------------------------------------------------------------------------- a hand-written BCE that saturates late
_LATE_LOG0 = """
import torch
torch.manual_seed(0)
X = torch.randn(512, 8)
X[:, 0] *= 4
y = (X[:, 0] > 0).float().unsqueeze(1)
model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(400):
    i = (step * 64) % 512
    p = torch.sigmoid(model(X[i:i + 64]))
    loss = -(y[i:i + 64] * torch.log(p) + (1 - y[i:i + 64]) * torch.log(1 - p)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
with torch.no_grad():
    acc = float(((model(X) > 0).float() == y).float().mean())
print(f"acc={acc:.4f}")
"""


def test_a_log_of_0_met_after_many_updates_from_moderate_outputs_is_guarded_first(tmp_path):
    """A sigmoid + BCE typed out by hand on separable data: the logits pass ~17 after some 40 updates, the sigmoid
    rounds to 1, log(1 - p) = -inf. The outputs are far below exp's overflow (88.7): the loss's own singularity made
    the NaN, not updates that blew the outputs up, so safe-log comes first (not a lower LR). Restored to a state a
    few steps before, it meets the log of 0 again only when the run gets back there (its check waits for those
    steps), guards it, and every loss of its window is finite: cleared, though the loss did not fall below the
    restored state's (before, such a window was judged "no effect" and the guard taken back)."""
    import io
    from contextlib import redirect_stdout

    from nndoctor.runner import run_script
    path = tmp_path / "train.py"
    path.write_text(_LATE_LOG0)
    buf = io.StringIO()
    with redirect_stdout(buf):
        code, report = run_script(str(path), [], quiet=True, fix=True)
    assert code == 0 and not report.internal_errors, report.internal_errors
    nf = [f for f in report.findings if f.code == "non-finite" and f.evidence.get("stage") == "loss"]
    assert nf and nf[0].step > 1 and nf[0].evidence["output_max_abs"] < E.EXP_OVERFLOW
    tried = [r for r in report.repairs if r.get("remedy")]
    assert tried[0]["remedy"] == "safe-log" and tried[0]["outcome"] == "cleared", tried
    assert tried[0]["rolled_back_to_step"] < nf[0].step and "cleared_because" in tried[0]
    assert float(buf.getvalue().split("acc=")[-1].split()[0]) > 0.95   # unrepaired: NaN weights, 0.54


def test_a_loss_nan_from_outputs_at_exp_overflow_scale_lowers_the_lr_first():
    late = {"stage": "loss", "step": 300}
    assert E.plan(Finding("non-finite", "error", "", evidence={**late, "output_max_abs": 17.0}))[0] == "safe-log"
    assert E.plan(Finding("non-finite", "error", "", evidence={**late, "output_max_abs": 1e4}))[0] == "lower-lr"
    assert E.plan(Finding("non-finite", "error", "", evidence=late))[0] == "lower-lr"   # (not measured)
    assert E.plan(Finding("non-finite", "error", "", evidence={"stage": "loss", "step": 1}))[0] == "safe-log"


def test_zero_grad_repair_drops_the_optimizer_state_built_on_the_running_sums(tmp_path):
    """Adam's moments estimated while .grad held the sum of all past gradients describe those sums, not gradients
    (its second moment would keep every later step small for ~1000 steps): the repair starts the optimizer afresh
    on the real gradients. The script reads Adam's own step count at the end: it counts from the repair."""
    import io
    from contextlib import redirect_stdout

    from nndoctor.runner import run_script
    src = """
import torch
torch.manual_seed(0)
X = torch.randn(512, 10)
y = X @ torch.randn(10, 1)
model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(200):
    i = (step * 32) % 512
    loss = torch.nn.functional.mse_loss(model(X[i:i + 32]), y[i:i + 32])
    loss.backward()
    opt.step()
print("adam_steps=" + str(int(opt.state[model[0].weight]["step"])))
"""
    path = tmp_path / "train.py"
    path.write_text(src)
    buf = io.StringIO()
    with redirect_stdout(buf):
        code, report = run_script(str(path), [], quiet=True, fix=True)
    assert code == 0 and not report.internal_errors, report.internal_errors
    rec = kept(report, "gradient-not-zeroed", "zero-grad")
    assert rec["action"]["optimizer_state_dropped"] == ["optimizer0 (Adam)"]
    assert int(buf.getvalue().split("adam_steps=")[-1].split()[0]) == 200 - rec["step"]


# --------------------------------------------------------------------------- add-normalization (Batch Normalization live)
_DEEP_SIGMOID_FUNCTIONAL = """
import torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)
X = torch.randn(1024, 16)
y = (X[:, :4].sum(1) > 0).long() + 2 * (X[:, 4:8].sum(1) > 0).long()
act = torch.sigmoid


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(16 if i == 0 else 32, 32) for i in range(10))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        for lin in self.layers:
            x = act(lin(x))
        return self.head(x)


model = Deep()
before = {{k: v.clone() for k, v in model.state_dict().items()}}
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(12):
    perm = torch.randperm(1024)
    for i in range(0, 1024, 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
model.eval()
with torch.no_grad():
    acc = float((model(X).argmax(1) == y).float().mean())
keys_same = sorted(model.state_dict()) == sorted(before)
model.load_state_dict(before)     # a checkpoint from before any repair still loads (strict)
print(f"acc={{acc:.3f}} keys_same={{keys_same}}")
"""


def _no_functional_swap(monkeypatch):
    """The functional activation swap made impossible (as in a compiled forward): the next remedies are tried."""
    def cannot(self):
        raise A.CannotApply("the model is compiled")
    monkeypatch.setattr(A.SwapActivation, "_apply_functional", cannot)


def test_batch_normalization_is_inserted_live_where_the_sigmoid_is_applied_functionally(tmp_path, monkeypatch):
    """A 10-layer sigmoid MLP whose activation is a function bound before nndoctor looked (`act = torch.sigmoid`, then
    `act(lin(x))`): no activation module to swap, no call the probe saw; the layers' inputs, all strictly inside
    (0, 1), say sigmoid. Where the function cannot be swapped (made so here), a BatchNorm1d after each hidden layer
    (the guide's cure) trains it (unrepaired: chance, 0.24); the model's state_dict keeps its keys, so a checkpoint
    saved before the repair still loads strictly."""
    _no_functional_swap(monkeypatch)
    import io
    from contextlib import redirect_stdout

    from nndoctor.runner import run_script
    path = tmp_path / "train.py"
    path.write_text(_DEEP_SIGMOID_FUNCTIONAL.format())
    buf = io.StringIO()
    with redirect_stdout(buf):
        code, report = run_script(str(path), [], quiet=True, fix=True)
    assert code == 0 and not report.internal_errors, (buf.getvalue()[-1500:], report.internal_errors)
    rec = kept(report, "vanishing-gradient", "add-normalization")
    assert len(rec["action"]["layers"]) == 10 and all("BatchNorm1d(32)" in x for x in rec["action"]["layers"])
    assert "BatchNorm1d(32)" in rec["permanent_fix"]
    assert "came off when the doctor closed" in rec["note"], rec   # (the model computes without them after close)
    out = buf.getvalue()
    assert "keys_same=True" in out and float(out.split("acc=")[-1].split()[0]) > 0.9, out[-500:]


def test_the_inserted_norms_leave_the_optimizer_when_the_doctor_closes(monkeypatch):
    """Kept to the end, the normalization's hooks come off at close; its parameters leave the optimizer with them,
    so the optimizer's groups are the model's again and its state_dict loads into one built from the model."""
    _no_functional_swap(monkeypatch)
    torch.manual_seed(0)
    X = torch.randn(512, 16)
    y = (X[:, :4].sum(1) > 0).long()
    class Deep(nn.Module):   # sigmoid applied functionally, not swapped (above): the normalization is tried
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(16 if i == 0 else 32, 32) for i in range(10))
            self.head = nn.Linear(32, 2)

        def forward(self, x):
            for lin in self.layers:
                x = torch.sigmoid(lin(x))
            return self.head(x)

    model = Deep()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    n_params = len(list(model.parameters()))
    with nndoctor.watch(model, opt, repair=True) as doctor:
        for i in range(300):
            j = (i * 32) % 512
            loss = F.cross_entropy(model(X[j:j + 32]), y[j:j + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i == 150:
                assert sum(len(g["params"]) for g in opt.param_groups) >= n_params   # (under test or kept)
    rec = [r for r in doctor.report().repairs if r.get("remedy") == "add-normalization"]
    assert rec and rec[0]["outcome"] in ("cleared", "improved"), doctor.report().repairs
    assert sum(len(g["params"]) for g in opt.param_groups) == n_params
    fresh = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    fresh.load_state_dict(opt.state_dict())


def test_the_activation_is_read_from_the_range_of_the_next_layers_input():
    layer = {"kind": "layer", "is_model_input": 0.0}
    assert E._act_from_input_range({**layer, "min_in": 0.08, "max_in": 0.86}) == "sigmoid"
    assert E._act_from_input_range({**layer, "min_in": -0.7, "max_in": 0.9}) == "tanh"
    assert E._act_from_input_range({**layer, "min_in": 0.0, "max_in": 0.9}) is None      # a ReLU's exact zeros
    assert E._act_from_input_range({**layer, "min_in": -1.3, "max_in": 2.0}) is None     # no bounded activation
    assert E._act_from_input_range({**layer, "is_model_input": 1.0, "min_in": 0.1, "max_in": 0.9}) is None  # data


@pytest.mark.parametrize("scale,first", [(1.0, "add-normalization"), (0.1, "init-for-activation"),
                                         (None, "add-normalization")])
def test_a_vanishing_gradient_is_normalized_unless_the_weights_scale_is_off_the_standard_inits(scale, first):
    ctl = SimpleNamespace(_init_scale_off=lambda: scale)
    order = E.RepairController.plan_for(ctl, Finding("vanishing-gradient", "error", ""))
    assert order[0] == "relu-family" and order[1] == first


# --------------------------------------------------------------------------- model-train (train mode per pass)
class _Probe(nn.Module):
    """Records the training flag of every module of ``root`` when it runs."""

    def __init__(self):
        super().__init__()
        self.root, self.seen = None, []

    def forward(self, x):
        self.seen.append({n: m.training for n, m in self.root.named_modules()})
        return x


class _FrozenBNBlock(nn.Module):
    """A block whose own train() keeps its BatchNorm frozen whatever it is asked."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(4)

    def train(self, mode=True):
        nn.Module.train(self, mode)
        self.bn.eval()
        return self

    def forward(self, x):
        return self.bn(x)


def _train_mode_model(frozen_bn_train):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.drop, self.probe = nn.Linear(4, 4), nn.Dropout(0.5), _Probe()
            self.bn = _FrozenBNBlock() if frozen_bn_train else nn.BatchNorm1d(4)
            object.__setattr__(self.probe, "root", self)   # (not a submodule: no cycle)

        def forward(self, x):
            return self.probe(self.drop(self.bn(self.lin(x))))

    return Net()


@pytest.mark.parametrize("frozen_bn_train", [False, True])
def test_model_train_runs_gradient_passes_in_train_mode_and_restores_the_modes_exactly(frozen_bn_train):
    """The pre-hook flips the modules in eval mode for a pass with gradients and the post-hook restores exactly
    those; a model with a block whose own train() keeps its BatchNorm frozen gets train() called, so the BatchNorm
    stays frozen during the pass as the user's code would have it -- also when that block itself was left in
    train mode (only its BatchNorm in eval). A no_grad pass (validation) is left alone."""
    model = _train_mode_model(frozen_bn_train)
    model.eval()
    model.drop.train()                     # one module the user left in train mode: stays so
    if frozen_bn_train:
        model.bn.training = True           # the block itself in train mode, its BatchNorm frozen
    ctl = SimpleNamespace(doctor=SimpleNamespace(table=SimpleNamespace(roots=[model]),
                                                 _internal_error=lambda *a: None))
    act = A.TrainMode(ctl, Finding("train-mode-off", "warning", ""))
    act.apply()
    before = {n: m.training for n, m in model.named_modules()}
    model(torch.randn(8, 4))
    during = model.probe.seen[-1]
    assert during[""] and during["lin"] and during["drop"] and during["probe"]
    assert during["bn.bn" if frozen_bn_train else "bn"] is (not frozen_bn_train)
    assert {n: m.training for n, m in model.named_modules()} == before       # restored exactly
    with torch.no_grad():
        model(torch.randn(8, 4))
    assert not any(v for n, v in model.probe.seen[-1].items() if n not in ("drop", "bn"))   # validation: as written
    assert act.switched == 1
    act.undo()


def test_the_activation_after_a_layer_with_no_activation_module_is_read_from_the_sample():
    """Between a layer and the next with no activation module: the model's output layer and a layer whose output
    the next takes below -1 (no ReLU/sigmoid/tanh/GELU/SiLU/ELU output is) get gain 1 (``linear``); one whose output
    the next takes at >= 0 or inside (-1, 1) keeps the model's main activation (a functional one, e.g. F.relu)."""
    a, b, c, d = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 2)
    ordered = [("a", a), ("b", b), ("c", c), ("d", d)]
    mods = {"a": {"kind": "layer", "is_model_input": 1.0, "min_in": -2.0},
            "b": {"kind": "layer", "is_model_input": 0.0, "min_in": 0.0},      # a's output: after a F.relu
            "c": {"kind": "layer", "is_model_input": 0.0, "min_in": -4.5},     # b's output: nothing applied
            "d": {"kind": "layer", "is_model_input": 0.0, "min_in": -0.3, "is_output": 1.0}}
    ctl = SimpleNamespace(doctor=SimpleNamespace(store=SimpleNamespace(facts={"act_samples": [{"modules": mods}]})))
    got = [E.RepairController._act_after(ctl, ordered, i, "relu") for i in range(4)]
    assert got == ["relu", "linear", "relu", "linear"], got
    with_module = [("a", a), ("act", nn.Tanh()), ("b", b)]
    assert E.RepairController._act_after(ctl, with_module, 0, "relu") == "tanh"
