"""The contract of watch(): quiet on healthy loops, no change to training, no leaks, no raising."""
import gc
import weakref

import pytest
import torch
from torch import nn

import nndoctor
from nndoctor.probes import tap
from conftest import blobs, mlp, train


def test_healthy_loop_has_no_findings():
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with nndoctor.watch(m, opt) as doctor:
        losses = train(m, opt, X, y, steps=80)
    report = doctor.report()
    assert report.healthy, report
    assert not report.internal_errors, report.internal_errors
    assert report.steps == 80 and report.backward_passes == 80
    assert losses[-10:].mean() < losses[:10].mean()


class DropBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(64, 2))

    def forward(self, x):
        return self.net(x)


def _run(watch: bool, nan_at: int | None = None):
    torch.manual_seed(123)
    X, y = blobs(seed=3)
    m = DropBN()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    doctor = nndoctor.watch(m, opt) if watch else None
    losses = []
    for i in range(40):
        xb = X[(i * 32) % 256:(i * 32) % 256 + 32].clone()
        if nan_at is not None and i == nan_at:
            xb[0, 0] = float("nan")
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(xb), y[(i * 32) % 256:(i * 32) % 256 + 32])
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    if doctor:
        doctor.close()
    return torch.stack(losses), [p.detach().clone() for p in m.parameters()], \
        [b.clone() for b in m.buffers()], torch.get_rng_state(), doctor


def test_same_seed_gives_bit_identical_training():
    a = _run(False)
    b = _run(True)
    assert torch.equal(a[0], b[0])
    assert all(torch.equal(p, q) for p, q in zip(a[1], b[1]))
    assert all(torch.equal(p, q) for p, q in zip(a[2], b[2]))
    assert torch.equal(a[3], b[3])  # the RNG stream is untouched too


def test_nan_forensics_replay_does_not_change_training():
    # the replay that locates a NaN re-runs a forward pass (dropout, BatchNorm): RNG and buffers
    # must be restored exactly
    a = _run(False, nan_at=5)
    b = _run(True, nan_at=5)
    assert torch.equal(a[0][:5], b[0][:5])
    assert torch.allclose(a[0], b[0], equal_nan=True)
    assert torch.equal(a[3], b[3])
    f = b[4].report().get("non-finite")
    assert f is not None and f.evidence["stage"] == "input" and f.step == 6


def test_every_hook_is_removed_and_nothing_leaks():
    original_backward = torch.autograd.backward
    from torch.optim import optimizer as optmod
    pre, post = len(optmod._global_optimizer_pre_hooks), len(optmod._global_optimizer_post_hooks)
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with nndoctor.watch(m, opt) as doctor:
        assert torch.autograd.backward is not original_backward
        train(m, opt, X, y, steps=5)  # still inside the analysis window: recorder hooks are live
    assert torch.autograd.backward is original_backward
    assert len(optmod._global_optimizer_pre_hooks) == pre and len(optmod._global_optimizer_post_hooks) == post
    for mod in m.modules():
        assert not mod._forward_hooks and not mod._forward_pre_hooks and not mod._backward_hooks
    assert tap.active_count() == 0
    ref, oref = weakref.ref(m), weakref.ref(opt)
    report = doctor.report()
    del m, opt
    gc.collect()
    assert ref() is None and oref() is None, "the doctor must not keep the model alive after close()"
    assert report.steps == 5


def test_internal_error_is_reported_not_raised(monkeypatch):
    from nndoctor import doctor as doctor_mod

    def boom(*a, **k):
        raise RuntimeError("probe exploded")
    monkeypatch.setattr(doctor_mod, "norms", boom)
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with nndoctor.watch(m, opt) as doctor:
        losses = train(m, opt, X, y, steps=20)
    assert len(losses) == 20
    report = doctor.report()
    assert any("probe exploded" in e for e in report.internal_errors)


def test_broken_rule_is_reported_not_raised(monkeypatch):
    from nndoctor.diagnoses import REGISTRY

    def bad_rule(ctx):
        raise ValueError("rule bug")
    monkeypatch.setattr(REGISTRY["exploding-gradient"], "rule", bad_rule)
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with nndoctor.watch(m, opt) as doctor:
        train(m, opt, X, y, steps=20)
    assert any("rule bug" in e for e in doctor.report().internal_errors)


def test_user_exception_propagates_and_hooks_are_removed():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with pytest.raises(KeyError):
        with nndoctor.watch(m, opt):
            raise KeyError("user bug")
    assert tap.active_count() == 0


def test_bad_inputs_get_clear_messages():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nndoctor.watch("not a model")
    with pytest.raises(TypeError, match="Optimizer"):
        nndoctor.watch(mlp(), optimizer=[1, 2])
    with pytest.raises(ValueError, match="needs a model"):
        nndoctor.watch()
    with nndoctor.watch(nn.ReLU()) as d:
        nn.ReLU()(torch.randn(3))
    assert any("no parameters" in n for n in d.report().notes)
    frozen = mlp()
    frozen.requires_grad_(False)
    with nndoctor.watch(frozen) as d:
        frozen(torch.randn(2, 20))
    assert any("frozen" in n for n in d.report().notes)


class DictNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(20, 16)
        self.cls = nn.Linear(16, 2)
        self.aux = nn.Linear(16, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return {"logits": self.cls(h), "aux": self.aux(h), "meta": "not a tensor"}


def test_dict_outputs_non_scalar_backward_and_watch_without_optimizer():
    X, y = blobs()
    m = DictNet()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    with nndoctor.watch(m) as doctor:  # the optimizer is discovered from its step hook
        for i in range(40):
            opt.zero_grad()
            out = m(X[:32])
            per_sample = nn.functional.cross_entropy(out["logits"], y[:32], reduction="none") \
                + out["aux"].squeeze(1).pow(2)
            per_sample.backward(torch.ones_like(per_sample) / 32)  # non-scalar root with a gradient
            opt.step()
    report = doctor.report()
    assert report.healthy, report
    assert report.steps == 40


def test_gradient_accumulation_frozen_layers_and_param_groups_are_quiet():
    X, y = blobs(n=512)
    m = mlp(depth=3)
    for p in m[0].parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD([{"params": m[2].parameters(), "lr": 0.05},
                           {"params": m[4].parameters(), "lr": 0.1},
                           {"params": m[6].parameters()}], lr=0.1, momentum=0.9)
    with nndoctor.watch(m, opt) as doctor:
        train(m, opt, X, y, steps=70, accum=4, batch=16)
    report = doctor.report()
    assert report.healthy, report
    assert not report.internal_errors, report.internal_errors
    assert report.backward_passes == 280 and report.steps == 70


def test_gan_with_detach_is_quiet():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    D = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    og = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    with nndoctor.watch([G, D], [og, od]) as doctor:
        for i in range(60):
            real = torch.randn(64, 2) * 0.5 + 2
            fake = G(torch.randn(64, 8))
            od.zero_grad()
            ld = bce(D(real), torch.ones(64, 1)) + bce(D(fake.detach()), torch.zeros(64, 1))
            ld.backward()
            od.step()
            og.zero_grad()
            lg = bce(D(fake), torch.ones(64, 1))
            lg.backward()
            og.step()
    report = doctor.report()
    assert report.healthy, report


def test_target_network_under_no_grad_is_quiet():
    import copy
    torch.manual_seed(0)
    q = mlp(d=4, h=32, out=2)
    target = copy.deepcopy(q)  # requires_grad stays True, not in the optimizer
    opt = torch.optim.Adam(q.parameters(), 1e-3)
    with nndoctor.watch([q, target], opt) as doctor:
        for i in range(60):
            s, s2 = torch.randn(32, 4), torch.randn(32, 4)
            with torch.no_grad():
                tgt = 0.5 + 0.9 * target(s2).max(1).values
            qa = q(s).gather(1, torch.zeros(32, 1, dtype=torch.long)).squeeze(1)
            loss = nn.functional.smooth_l1_loss(qa, tgt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i % 20 == 0:
                target.load_state_dict(q.state_dict())
    assert doctor.report().healthy, doctor.report()


def test_on_finding_callback_fires_once_per_finding():
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    seen = []
    with nndoctor.watch(m, opt, on_finding=seen.append):
        train(m, opt, X, y, steps=60, zero=False)
    assert [f.code for f in seen].count("gradient-not-zeroed") == 1


def test_report_json_schema():
    import json
    X, y = blobs()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with nndoctor.watch(m, opt) as doctor:
        train(m, opt, X, y, steps=30, step=False)
    d = json.loads(doctor.report().to_json())
    assert d["schema"] == "nndoctor.report/1" and d["nndoctor_version"] == nndoctor.__version__
    assert d["steps"] == 0
    f = d["findings"][0]
    assert set(f) >= {"code", "severity", "step", "where", "summary", "evidence", "remedies"}
    assert f["code"] == "optimizer-step-missing" and f["severity"] == "error"
    assert all({"id", "title", "snippet"} <= set(r) for r in f["remedies"])
    again = nndoctor.Report.from_json(doctor.report().to_json())
    assert again.codes == doctor.report().codes


def test_training_another_model_is_not_attributed_to_the_watched_one():
    X, y = blobs()
    a, b = mlp(seed=1), mlp(seed=2)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1)
    with nndoctor.watch(a, opt_a) as doctor:
        train(b, opt_b, X, y, steps=40)      # only b trains
        train(a, opt_a, X, y, steps=5)
    r = doctor.report()
    assert r.backward_passes == 5 and r.steps == 5
    assert r.healthy and not r.findings, r


def test_gan_watching_only_the_generator_counts_its_own_backward_passes():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    D = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    og, od = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    bce = nn.BCEWithLogitsLoss()
    with nndoctor.watch(G, og) as doctor:
        for i in range(30):
            fake = G(torch.randn(64, 8))
            od.zero_grad()
            (bce(D(torch.randn(64, 2) + 2), torch.ones(64, 1)) + bce(D(fake.detach()), torch.zeros(64, 1))).backward()
            od.step()
            og.zero_grad()
            bce(D(fake), torch.ones(64, 1)).backward()
            og.step()
    r = doctor.report()
    assert r.backward_passes == 30 and r.steps == 30 and r.healthy, r


def test_a_later_training_phase_continues_the_step_count_and_is_judged_from_its_start():
    """A teacher trained for 200 steps, then a student with its own optimizer that leaves the student's
    head out of it. The step count goes on from 200 (the largest optimizer count would stay at the
    teacher's 200 until the student's caught up, stamping every student step 200 and holding back the
    flushes and the rules keyed on it): the student's problem is named within its first flushes."""
    X, y = blobs()
    teacher, student = mlp(seed=1), mlp(seed=2)
    t_opt = torch.optim.SGD(teacher.parameters(), lr=0.1)
    seen = {}
    doctor = nndoctor.watch([teacher, student], t_opt, on_finding=lambda f: seen.setdefault(f.code, doctor.step))
    with doctor:
        train(teacher, t_opt, X, y, steps=200)
        s_opt = torch.optim.SGD(list(student[0].parameters()) + list(student[2].parameters()), lr=0.1)
        train(student, s_opt, X, y, steps=150)
    r = doctor.report()
    # the student's first step shares the teacher's last iteration; its first backward pass, before its optimizer
    # was seen, may go unattributed (watch() follows the passes that reach a known optimizer's parameters)
    assert r.steps == 349 and r.backward_passes >= 349, (r.steps, r.backward_passes)
    assert "parameter-not-optimized" in seen and seen["parameter-not-optimized"] <= 260, seen
    grad_steps = doctor.store["grad_norm/1"].steps
    assert len(set(grad_steps.tolist())) == len(grad_steps) == 150, grad_steps[:10]


def test_a_watched_model_trained_second_has_its_backward_passes_counted():
    """Both optimizers given from the start, the second model trained after the first: its optimizer had
    no probe parameter (none of its parameters had a gradient yet), so its passes went unattributed and
    no probe was ever chosen. Two of its parameters stand in until one is."""
    X, y = blobs()
    a, b = mlp(seed=1), mlp(seed=2)
    opt_a, opt_b = torch.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    with nndoctor.watch([a, b], [opt_a, opt_b]) as doctor:
        train(a, opt_a, X, y, steps=30)
        train(b, opt_b, X, y, steps=30)
    r = doctor.report()
    assert r.backward_passes == 60 and r.steps == 59, (r.backward_passes, r.steps)
    assert r.healthy, r


def test_a_gradient_spike_brings_the_rules_forward_instead_of_waiting_for_the_flush():
    """A gradient norm 100x its running level asks for the rules at the end of that step: with
    flushes 1000 steps apart, an explosion is still named within a few steps of its start."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    X, y = torch.randn(64, 8), torch.randn(64, 1)
    established = {}
    doctor = nndoctor.watch(model, opt, every=1000,
                            on_finding=lambda f: established.setdefault(f.code, doctor.step))
    nonfinite_at = None
    with doctor:
        for step in range(1, 121):
            if step == 60:
                for g in opt.param_groups:
                    g["lr"] = 50.0   # a bad schedule: the updates overshoot and the gradient explodes
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(X), y)
            loss.backward()
            opt.step()
            if not torch.isfinite(loss):
                nonfinite_at = step
                break
    assert nonfinite_at is not None
    # named while the run is still finite (the next flush would have been at step 1000)
    assert 60 < established["exploding-gradient"] < nonfinite_at


def test_gradient_spikes_that_settle_ask_for_the_rules_a_logarithmic_number_of_times(monkeypatch):
    """A run whose gradient jumps 100x now and then and settles (a rare huge-loss batch) is not an
    explosion: each early look that finds none doubles the gap to the next, so 600 steps with a spike
    every 25 steps ask for the rules a handful of times, not once per spike (24) -- up to the flush
    cadence: with every=20 the gap stops at 20 steps, and each spike is looked at."""
    from nndoctor.doctor import Doctor

    forced = []
    real = Doctor._evaluate

    def counting(self, closing=False, force=False):
        if force and not closing:
            forced.append(self.step)
        return real(self, closing=closing, force=force)

    monkeypatch.setattr(Doctor, "_evaluate", counting)

    def run(every):
        forced.clear()
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)   # its step is bounded: the spikes do no harm
        X = torch.randn(64, 8)
        y = X[:, :1] * 2
        with nndoctor.watch(model, opt, every=every) as doctor:
            for step in range(1, 601):
                opt.zero_grad()
                loss = nn.functional.mse_loss(model(X), y)
                (loss * (1e3 if step % 25 == 0 else 1.0)).backward()   # a rare heavy batch
                opt.step()
        r = doctor.report()
        assert "exploding-gradient" not in {f.code for f in r.findings if f.severity != "info"}, r
        return [s_ for s_ in forced if s_ % 25 == 0]   # the looks the spikes asked for
    assert 3 <= len(run(1000)) <= 10
    assert len(run(20)) >= 20
