"""Each code of this release fires on a small faulty loop, names the right place, and carries
numbers; its healthy twin stays quiet."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nndoctor
from conftest import blobs, mlp, train


def watched(model, opt, fn, **kw):
    with nndoctor.watch(model, opt, **kw) as doctor:
        fn()
    report = doctor.report()
    assert not report.internal_errors, report.internal_errors  # nndoctor itself must not fail
    return report


# ----------------------------------------------------------------------------- non-finite
class DivideBy(nn.Module):
    def forward(self, x):
        return x / (x[:, :1] - x[:, :1])  # 0/0 and x/0: finite inputs, non-finite output


def test_non_finite_forward_origin_names_the_module():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), DivideBy(), nn.Linear(16, 2))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    r = watched(m, opt, lambda: train(m, opt, X, y, steps=10))
    f = r.get("non-finite")
    assert f.severity == "error" and f.step == 1
    assert f.evidence["stage"] == "forward" and f.where == ["2"] and f.evidence["module_type"] == "DivideBy"


def test_non_finite_in_loss_from_finite_outputs():
    torch.manual_seed(0)
    m = mlp(out=1)
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    X, y = blobs()

    def loop():
        for i in range(30):
            opt.zero_grad()
            p = torch.sigmoid(m(X[:64]).squeeze(1) * 200)  # saturates to exactly 0/1
            t = y[:64].float()
            loss = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
            loss.backward()
            opt.step()
    r = watched(m, opt, loop)
    f = r.get("non-finite")
    assert f is not None and f.evidence["stage"] == "loss"
    assert f.remedies[0].id == "safe-log"


def test_non_finite_in_backward_only():
    torch.manual_seed(0)
    m = mlp(out=4)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, _ = blobs()

    def loop():
        for i in range(10):
            opt.zero_grad()
            z = m(X[:32])
            d = torch.sqrt(((z - z) ** 2).sum(1))  # sqrt(0): forward 0, gradient inf*0 = NaN
            loss = d.mean() + z.pow(2).mean()
            loss.backward()
            opt.step()
    f = watched(m, opt, loop).get("non-finite")
    assert f.evidence["stage"] == "backward" and f.step == 1
    assert f.remedies[0].id == "safe-sqrt"
    assert f.where[0].startswith("4.")  # the layer closest to the loss


def test_non_finite_from_the_update():
    torch.manual_seed(0)
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=float("inf"))
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=5)).get("non-finite")
    assert f.evidence["stage"] == "update" and f.step == 2


def test_amp_style_skipped_steps_are_not_non_finite():
    # like GradScaler: when gradients overflow, optimizer.step() is skipped
    torch.manual_seed(0)
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()

    def loop():
        for i in range(60):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(X[:32]), y[:32]) * (float("inf") if i % 7 == 3 else 1.0)
            loss.backward()
            if all(torch.isfinite(p.grad).all() for p in m.parameters()):
                opt.step()
    r = watched(m, opt, loop)
    assert "non-finite" not in r and r.healthy, r


# ----------------------------------------------------------------------------- exploding
def test_exploding_gradient_on_diverging_regression():
    torch.manual_seed(0)
    m = nn.Sequential(*[nn.Sequential(nn.Linear(32, 32), nn.ReLU()) for _ in range(6)], nn.Linear(32, 1))
    for l in m.modules():
        if isinstance(l, nn.Linear):
            nn.init.normal_(l.weight, std=0.45)
    X = torch.randn(256, 32)
    y = X.sum(1, keepdim=True) * 10
    opt = torch.optim.SGD(m.parameters(), lr=8e-5)
    r = watched(m, opt, lambda: train(m, opt, X, y, steps=60, loss_fn=nn.functional.mse_loss))
    f = r.get("exploding-gradient")
    assert f is not None and f.evidence["growth_decades"] >= 2 and f.evidence["followed_by_nonfinite"], r
    assert f.severity == "error" and "non-finite" in r
    assert f.remedies[0].id == "clip-grad-norm"


def test_clipped_healthy_training_is_not_exploding():
    torch.manual_seed(0)
    m = mlp(depth=3)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    X, y = blobs(n=512)

    def loop():
        for i in range(100):
            opt.zero_grad()
            nn.functional.cross_entropy(m(X[(i * 32) % 512:][:32]), y[(i * 32) % 512:][:32]).backward()
            nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
    assert watched(m, opt, loop).healthy


# ----------------------------------------------------------------------------- vanishing
def test_vanishing_gradient_deep_sigmoid():
    m = mlp(depth=10, h=64, act=nn.Sigmoid)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=40)).get("vanishing-gradient")
    assert f is not None and f.evidence["decay_decades"] >= 3
    assert f.where[0] == "0" and "Sigmoid" in f.evidence["activations"]
    assert f.remedies[0].id == "relu-family"


def test_deep_relu_with_batchnorm_is_not_vanishing():
    torch.manual_seed(0)
    layers = []
    for _ in range(10):
        layers += [nn.Linear(64 if layers else 20, 64), nn.BatchNorm1d(64), nn.ReLU()]
    m = nn.Sequential(*layers, nn.Linear(64, 2))
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    X, y = blobs()
    assert watched(m, opt, lambda: train(m, opt, X, y, steps=40)).healthy


# ----------------------------------------------------------------------------- step missing
def test_step_missing_no_step():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=20, step=False)).get("optimizer-step-missing")
    assert f.severity == "error" and f.evidence["gradient_resets_between_backward_passes"] >= 2
    assert f.remedies[0].id == "call-step"


def test_step_missing_zero_lr():
    m = mlp()
    opt = torch.optim.Adam(m.parameters(), lr=0.0)
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=20)).get("optimizer-step-missing")
    assert f is not None and f.evidence["learning_rates"] == [0.0]
    assert f.remedies[0].id == "nonzero-lr"


def test_an_update_rounded_away_by_a_decayed_lr_is_the_lr_not_a_missing_step():
    """A scheduler stepped per batch takes the LR to 1e-20 of its start: step() is applied and its update
    is below float32's resolution of the weights. The parameters stop changing, but the step is not
    missing: learning-rate-too-low names the cause, optimizer-step-missing stays quiet."""
    torch.manual_seed(0)
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)   # meant per epoch
    X, y = blobs()

    def loop():
        for i in range(120):
            j = (i * 32) % len(X)
            opt.zero_grad()
            nn.functional.cross_entropy(m(X[j:j + 32]), y[j:j + 32]).backward()
            opt.step()
            sched.step()
    r = watched(m, opt, loop)
    assert "optimizer-step-missing" not in r, r
    assert r.get("learning-rate-too-low").evidence["lr_decayed_since_step"] < 30


def test_manual_rebinding_update_vs_working_manual_update():
    X, y = blobs()

    def loop(m, inplace):
        for i in range(30):
            loss = nn.functional.cross_entropy(m(X[:32]), y[:32])
            loss.backward()
            with torch.no_grad():
                for p in m.parameters():
                    if inplace:
                        p -= 0.1 * p.grad
                    else:
                        p = p - 0.1 * p.grad  # rebinding: the model never changes
            m.zero_grad()
    bad = mlp()
    r = watched(bad, None, lambda: loop(bad, False))
    assert "optimizer-step-missing" in r and r.get("optimizer-step-missing").remedies[0].id == "use-optimizer"
    good = mlp()
    assert watched(good, None, lambda: loop(good, True)).healthy


def test_accumulation_of_many_micro_batches_is_not_step_missing():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    X, y = blobs(n=1024)
    r = watched(m, opt, lambda: train(m, opt, X, y, steps=4, accum=16, batch=16))
    assert r.healthy, r


# ----------------------------------------------------------------------------- not zeroed
def test_zero_grad_on_the_wrong_optimizer():
    m, other = mlp(), mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    other_opt = torch.optim.SGD(other.parameters(), lr=0.05)
    X, y = blobs()

    def loop():
        for i in range(20):
            other_opt.zero_grad()
            nn.functional.cross_entropy(m(X[:32]), y[:32]).backward()
            opt.step()
    f = watched(m, opt, loop).get("gradient-not-zeroed")
    assert f is not None and f.step <= 5 and f.evidence["intervals_with_reset"] == 0


def test_zero_grad_in_place_and_set_to_none_both_count_as_reset():
    X, y = blobs()
    for set_to_none in (True, False):
        m = mlp()
        opt = torch.optim.SGD(m.parameters(), lr=0.05)

        def loop():
            for i in range(30):
                opt.zero_grad(set_to_none=set_to_none)
                nn.functional.cross_entropy(m(X[:32]), y[:32]).backward()
                opt.step()
        assert watched(m, opt, loop).healthy


# ----------------------------------------------------------------------------- broken flow
class Cut(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.how = how
        self.encoder = nn.Sequential(nn.Linear(20, 32), nn.Tanh())
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        if self.how == "no_grad":
            with torch.no_grad():
                h = self.encoder(x)
        else:
            h = self.encoder(x)
        if self.how == "numpy":
            h = torch.tensor(np.tanh(h.detach().numpy()))
        return self.head(h)


@pytest.mark.parametrize("how", ["no_grad", "numpy"])
def test_broken_gradient_flow(how):
    m = Cut(how)
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=12)).get("broken-gradient-flow")
    assert f.severity == "error" and f.where == ["encoder"]
    assert f.evidence["cut_numel"] == 20 * 32 + 32
    assert any(("no_grad" if how == "no_grad" else ".numpy(") in s for s in f.evidence["suspect_lines"])


def test_a_bare_layer_model_whose_loss_is_rewrapped_as_a_new_leaf_is_a_cut_not_an_unused_branch():
    """The model is one nn.Linear (the root holds the parameters itself); the loss is rebuilt from
    numpy as a fresh leaf with requires_grad=True, so backward() runs and the model never learns."""
    torch.manual_seed(0)
    m = nn.Linear(8, 1)
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    X = torch.randn(256, 8)
    y = X @ torch.randn(8, 1)
    with nndoctor.watch(m, opt) as doctor:
        for _ in range(30):
            err = (m(X) - y).detach().numpy()
            loss = torch.tensor(np.mean(err ** 2), requires_grad=True)
            opt.zero_grad()
            loss.backward()
            opt.step()
    f = doctor.report().get("broken-gradient-flow")
    assert f is not None and f.severity == "error" and f.where == ["Linear"]


def test_loss_without_history_is_explained_before_torch_raises():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    with pytest.raises(RuntimeError):
        with nndoctor.watch(m, opt) as doctor:
            loss = torch.tensor(nn.functional.cross_entropy(m(X), y).item())
            loss.backward()
    f = doctor.report().get("broken-gradient-flow")
    assert f is not None and f.evidence["losses_without_history"] == 1


class Seq2Seq(nn.Module):
    """An encoder GRU whose final state becomes the decoder's initial hidden state."""

    def __init__(self, cut: bool):
        super().__init__()
        self.cut = cut
        self.enc = nn.GRU(4, 16, batch_first=True)
        self.embed = nn.Embedding(10, 4)   # the decoder's tokens, embedded: its input has autograd history
        self.dec = nn.GRU(4, 16, batch_first=True)
        self.head = nn.Linear(16, 1)

    def forward(self, src, tgt_in, h=None):
        _, hn = self.enc(src, h)
        if self.cut:
            hn = hn.detach()   # a "repackage_hidden" in the wrong place: the encoder never learns
        out, _ = self.dec(self.embed(tgt_in), hn)
        return self.head(out), hn


def test_a_detached_state_passed_next_to_a_tracked_input_is_a_cut():
    torch.manual_seed(0)
    src, tgt_in, y = torch.randn(32, 6, 4), torch.randint(0, 10, (32, 5)), torch.randn(32, 5, 1)
    for cut in (True, False):
        m = Seq2Seq(cut)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        r = watched(m, opt, lambda: train_seq(m, opt, src, tgt_in, y, steps=20))
        f = r.get("broken-gradient-flow")
        if cut:   # the decoder's inputs are its embedded tokens (tracked) and the detached encoder state
            assert f is not None and f.severity == "error" and f.where == ["enc"], r.findings
            assert f.evidence["downstream_modules_with_detached_input"] == ["dec"]
        else:
            assert f is None, r.findings


def test_a_state_carried_over_from_the_previous_pass_is_not_a_cut():
    # truncated backpropagation through time: the state is detached between passes, by design
    torch.manual_seed(0)
    rnn, head = nn.GRU(4, 16, batch_first=True), nn.Linear(16, 1)
    m = nn.ModuleDict({"rnn": rnn, "head": head})
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x, y = torch.randn(8, 40 * 5, 4), torch.randn(8, 40 * 5, 1)
    with nndoctor.watch(m, opt) as doctor:
        h = None
        for i in range(40):
            out, h = rnn(x[:, 5 * i: 5 * i + 5], h)
            loss = F.mse_loss(head(out), y[:, 5 * i: 5 * i + 5])
            opt.zero_grad()
            loss.backward()
            opt.step()
            h = h.detach()
    assert doctor.report().get("broken-gradient-flow") is None, doctor.report().findings


def test_the_recorder_holds_a_bounded_share_of_a_passs_outputs():
    # outputs are held until the pass's backward (to match detached views by storage); a forward with no
    # backward after it must not keep large activations alive
    from nndoctor.probes.forward import HELD_BYTES, ForwardRecorder
    big = nn.Sequential(nn.Linear(64, 4096), nn.ReLU(), nn.Linear(4096, 4096))
    names = {id(m): n or "root" for n, m in big.named_modules()}
    rec = ForwardRecorder(names)
    rec.install([big])
    for _ in range(3):
        big(torch.randn(1024, 64))   # 16 MiB per 4096-wide output
    assert 0 < rec._held_bytes <= HELD_BYTES and len(rec._held) <= 2
    rec.new_pass()
    assert rec._held_bytes == 0 and not rec._held
    rec.remove()


def train_seq(m, opt, src, tgt_in, y, steps):
    for _ in range(steps):
        out, _ = m(src, tgt_in)
        loss = F.mse_loss(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(20, 2)
        self.rare = nn.Linear(20, 2)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.rare(x) if self.calls % 1000 == 0 else self.a(x)


def test_unused_branch_is_info_only():
    m = Branchy()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    r = watched(m, opt, lambda: train(m, opt, X, y, steps=30))
    assert r.healthy
    assert r.get("broken-gradient-flow").severity == "info" and r.get("broken-gradient-flow").where == ["rare"]


# ----------------------------------------------------------------------------- not optimized
def _two_stage(unfreeze_into_optimizer: bool, new_head: bool = False):
    """Train a head on a frozen trunk for 40 steps, then unfreeze the trunk (or add a second head) and go on."""
    torch.manual_seed(0)
    X, y = blobs()
    m = nn.ModuleDict({"trunk": nn.Sequential(nn.Linear(20, 32), nn.ReLU()), "head": nn.Linear(32, 2)})
    for p in m["trunk"].parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(m["head"].parameters(), lr=1e-3)
    with nndoctor.watch(m, opt) as doctor:
        for i in range(120):
            if i == 40:
                if new_head:
                    m["head2"] = nn.Linear(32, 2)
                    new = list(m["head2"].parameters())
                else:
                    for p in m["trunk"].parameters():
                        p.requires_grad_(True)
                    new = list(m["trunk"].parameters())
                if unfreeze_into_optimizer:
                    opt.add_param_group({"params": new})
            xb, yb = X[(i * 32) % 256:(i * 32) % 256 + 32], y[(i * 32) % 256:(i * 32) % 256 + 32]
            h = m["trunk"](xb)
            out = m["head"](h) + (m["head2"](h) if "head2" in m else 0)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return doctor.report()


def test_a_backbone_unfrozen_but_not_given_to_the_optimizer_is_not_optimized():
    f = _two_stage(unfreeze_into_optimizer=False).get("parameter-not-optimized")
    assert f is not None and f.severity in ("warning", "error") and f.where == ["trunk.0"], f
    # the usual recipe, the unfrozen parameters added to the optimizer: quiet
    r = _two_stage(unfreeze_into_optimizer=True)
    assert "parameter-not-optimized" not in {f.code for f in r.findings if f.severity != "info"}, r.findings


def test_a_head_added_during_training_but_not_to_the_optimizer_is_not_optimized():
    f = _two_stage(unfreeze_into_optimizer=False, new_head=True).get("parameter-not-optimized")
    assert f is not None and f.severity in ("warning", "error") and f.where == ["head2"], f
    r = _two_stage(unfreeze_into_optimizer=True, new_head=True)
    assert "parameter-not-optimized" not in {f.code for f in r.findings if f.severity != "info"}, r.findings


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_head_replaced_after_the_optimizer_was_built_is_not_optimized(rebuild):
    """Pretrain on one task, then `model.head = nn.Linear(...)` for another (the same number of parameters, so no
    count changes) with the optimizer of the first stage kept: the new head's parameters get gradients and no
    optimizer holds them. Not a cut graph (the old head the optimizer holds is no longer in the model), and the
    jump of the loss at the task change is not a learning rate that diverged (the loss views start again)."""
    torch.manual_seed(0)
    X = torch.randn(1024, 16)
    y2, y5 = (X[:, 0] > 0).long(), (X[:, :5].argmax(1))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
            self.head = nn.Linear(32, 2)

        def forward(self, x):
            return self.head(self.body(x))

    model = Net()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    with nndoctor.watch(model, opt) as doctor:
        for stage, (y, steps) in enumerate(((y2, 150), (y5, 200))):
            if stage == 1:
                model.head = nn.Linear(32, 5)
                if rebuild:
                    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)   # (a new optimizer is found when it steps)
            for i in range(steps):
                j = (i * 64) % 1024
                loss = F.cross_entropy(model(X[j:j + 64]), y[j:j + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
    r = doctor.report()
    alarms = {f.code: f for f in r.findings if f.severity != "info"}
    if rebuild:
        assert "parameter-not-optimized" not in alarms, r.findings
    else:
        assert "parameter-not-optimized" in alarms and alarms["parameter-not-optimized"].where == ["head"], r.findings
    assert not {"broken-gradient-flow", "learning-rate-too-high"} & set(alarms), r.findings


def test_parameters_frozen_and_thawed_at_every_step_are_analysed_once():
    # a GAN that freezes its discriminator while the generator steps: the counts toggle at every step
    torch.manual_seed(0)
    G, D = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)), nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    og, od = torch.optim.Adam(G.parameters(), lr=1e-3), torch.optim.Adam(D.parameters(), lr=1e-3)
    real = torch.randn(512, 2) * 0.5 + 1.0
    with nndoctor.watch([G, D], [og, od]) as doctor:
        for i in range(200):
            z, xb = torch.randn(32, 4), real[(i * 32) % 512:(i * 32) % 512 + 32]
            for p in D.parameters():
                p.requires_grad_(True)
            d_loss = F.binary_cross_entropy_with_logits(D(xb), torch.ones(32, 1)) + \
                F.binary_cross_entropy_with_logits(D(G(z).detach()), torch.zeros(32, 1))
            od.zero_grad()
            d_loss.backward()
            od.step()
            for p in D.parameters():
                p.requires_grad_(False)
            g_loss = F.binary_cross_entropy_with_logits(D(G(z)), torch.ones(32, 1))
            og.zero_grad()
            g_loss.backward()
            og.step()
    r = doctor.report()
    assert not [f for f in r.findings if f.severity != "info"], r.findings
    assert len(doctor.store.facts.get("graphs", [])) <= 2


class ListNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(20, 32)
        self.blocks = [nn.Linear(32, 32) for _ in range(2)]  # a plain list: not registered
        self.out = nn.Linear(32, 2)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        for b in self.blocks:
            h = torch.relu(b(h))
        return self.out(h)


def test_layers_in_a_python_list():
    m = ListNet()
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=12)).get("parameter-not-optimized")
    assert f.severity == "error" and f.where == ["blocks[0]", "blocks[1]"]
    assert f.remedies[0].id == "module-list" and f.evidence["registered"] is False


def test_optimizer_on_the_head_only_and_optimizer_of_another_model():
    m = mlp(depth=2)
    opt = torch.optim.SGD(m[4].parameters(), lr=0.1)
    X, y = blobs()
    f = watched(m, opt, lambda: train(m, opt, X, y, steps=12)).get("parameter-not-optimized")
    assert f.where == ["0", "2"] and f.evidence["share_of_model"] > 0.5
    m2, other = mlp(), mlp()
    opt2 = torch.optim.SGD(other.parameters(), lr=0.1)
    r = watched(m2, opt2, lambda: train(m2, opt2, X, y, steps=12))
    assert r.get("parameter-not-optimized").severity == "error"
    assert any("holds none" in n for n in r.notes)


def test_zero_grad_between_backward_and_step():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()

    def loop():
        for i in range(20):
            nn.functional.cross_entropy(m(X[:32]), y[:32]).backward()
            opt.zero_grad()  # wrong place: wipes the gradients before step()
            opt.step()
    f = watched(m, opt, loop).get("optimizer-step-missing")
    assert f is not None and "between backward() and step()" in f.summary


def test_closure_style_optimizer_lbfgs_is_watched():
    torch.manual_seed(0)
    m = mlp(out=1)
    opt = torch.optim.LBFGS(m.parameters(), lr=0.5, max_iter=4)
    X = torch.randn(128, 20)
    y = X[:, :1] * 0.5

    def loop():
        for i in range(15):
            def closure():
                opt.zero_grad()
                loss = nn.functional.mse_loss(m(X), y)
                loss.backward()
                return loss
            opt.step(closure)
    with nndoctor.watch(m, opt) as doctor:
        loop()
    r = doctor.report()
    assert r.healthy, r
    assert r.steps == 15 and r.backward_passes >= 15


def test_closure_style_without_zero_grad_is_caught():
    torch.manual_seed(0)
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    X, y = blobs()

    def loop():
        for i in range(20):
            def closure():
                loss = nn.functional.cross_entropy(m(X[:32]), y[:32])
                loss.backward()
                return loss
            opt.step(closure)
    assert "gradient-not-zeroed" in watched(m, opt, loop)


# ----------------------------------------------------------------------------- transient states
def test_lr_held_at_zero_then_raised_is_resolved_not_an_error():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.0)
    X, y = blobs()

    def loop():
        for i in range(60):
            if i == 30:
                for g in opt.param_groups:
                    g["lr"] = 0.1  # a deliberate hold, then training starts
            opt.zero_grad()
            nn.functional.cross_entropy(m(X[:32]), y[:32]).backward()
            opt.step()
    r = watched(m, opt, loop)
    f = r.get("optimizer-step-missing")
    assert r.healthy and f is not None and f.severity == "info"
    assert f.evidence["resolved"] and f.evidence["severity_while_active"] == "error"


class FreezeFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(20, 32), nn.ReLU())
        self.head = nn.Linear(32, 2)
        self.frozen = True

    def forward(self, x):
        if self.frozen:
            with torch.no_grad():
                h = self.encoder(x)
        else:
            h = self.encoder(x)
        return self.head(h)


def test_encoder_frozen_by_no_grad_for_a_while_then_trained_is_info():
    m = FreezeFirst()
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    X, y = blobs()

    def loop():
        for i in range(60):
            m.frozen = i < 25
            opt.zero_grad()
            nn.functional.cross_entropy(m(X[:32]), y[:32]).backward()
            opt.step()
    r = watched(m, opt, loop)
    f = r.get("broken-gradient-flow")
    assert r.healthy, r
    assert f.severity == "info" and f.evidence["received_gradients_after_step"] > 0


def test_gradual_unfreezing_with_add_param_group():
    m = mlp(depth=2)
    opt = torch.optim.SGD(m[4].parameters(), lr=0.05)   # head first; the body still requires grad
    X, y = blobs()

    def loop():
        for i in range(40):
            if i == 20:
                opt.add_param_group({"params": list(m[0].parameters()) + list(m[2].parameters()), "lr": 0.01})
            opt.zero_grad()
            nn.functional.cross_entropy(m(X[:32]), y[:32]).backward()
            opt.step()
    r = watched(m, opt, loop)
    assert r.healthy, r
    assert r.get("parameter-not-optimized").severity == "info"


def test_tiny_inputs_are_not_vanishing_gradients():
    # raw features at the 1e-4 scale shrink the first layer's gradient only: not a depth effect
    m = mlp(depth=4, h=64)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    X, y = blobs()
    X = X * 1e-4
    r = watched(m, opt, lambda: train(m, opt, X, y, steps=40))
    assert "vanishing-gradient" not in r, r


def test_exploding_bursts_with_a_loss_that_only_learned_the_mean_are_not_excused_as_improving():
    """Bursts of 2.5-3.5 decades on a raw-scale regression: the loss falls from ~25000 (predicting ~0) to
    ~6000, which is what predicting the targets' mean scores. Against its start that is 'improving' and
    the bursts were excused; against the best constant prediction it has learned nothing, and the
    explosion is reported. With a constant-prediction loss the run did beat, it stays excused."""
    from types import SimpleNamespace

    from nndoctor.diagnoses.gradients import _exploding_for
    rng = np.random.default_rng(0)
    n = 200
    logg = 2.6 + 0.1 * rng.standard_normal(n)
    logg[12:15] += [2.5, 1.8, 1.2]
    logg[17:19] += [3.5, 1.0]
    G = (10 ** logg)[:, None]
    loss = np.where(np.arange(n) < 30, 25000.0, 6100.0) * np.exp(0.2 * rng.standard_normal(n))
    ov = SimpleNamespace(grad=G, grad_steps=np.arange(1, n + 1), loss=loss, positions=[0], lrs=[5e-4], name="opt")

    def ctx(null):
        return SimpleNamespace(facts={}, params=[SimpleNamespace(name="0.weight")],
                               constant_prediction_loss=lambda: null)
    assert _exploding_for(ctx(None), ov) is None            # no constant-prediction level: improving (as before)
    f = _exploding_for(ctx(5943.0), ov)                       # the targets' variance: no better than the mean
    assert f is not None and f.evidence["bursts_at_steps"][:2] == [13, 18]
    assert _exploding_for(ctx(12000.0), ov) is None          # a loss well below the constant prediction: improving


def _vanishing_ctx(names, profile, steps=12, seed=0):
    """A rule-level context for _vanishing_for: one weight per layer whose relative gradient ||g||/||w|| follows
    `profile` (log10, input -> output) with 0.05-decade noise per sampled step."""
    from types import SimpleNamespace
    rng = np.random.default_rng(seed)
    n = len(names)
    P = np.ones((steps, n))
    G = 10 ** (np.asarray(profile)[None, :] + 0.05 * rng.standard_normal((steps, n)))
    ov = SimpleNamespace(name="opt", positions=list(range(n)), upd_steps=np.arange(1, steps + 1) * 20,
                         grad_steps=np.arange(1, steps + 1) * 20, grad=G, param=P)
    ctx = SimpleNamespace(params=[SimpleNamespace(kind="weight", module=m, requires_grad=True) for m in names],
                          activation_types=lambda: ["Tanh"], label=lambda m: f"`{m}`")
    return ctx, ov, {m: i for i, m in enumerate(names)}


def test_vanishing_onto_a_floor_of_early_layers_is_found_whatever_the_floor_wiggles():
    """Eight tanh layers initialised at N(0, 0.01^2) (clinic: tanh_small_init, seed offset 2): the early layers'
    weight gradients sit on a floor ~1e-9 (the forward signal vanishes too), flat within half a decade and
    slightly falling toward the output, under a climb of 7.7 decades over the last three layers. The rank
    correlation of that profile is 0.47 (0.55 at another seed): its bar of 0.5 let the floor's wiggles decide.
    Judged in decades the decay is steady: the steps against it total 0.45 of 7.7 decades."""
    from nndoctor.diagnoses.gradients import _vanishing_for
    from nndoctor.diagnoses.stats import spearman
    names = [f"hidden.{i}" for i in range(8)] + ["out"]
    profile = [-9.09, -9.19, -9.34, -9.46, -9.54, -9.38, -7.32, -4.79, -1.45]
    assert spearman(np.arange(9), np.array(profile)) < 0.5
    ctx, ov, order = _vanishing_ctx(names, profile)
    f = _vanishing_for(ctx, ov, order)
    assert f is not None and f.severity == "error" and f.evidence["decay_decades"] > 7
    assert f.where[0] == "hidden.0"


def test_a_large_head_over_a_flat_body_is_not_vanishing():
    """The same floor with the whole climb at the output layer alone (one odd layer: a head with a large
    gradient), in layers of unrelated names (no repeated-structure test applies): not a steady decay."""
    from nndoctor.diagnoses.gradients import _vanishing_for
    names = ["embed", "proj", "mixer", "gate", "norm", "pool", "head"]
    profile = [-5.0, -5.1, -5.2, -5.1, -5.2, -5.1, -1.0]
    ctx, ov, order = _vanishing_ctx(names, profile)
    assert _vanishing_for(ctx, ov, order) is None


def _lr_low_ctx(loss, ratio=1e-3, lr=1e-4):
    """A rule-level context for check_lr_low: one optimizer at a constant LR, a loss per step and weight
    updates of `ratio` of the weights."""
    from types import SimpleNamespace
    n = len(loss)
    steps = np.arange(1, n + 1)
    sampled = steps[::20]
    store = {"lr/0": type("S", (), {"array": lambda self: np.full(n, lr), "steps": steps,
                                     "__len__": lambda self: n})()}
    ov = SimpleNamespace(key=0, name="opt", steps=n, positions=[0], lrs=[lr], loss=np.asarray(loss),
                         upd_steps=sampled, param=np.ones((len(sampled), 1)),
                         update=np.full((len(sampled), 1), ratio))
    return SimpleNamespace(optimizers=lambda: [ov], store=store, found={}, cache={}, facts={},
                           params=[SimpleNamespace(kind="weight")], constant_prediction_loss=lambda: None)


def _sixths(levels, noise, n=300, seed=0):
    """A positive per-step loss whose medians of sixths are exactly `levels`, with multiplicative noise."""
    rng = np.random.default_rng(seed)
    out = []
    for lv, k in zip(levels, [len(c) for c in np.array_split(np.arange(n), 6)]):
        e = noise * rng.standard_normal(k)
        out.append(lv * np.exp(e - np.median(e)))
    return np.concatenate(out)


def test_lr_too_low_an_unproven_acceleration_is_not_an_alarm_either_way_it_reports_its_z():
    """Where the sixths' medians are too noisy to tell a straight descent from an accelerating one, the
    point comparison decides and a curve whose second half fell more than twice as much as its first is
    excused (a false alarm costs more than a miss). A version that excused only a *significant*
    acceleration caught the clinic's crawling GRU at seed offset 2 (sixths 0.929, 0.935, 0.894 | 0.839,
    0.777, 0.755: 2.4x, z 0.1) but fired on the healthy retain_graph program at offset 5 (drops 0.009 then
    0.030, z 0.09). A second half within 2x is the linear regime, and the evidence says how far from the
    noise that comparison is (acceleration_z)."""
    from nndoctor.diagnoses.hyperparams import check_lr_low
    assert check_lr_low(_lr_low_ctx(_sixths([0.929, 0.935, 0.894, 0.839, 0.777, 0.755], noise=0.3))) == []
    f = check_lr_low(_lr_low_ctx(_sixths([0.95, 0.92, 0.89, 0.86, 0.83, 0.80], noise=0.15)))
    assert len(f) == 1 and f[0].code == "learning-rate-too-low"
    assert abs(f[0].evidence["acceleration_z"]) < 1.96    # the straight line's z: within the noise


def test_lr_too_low_a_curve_leaving_a_plateau_significantly_is_excused():
    """The same descent packed into the second half with little noise: an acceleration far beyond the
    medians' noise (a run leaving an early plateau), not a too-low LR."""
    from nndoctor.diagnoses.hyperparams import check_lr_low
    loss = _sixths([0.95, 0.95, 0.94, 0.9, 0.8, 0.7], noise=0.05)
    assert check_lr_low(_lr_low_ctx(loss)) == []


def test_lr_too_low_a_loss_below_half_of_the_constant_predictions_is_converged():
    """A straight descent from 0.63 to 0.40 (less than half of its first losses) is the linear regime -- unless the
    best constant prediction's loss is 1.0: the first losses were already below it, and the run has come down by
    more than half from where learning starts, to the data's noise floor (a tanh MLP on diabetes, eighth audit)."""
    from nndoctor.diagnoses.hyperparams import check_lr_low
    loss = _sixths([0.63, 0.59, 0.55, 0.51, 0.47, 0.43], noise=0.01)
    ctx = _lr_low_ctx(loss, ratio=2e-3)
    assert [f.code for f in check_lr_low(ctx)] == ["learning-rate-too-low"]
    ctx.constant_prediction_loss = lambda: 1.0
    assert check_lr_low(ctx) == []


def test_lr_too_low_a_steady_crawl_still_above_the_constant_prediction_is_found_before_ten_percent():
    """A GRU at Adam lr 5e-5 (clinic: gru_sine_freq_low_lr) comes down 1.40 -> 1.33 in its first 70 steps, a
    significant straight descent, but under the 10% that separates a descent from a flat loss: alone that kept
    the finding waiting until step 140 of 150. Its constant prediction scores 0.12: a run still worse than
    predicting the mean is not near any floor, and the steady trend already rules out a flat loss. A run at the
    same pace that is below the constant prediction waits for the 10% as before."""
    from nndoctor.diagnoses.hyperparams import check_lr_low
    loss = _sixths([1.40, 1.39, 1.37, 1.36, 1.35, 1.33], noise=0.01, n=70)
    ctx = _lr_low_ctx(loss, ratio=4e-4)
    assert check_lr_low(ctx) == []              # under 10% of its start, no constant prediction known
    ctx.constant_prediction_loss = lambda: 0.12
    ctx.cache = {}
    assert [f.code for f in check_lr_low(ctx)] == ["learning-rate-too-low"]
    ctx.constant_prediction_loss = lambda: 1.5  # below the constant prediction already: the 10% decides
    assert check_lr_low(ctx) == []


def test_lr_too_low_a_finding_made_before_the_schedule_decayed_the_lr_stands():
    """A Trainer that divided the loss twice ran SGD at lr/8 through its cosine schedule (ninth audit): the linear
    regime was found at step 100, while the LR was near its peak. Once the cosine has taken the LR below half its
    peak, the rule does not judge the linear regime (slow progress is then the schedule's design): that is no
    verdict on the steps before, so the rule says it cannot judge (None) and the finding stands, instead of being
    "resolved" out of the report -- while those steps as a whole fell by less than half; one that halved its loss
    before the decay (a healthy StepLR run caught crawling early) is resolved. A run with no such finding gets
    nothing, as before."""
    from nndoctor.diagnoses.hyperparams import check_lr_low
    loss = _sixths([0.95, 0.92, 0.89, 0.86, 0.83, 0.80], noise=0.15)
    ctx = _lr_low_ctx(loss)
    assert [f.code for f in check_lr_low(ctx)] == ["learning-rate-too-low"]       # at the peak LR: found
    n = len(loss)
    decayed = np.concatenate([np.full(n - 20, 1e-4), np.full(20, 3e-5)])       # the cosine's second half
    ctx.store["lr/0"] = type("S", (), {"array": lambda self: decayed, "steps": np.arange(1, n + 1),
                                       "__len__": lambda self: n})()
    ctx.optimizers()[0].lrs = [3e-5]
    ov = ctx.optimizers()[0]
    ov.loss_steps = np.arange(1, n + 1)
    ctx.n_backward = ctx.step = n
    assert check_lr_low(ctx) == []                   # nothing found before: nothing to keep
    ctx.found = {"learning-rate-too-low": "warning"}
    assert check_lr_low(ctx) is None                 # found before the decay: not judged now, so it stands
    ov.loss = _sixths([0.95, 0.8, 0.6, 0.45, 0.4, 0.38], noise=0.05)   # halved before the decay: real progress
    assert check_lr_low(ctx) == []                   # resolved, as at the peak LR


def test_lr_too_low_judges_the_losses_of_the_lr_in_effect_since_it_last_changed():
    """A crawl at lr 1e-4 for 200 steps, then the LR raised and the loss still crawling, 5x faster (clinic:
    lr_from_summed_loss, a mean loss at an LR tuned for a summed one, raised 3x by repair mode and still 20x
    short). On the whole history that is a curve that speeds up: excused as leaving a plateau. The losses
    before the raise were taken at another LR: the rule judges the regime since the LR last jumped (doubled
    or more between two samples), or since repair mode last changed the LR in effect (its factors act inside
    step(), so the LR series does not show them), and finds the raised LR crawling too. Under 50 losses
    since the change it does not judge."""
    from nndoctor.diagnoses.hyperparams import check_lr_low
    rng = np.random.default_rng(0)
    before = np.linspace(0.95, 0.90, 200)
    after = np.linspace(0.90, 0.78, 100)
    loss = np.concatenate([before, after]) * np.exp(0.003 * rng.standard_normal(300))
    ctx = _lr_low_ctx(loss)
    ov = ctx.optimizers()[0]
    ov.loss_steps = np.arange(1, 301)
    ctx.n_backward = ctx.step = 300
    assert check_lr_low(ctx) == []                     # the whole history accelerates: no verdict on the raise
    lrs = np.concatenate([np.full(200, 1e-4), np.full(100, 5e-4)])
    ctx.store["lr/0"] = type("S", (), {"array": lambda self: lrs, "steps": np.arange(1, 301),
                                       "__len__": lambda self: 300})()
    ov.lrs = [5e-4]
    ctx.cache = {}
    f = check_lr_low(ctx)
    assert [x.code for x in f] == ["learning-rate-too-low"]
    assert f[0].evidence["lr"] == 5e-4
    # repair mode's raise: the script's LR series stays flat, the fact says where the LR in effect changed
    ctx.store["lr/0"] = type("S", (), {"array": lambda self: np.full(300, 1e-4), "steps": np.arange(1, 301),
                                       "__len__": lambda self: 300})()
    ov.lrs = [1e-4]
    ctx.facts = {"lr_changed_by_repair": {"0": [200, 200]}}
    ctx.cache = {}
    assert [x.code for x in check_lr_low(ctx)] == ["learning-rate-too-low"]
    ctx.facts = {"lr_changed_by_repair": {"0": [260, 260]}}   # 40 losses since: not judged yet
    ctx.cache = {}
    assert check_lr_low(ctx) == []


def _lr_high_ctx(loss, first_ratio, later_ratio=1e-3, lr=0.1):
    """A rule-level context for check_lr_high: one optimizer, a loss per step, the update/weight ratio of steps
    1-5 and of the sampled steps after."""
    from types import SimpleNamespace
    n = len(loss)
    steps = np.arange(1, n + 1)
    sampled = np.array([s for s in steps if s <= 5 or s % 20 == 0])
    ratios = np.where(sampled <= 5, first_ratio, later_ratio)
    store = {"lr/0": type("S", (), {"array": lambda self: np.full(n, lr), "steps": steps,
                                     "__len__": lambda self: n})()}
    ov = SimpleNamespace(key=0, name="opt", steps=n, positions=[0], lrs=[lr], loss=np.asarray(loss, dtype=float),
                         upd_steps=sampled, param=np.ones((len(sampled), 1)), update=ratios.reshape(-1, 1),
                         loss_steps=steps)
    return SimpleNamespace(optimizers=lambda: [ov], store=store, found={}, cache={},
                           params=[SimpleNamespace(kind="weight")], constant_prediction_loss=lambda: None)


def test_lr_too_high_the_first_updates_blow_up_is_named_before_step_30():
    """Adam at SGD's lr 0.1 (clinic: sgd_lr_reused_for_adam): the first updates move the weights by 40% of their
    norm and the loss jumps from 2.3 to 17. That verdict rests on steps 1-5 alone, and waiting for the 30 losses
    the trend tests need let the ReLUs die before repair mode could act: it is given from the sixth loss on. A
    young run without that blow-up is not judged, and a mild start (updates at 1e-3) is quiet at any age."""
    from nndoctor.diagnoses.hyperparams import check_lr_high
    blown = [2.3, 17.0, 9.0, 5.0, 3.0, 2.5, 2.2, 2.1, 2.0, 1.9]
    f = check_lr_high(_lr_high_ctx(blown, first_ratio=0.4))
    assert [x.code for x in f] == ["learning-rate-too-high"] and f[0].evidence["evidence_last_step"] == 5
    assert f[0].severity == "warning" and f[0].evidence["first_updates_weight_ratio"] == 0.4
    assert check_lr_high(_lr_high_ctx(blown[:5], first_ratio=0.4)) == []          # five losses: too few
    assert check_lr_high(_lr_high_ctx(blown, first_ratio=1e-3)) == []             # the jump alone is not the step's
    calm = [2.3, 2.2, 2.1, 2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4]
    assert check_lr_high(_lr_high_ctx(calm, first_ratio=0.4)) == []               # large steps, but the loss falls


def test_dead_relu_severity_follows_the_worst_layers_share_not_the_number_of_layers():
    """A one-hidden-layer net with 17 of its 32 ReLUs dead from init (sklearn's diabetes features, std 0.048,
    against PyTorch's default bias init) used to be an error because "every ReLU layer" was at least half
    dead -- in a one-layer net that is just the one layer. By the documented tiers 53% is info (as it is
    for any layer of a deeper net); 2/3 stays a warning and >= 90% an error."""
    from types import SimpleNamespace

    from nndoctor.diagnoses.activations import check_dead_relu

    def ctx(dead):
        mods = {"net.0": {"kind": "layer", "order": 0, "is_model_input": 1},
                "net.1": {"kind": "relu", "order": 1, "dead": dead, "units": 32}}
        samples = [{"step": s, "forwards": 3, "modules": mods} for s in (1, 200, 400)]
        return SimpleNamespace(facts={"act_samples": samples}, batch_size=lambda: 25, label=lambda k: k)
    assert [f.severity for f in check_dead_relu(ctx(17 / 32))] == ["info"]
    assert [f.severity for f in check_dead_relu(ctx(22 / 32))] == ["warning"]
    assert [f.severity for f in check_dead_relu(ctx(29 / 32))] == ["error"]
    assert check_dead_relu(ctx(15 / 32)) == []


def _overfitting_ctx(val, train_per_epoch, steps_per_epoch=9, seed=0):
    """A Context as the overfitting rule reads it: one validation loss per epoch (after the epoch's
    steps) and one training loss per step (the epoch's level with minibatch noise)."""
    from types import SimpleNamespace

    class Series:
        def __init__(self, steps, values):
            self.steps, self._v = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)

        def array(self):
            return self._v

        def __len__(self):
            return len(self._v)

    rng = np.random.default_rng(seed)
    n = len(val) * steps_per_epoch
    tl = np.repeat(train_per_epoch, steps_per_epoch) * np.exp(0.3 * rng.standard_normal(n))
    store = {"loss": Series(np.arange(1, n + 1), tl),
             "val_loss/0": Series(steps_per_epoch * np.arange(1, len(val) + 1), val)}
    return SimpleNamespace(store=store, facts={"val_sites": {0: "val"}}, n_backward=n, step=n)


def test_overfitting_needs_the_val_loss_to_rise_as_the_train_loss_falls():
    """healthy_reduce_on_plateau_imbalanced_pos_weight at --seed-offset 1 (the numbers of that run): the
    validation loss dips once to 0.149 (epoch 3) in a noisy high-LR phase (0.15-0.27), ReduceLROnPlateau
    decays the LR to ~0 and the loss then sits at 0.216 with a creep of 1e-4 while the training loss is
    flat minibatch noise. 45% above the dip and a rank trend over time of 0.55: it was reported as
    overfitting, but the validation loss never rose *as* the training loss fell (their rank correlation
    from the dip on is ~ -0.4). The same validation curve with the training loss still falling, and a
    plain memorization curve, are reported."""
    from nndoctor.diagnoses.training import check_overfitting
    val = [0.556753, 0.271064, 0.190142, 0.149009, 0.269111, 0.201773, 0.171987, 0.259349, 0.221898, 0.214755,
           0.206532, 0.21102, 0.210086, 0.210402, 0.213819, 0.211957, 0.213033, 0.215223, 0.215404, 0.215711,
           0.215885, 0.215955, 0.21606, 0.216233, 0.216122, 0.216153, 0.216162, 0.216169, 0.21615, 0.216163,
           0.216153, 0.216174, 0.216184, 0.21619, 0.216187, 0.216184, 0.216184, 0.216183, 0.216185, 0.216186]
    train = [0.7563, 0.2262, 0.08439, 0.05722, 0.03209, 0.02569, 0.01895, 0.0172, 0.01327, 0.0123] + [0.0105] * 30
    assert check_overfitting(_overfitting_ctx(val, train)) == []
    still_falling = np.geomspace(0.7563, 2e-4, len(val))     # memorizing on: the rise comes with the fall
    f = check_overfitting(_overfitting_ctx(val, still_falling))
    assert len(f) == 1 and f[0].evidence["rank_corr_train_val_since_min"] <= -0.5
    epochs = np.arange(60)
    clean_val = 0.5 + 0.004 * (epochs - 12) ** 2 / (1 + 0.05 * np.abs(epochs - 12))   # minimum at epoch 12
    f = check_overfitting(_overfitting_ctx(clean_val, 2.0 * np.exp(-epochs / 6)))
    assert len(f) == 1 and f[0].evidence["val_min_step"] == 9 * 13


# ----------------------------------------------------------------------------- cheaper paths, same numbers
def test_loss_call_summaries_on_the_cpu_are_the_device_paths_numbers():
    """describe_call reads CPU tensors through numpy (zero-copy views): every summary it reports is the
    one the torch path computes, for class, one-hot, regression, NaN/Inf, half and integer arguments."""
    from nndoctor.probes import loss as L

    g = torch.Generator().manual_seed(0)
    cases = [
        (torch.randn(32, 10, generator=g), torch.randint(0, 10, (32,), generator=g)),
        (torch.randn(32, 1, generator=g), torch.randn(32, 1, generator=g)),
        (torch.softmax(torch.randn(50, 4, generator=g), 1), F.one_hot(torch.randint(0, 4, (50,), generator=g), 4).float()),
        (torch.randn(10000, 3, generator=g), torch.randint(0, 2, (10000, 3), generator=g).float()),
        (torch.randn(8, generator=g), torch.tensor([1., float("nan"), float("nan"), 0, 1, 2, float("inf"), -3])),
        (torch.randn(8, 5, generator=g).half(), torch.randint(0, 5, (8,), generator=g, dtype=torch.int32)),
        (torch.randn(0, 5), torch.zeros(0, dtype=torch.long)),
        (torch.randn(6, 3, generator=g).double(), torch.tensor([True, False, True, True, False, False])),
        (torch.randn(4, 3, 8, 8, generator=g), torch.randint(0, 3, (4, 8, 8), generator=g)),
        (torch.randn(4, 3, generator=g)[:, ::2], torch.rand(4, 2, generator=g)),
    ]
    for pred, target in cases:
        host = L._summaries_host(pred, target)
        n_unique = host.pop()
        dev, dev_unique = L._summaries_device(pred, target)
        assert n_unique == dev_unique and len(host) == len(dev) == 10
        assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(host, dev)), (pred.dtype, host, dev)
    # and the broadcast check is torch's
    shapes = [[], [1], [3], [0], [2, 3], [3, 1], [1, 3], [2, 1, 3], [0, 3], [32, 10], [32], [32, 1]]
    for a in shapes:
        for b in shapes:
            try:
                ref = list(torch.broadcast_shapes(a, b))
            except RuntimeError:
                ref = None
            assert L._broadcast(list(a), list(b)) == ref, (a, b)


def test_rendered_remedies_are_reused_only_for_the_same_ids_and_context():
    from nndoctor import remedies as R

    a = R.render(["lower-lr"], suggested_lr=1)
    b = R.render(["lower-lr"], suggested_lr=1.0)
    c = R.render(["lower-lr"], suggested_lr=1)
    assert a[0].snippet != b[0].snippet            # 1 and 1.0 are equal keys, and render differently
    assert c[0] is a[0] and c is not a             # the same rendering, in a list of its own
    assert R.render(["lower-lr"], suggested_lr=[0.1])[0].snippet   # an unhashable value: rendered, not cached


def test_lr_too_low_suggests_the_lr_that_takes_the_updates_out_of_the_linear_regime():
    """The suggested LR brings the update/weight ratio to SMALL_UPDATES (3e-3), the bound under which the rule
    calls updates small, not to the usual 1e-3, which the rule's own test would still find too low: at a ratio
    of 1e-4 it is 30x the LR (10x before), and a ratio just under the bound still gets the smallest raise, 3x."""
    from nndoctor.diagnoses.hyperparams import SMALL_UPDATES, check_lr_low
    loss = _sixths([0.95, 0.92, 0.89, 0.86, 0.83, 0.80], noise=0.15)
    f = check_lr_low(_lr_low_ctx(loss, ratio=1e-4, lr=0.01))
    assert len(f) == 1 and f[0].evidence["update_weight_ratio"] == 1e-4
    assert f[0].evidence["suggested_lr"] == 0.01 * SMALL_UPDATES / 1e-4 == 0.3
    f = check_lr_low(_lr_low_ctx(loss, ratio=2.5e-3, lr=0.01))
    assert len(f) == 1 and f[0].evidence["suggested_lr"] == 0.03


def test_an_lr_cut_brings_the_median_layer_to_the_healthy_floor_and_a_deep_networks_movement_under_the_bar():
    from nndoctor.diagnoses.hyperparams import CUT_TARGET, HIGH_RATIO, cut_factor
    # a 3-layer net whose layers move by 3% a step (5% in quadrature): the median layer binds, to 3e-3
    assert cut_factor(0.03, 0.052, 1 / 100, 1 / 2) == pytest.approx(CUT_TARGET / 0.03)
    # a 12-layer ReLU net at 0.67% a layer moves by 6.85% in all: at 3e-3 a layer it would still move by ~3%
    # (units die), so the network's bound binds: x0.146, a layer at ~1e-3
    f = cut_factor(6.7e-3, 0.0685, 1 / 100, 1 / 2)
    assert f == pytest.approx(HIGH_RATIO / 0.0685) and 0.0685 * f <= HIGH_RATIO + 1e-12
    # no network measured: the median layer alone; and the remedy's bounds hold
    assert cut_factor(0.03, None, 1 / 100, 1 / 2) == cut_factor(0.03, float("nan"), 1 / 100, 1 / 2) == pytest.approx(0.1)
    assert cut_factor(10.0, 20.0, 1 / 100, 1 / 2) == 1 / 100 and cut_factor(4e-3, 5e-3, 1 / 100, 1 / 2) == 1 / 2
