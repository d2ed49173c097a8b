"""An adversarial user's battery: odd models, odd losses, odd optimizers and odd loop shapes.

For each case the contract of ``watch`` is asserted concretely:
* the training is unchanged: the same seed gives bit-identical losses (and parameters, and the RNG
  stream) with and without nndoctor;
* nothing is raised into the loop, and nndoctor's own errors land in ``report().internal_errors``
  (most cases assert there are none);
* after the watch ends every hook is gone (modules, parameters, autograd/optimizer/loss taps) and the
  model and optimizer can be garbage-collected;
* bad input gets a message naming what was wrong and what nndoctor does about it.
"""
from __future__ import annotations

import collections
import dataclasses
import gc
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest
import torch
from torch import nn

import nndoctor
from nndoctor.probes import tap

F = nn.functional
ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- the contract, checked
def _global_state():
    """Everything process-wide that nndoctor may touch while watching."""
    from torch.optim import optimizer as optmod
    from nndoctor.probes.loss import LOSS_FUNCTIONS

    scalers = []
    for cls in tap._scaler_classes():
        scalers += [cls.__dict__.get("scale"), cls.__dict__.get("step")]
    return {"backward": torch.autograd.backward, "jit": torch.jit.script,
            "pre": len(optmod._global_optimizer_pre_hooks), "post": len(optmod._global_optimizer_post_hooks),
            "losses": {n: getattr(F, n, None) for n in LOSS_FUNCTIONS},
            "act": (torch.sigmoid, torch.tanh, F.sigmoid, F.tanh, torch.Tensor.sigmoid, torch.Tensor.tanh),
            "scalers": scalers, "active": tap.active_count()}


_MODULE_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                 "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                 "_load_state_dict_post_hooks")


def hooks_of(*objs) -> dict:
    """Every hook on the modules (and their submodules), their parameters and buffers, tensors and
    optimizers given: {(owner id, kind): hook ids}."""
    out = {}

    def tensor(t):
        for attr in ("_backward_hooks", "_post_accumulate_grad_hooks"):
            h = getattr(t, attr, None)
            if h:
                out[(id(t), attr)] = tuple(h)

    for obj in objs:
        if isinstance(obj, nn.Module):
            for m in obj.modules():
                for attr in _MODULE_HOOKS:
                    h = getattr(m, attr, None)
                    if h:
                        out[(id(m), attr)] = tuple(h)
                for t in list(m.parameters(recurse=False)) + list(m.buffers(recurse=False)):
                    tensor(t)
        elif isinstance(obj, torch.Tensor):
            tensor(obj)
        elif isinstance(obj, torch.optim.Optimizer):
            for attr in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks"):
                h = getattr(obj, attr, None)
                if h:
                    out[(id(obj), attr)] = tuple(h)
    return out


def assert_no_hooks(*objs, before=None):
    """No hook left by nndoctor: the hooks are exactly those there were before the watch (``before``,
    default none: torch's parametrizations keep state-dict hooks of their own)."""
    now = hooks_of(*objs)
    assert now == (before or {}), f"hooks left: {set(now.items()) - set((before or {}).items())}"


class Contract:
    """``with Contract() as c: ...`` around a watched run: the global state is back after it."""

    def __enter__(self):
        self.before = _global_state()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert _global_state() == self.before, "nndoctor left a process-wide patch in place"
        return False


def assert_collectable(objs: list):
    """``objs`` (a list the caller gives up: it is emptied) can be garbage-collected."""
    refs = [weakref.ref(o) for o in objs]
    objs.clear()
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"still alive after the watch ended: {[type(a).__name__ for a in alive]}"


def same(a, b):
    """Bit-identical sequences of losses (floats or tensors, NaN equal to NaN)."""
    ta = torch.stack([torch.as_tensor(x).detach().reshape(-1)[0:1].to(torch.complex128)
                      if torch.as_tensor(x).is_complex() else torch.as_tensor(x).detach().double().reshape(-1)
                      for x in a]) if a else torch.zeros(0)
    tb = torch.stack([torch.as_tensor(x).detach().reshape(-1)[0:1].to(torch.complex128)
                      if torch.as_tensor(x).is_complex() else torch.as_tensor(x).detach().double().reshape(-1)
                      for x in b]) if b else torch.zeros(0)
    assert ta.shape == tb.shape, (ta.shape, tb.shape)
    assert torch.equal(ta.isnan(), tb.isnan())
    assert torch.equal(torch.nan_to_num(ta), torch.nan_to_num(tb)), (ta, tb)


def twin(build, loop, *, seed=0, watch_kwargs=None, errors_ok=False, models=None, optims=None):
    """Run ``loop(*build())`` twice from the same seed, without and with ``watch``; assert identical
    losses, parameters and RNG state, no internal error (unless ``errors_ok``), no hook left and the
    model/optimizer collectable. Returns the report."""
    def once(watched):
        torch.manual_seed(seed)
        objs = build()
        model, opt = objs[0], objs[1]
        watched_objs = [o for o in objs if isinstance(o, (nn.Module, torch.Tensor, torch.optim.Optimizer))]
        hooks_before = hooks_of(*watched_objs)
        doctor = None
        if watched:
            doctor = nndoctor.watch(model if models is None else models(objs),
                                    opt if optims is None else optims(objs), **(watch_kwargs or {}))
        try:
            losses = loop(*objs)
        finally:
            if doctor is not None:
                doctor.close()
        params = [p.detach().clone() for p in _params(model)]
        if watched:
            assert_no_hooks(*watched_objs, before=hooks_before)
        return losses, params, torch.get_rng_state(), doctor, objs

    with Contract():
        la, pa, ra, _, _ = once(False)
        lb, pb, rb, doctor, objs = once(True)
        same(la, lb)
        assert len(pa) == len(pb) and all(torch.equal(x.nan_to_num(), y.nan_to_num()) and
                                          torch.equal(x.isnan(), y.isnan()) for x, y in zip(pa, pb))
        assert torch.equal(ra, rb), "nndoctor consumed random numbers"
        report = doctor.report()
        if not errors_ok:
            assert not report.internal_errors, report.internal_errors
        keep = [o for o in objs if isinstance(o, (nn.Module, torch.optim.Optimizer))]
        del objs
        assert_collectable(keep)
    return report


def _params(model):
    if isinstance(model, nn.Module):
        return list(model.parameters())
    if isinstance(model, (list, tuple)):
        return [p for m in model for p in _params(m)]
    return []


def data(n=64, d=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X[:, 0] > 0).long()
    return X, y


def small(d=8, h=16, out=2, dropout=0.0):
    layers = [nn.Linear(d, h), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(h, out))


def sgd_loop(steps=12, out=lambda y: y, loss=lambda o, y: F.cross_entropy(o, y)):
    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(steps):
            xb, yb = X[(i * 16) % 64:(i * 16) % 64 + 16], y[(i * 16) % 64:(i * 16) % 64 + 16]
            opt.zero_grad()
            lo = loss(out(model(xb)), yb)
            lo.backward()
            opt.step()
            losses.append(lo.detach().clone())
        return losses
    return loop


# ----------------------------------------------------------------------------- models
class DictOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = small()

    def forward(self, x):
        return {"logits": self.net(x), "n": 3, "tag": "x"}


Pair = collections.namedtuple("Pair", "logits hidden")


class NamedTupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(8, 16), nn.Linear(16, 2)

    def forward(self, x):
        h = torch.relu(self.a(x))
        return Pair(self.b(h), h)


@dataclasses.dataclass
class Out:
    logits: torch.Tensor
    extra: list


class DataclassOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = small()

    def forward(self, x):
        o = self.net(x)
        return Out(o, [o.detach(), None, "s"])


class ListOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(8, 2) for _ in range(3)])

    def forward(self, x):
        return [h(x) for h in self.heads]


class Reused(nn.Module):
    """One module called twice in one forward, and tied weights."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Linear(8, 8)
        self.mid = nn.Linear(8, 8)
        self.out = nn.Linear(8, 8, bias=False)
        self.out.weight = self.emb.weight   # tied
        self.cls = nn.Linear(8, 2)

    def forward(self, x):
        h = torch.tanh(self.mid(torch.tanh(self.mid(self.emb(x)))))
        return self.cls(self.out(h))


@pytest.mark.parametrize("cls,out", [
    (DictOut, lambda o: o["logits"]),
    (NamedTupleOut, lambda o: o.logits),
    (DataclassOut, lambda o: o.logits),
    (ListOut, lambda o: sum(o)),
    (Reused, lambda o: o),
], ids=["dict", "namedtuple", "dataclass", "list", "reused-and-tied"])
def test_odd_model_outputs_are_watched_without_change(cls, out):
    r = twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(cls()), sgd_loop(out=out))
    assert r.steps == 12 and r.backward_passes == 12


def test_hf_model_output():
    transformers = pytest.importorskip("transformers")
    from transformers.modeling_outputs import SequenceClassifierOutput

    class HF(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = small()

        def forward(self, x, labels=None):
            logits = self.net(x)
            loss = F.cross_entropy(logits, labels) if labels is not None else None
            return SequenceClassifierOutput(loss=loss, logits=logits)

    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(10):
            opt.zero_grad()
            o = model(X[:16], labels=y[:16])
            o.loss.backward()
            opt.step()
            losses.append(o.loss.detach())
        return losses
    del transformers
    r = twin(lambda: (lambda m: (m, torch.optim.AdamW(m.parameters(), lr=1e-3)))(HF()), loop)
    assert r.steps == 10


def test_model_with_only_buffers_or_no_parameters_gets_a_note():
    class OnlyBuffers(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", torch.tensor(2.0))
            self.register_buffer("count", torch.zeros((), dtype=torch.long))

        def forward(self, x):
            self.count += 1
            return x * self.scale

    m = OnlyBuffers()
    with Contract():
        with nndoctor.watch(m) as d:
            for _ in range(5):
                m(torch.randn(3))
        r = d.report()
    assert any("no parameters" in n for n in r.notes), r.notes
    assert not r.internal_errors and r.steps == 0
    assert int(m.count) == 5
    assert_no_hooks(m)


def test_parameters_added_after_watch_starts():
    def build():
        m = small()
        return m, torch.optim.SGD(m.parameters(), lr=0.05)

    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(16):
            if i == 6:  # a new head, trained from here on
                model.add_module("extra", nn.Linear(2, 2))
                opt.add_param_group({"params": model.extra.parameters(), "lr": 0.01})
            opt.zero_grad()
            o = model(X[:16])
            if hasattr(model, "extra"):
                o = model.extra(o)
            lo = F.cross_entropy(o, y[:16])
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    r = twin(build, loop)
    assert r.steps == 16


@pytest.mark.filterwarnings("error::UserWarning:nndoctor")   # nndoctor warns nothing into the process
def test_float64_float16_bfloat16_and_complex_parameters():
    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(10):
            opt.zero_grad()
            lo = F.cross_entropy(model(X[:16].to(model[0].weight.dtype)).float(), y[:16])
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    for dtype in (torch.float64, torch.bfloat16, torch.float16):
        twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(small().to(dtype)), loop)

    class Complex(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(8, 4, dtype=torch.cfloat) * 0.3)
            self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

        def forward(self, x):
            self.steps += 1
            return (x.to(torch.cfloat) @ self.w).abs()

    def cloop(model, opt):
        X, _ = data()
        losses = []
        for i in range(10):
            opt.zero_grad()
            lo = (model(X[:16]) - 1).pow(2).mean()
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    twin(lambda: (lambda m: (m, torch.optim.Adam(m.parameters(), lr=1e-2)))(Complex()), cloop)


@pytest.mark.filterwarnings("error::UserWarning:nndoctor")
def test_complex_loss_backward_with_explicit_gradient():
    class C(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(4, dtype=torch.cfloat))

        def forward(self, x):
            return (x.to(torch.cfloat) * self.w).sum()

    def loop(model, opt):
        losses = []
        for i in range(6):
            opt.zero_grad()
            z = model(torch.ones(4))
            z.backward(torch.tensor(1 + 0j))   # a complex root needs a gradient
            opt.step()
            losses.append(z.detach())
        return losses
    twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(C()), loop)


def test_model_on_the_meta_device_is_watched_until_materialized():
    with torch.device("meta"):
        m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with Contract():
        with nndoctor.watch(m, opt) as d:
            out = m(torch.randn(4, 8, device="meta"))
            out.sum().backward()
            opt.step()
        r = d.report()
    assert r.steps == 1 and r.backward_passes == 1
    assert not r.internal_errors, r.internal_errors
    assert any("meta device" in n and "materialized" in n for n in r.notes), r.notes
    assert_no_hooks(m)


def test_parametrized_weight_and_weight_norm():
    from torch.nn.utils import parametrizations

    def build():
        m = small()
        parametrizations.orthogonal(m[0], "weight")
        parametrizations.weight_norm(m[2])
        return m, torch.optim.Adam(m.parameters(), lr=1e-2)
    twin(build, sgd_loop())


def test_sparse_embedding_gradients_with_sparse_adam():
    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 8, sparse=True)
            self.cls = nn.Linear(8, 2)

        def forward(self, idx):
            return self.cls(self.emb(idx).mean(1))

    def build():
        m = Bag()
        return m, torch.optim.SparseAdam(list(m.emb.parameters()), lr=1e-2), \
            torch.optim.Adam(m.cls.parameters(), lr=1e-2)

    def loop(model, o1, o2):
        g = torch.Generator().manual_seed(3)
        losses = []
        for i in range(12):
            idx = torch.randint(0, 50, (16, 5), generator=g)
            y = (idx[:, 0] > 25).long()
            o1.zero_grad()
            o2.zero_grad()
            lo = F.cross_entropy(model(idx), y)
            lo.backward()
            o1.step()
            o2.step()
            losses.append(lo.detach())
        return losses
    r = twin(build, loop, optims=lambda o: [o[1], o[2]])
    assert r.steps == 12


def test_functional_call_and_jit_script():
    from torch.func import functional_call

    def loop(model, opt):
        X, y = data()
        losses = []
        params = dict(model.named_parameters())
        for i in range(8):
            opt.zero_grad()
            lo = F.cross_entropy(functional_call(model, params, (X[:16],)), y[:16])
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(small()), loop)

    def jloop(model, opt):
        scripted = torch.jit.script(model)
        X, y = data()
        losses = []
        for i in range(8):
            opt.zero_grad()
            lo = F.cross_entropy(scripted(X[:16]), y[:16])
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(small()), jloop)


def test_data_parallel_on_cpu():
    def build():
        m = nn.DataParallel(small())
        return m, torch.optim.SGD(m.parameters(), lr=0.1)
    r = twin(build, sgd_loop())
    assert r.steps == 12


# ----------------------------------------------------------------------------- losses
def _mk(lr=0.1, opt=torch.optim.SGD, **kw):
    def build():
        m = small(**kw)
        return m, opt(m.parameters(), lr=lr)
    return build


def test_per_sample_loss_backward_with_ones_and_sum():
    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(10):
            opt.zero_grad()
            per = F.cross_entropy(model(X[:16]), y[:16], reduction="none")
            if i % 2:
                per.backward(torch.ones_like(per))
            else:
                per.sum().backward()
            opt.step()
            losses.append(per.detach().mean())
        return losses
    r = twin(_mk(lr=0.01), loop)
    assert r.backward_passes == 10


def test_autograd_backward_on_a_list_of_losses_and_autograd_grad_without_backward():
    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(10):
            opt.zero_grad()
            o = model(X[:16])
            l1, l2 = F.cross_entropy(o, y[:16]), o.pow(2).mean() * 0.01
            torch.autograd.backward([l1, l2])
            opt.step()
            losses.append((l1 + l2).detach())
        for i in range(5):   # manual SGD through autograd.grad: no backward(), no step()
            lo = F.cross_entropy(model(X[:16]), y[:16])
            grads = torch.autograd.grad(lo, list(model.parameters()))
            with torch.no_grad():
                for p, g in zip(model.parameters(), grads):
                    p -= 0.1 * g
            losses.append(lo.detach())
        return losses
    r = twin(_mk(), loop)
    assert r.steps == 10


def test_python_float_and_int_losses_and_a_loss_without_grad():
    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(8):
            opt.zero_grad()
            lo = F.cross_entropy(model(X[:16]), y[:16])
            lo.backward()
            opt.step()
            losses.append(lo.item())            # a python float
            with torch.no_grad():
                v = F.cross_entropy(model(X[16:32]), y[16:32])
            losses.append(float(v))
        return losses
    twin(_mk(), loop)

    # backward() on a loss that needs no grad: torch's own error, unchanged, and nndoctor does not break
    m = small()
    with nndoctor.watch(m) as d:
        with torch.no_grad():
            lo = F.cross_entropy(m(torch.randn(4, 8)), torch.zeros(4, dtype=torch.long))
        with pytest.raises(RuntimeError, match="does not require grad"):
            lo.backward()
        with pytest.raises(RuntimeError):
            torch.tensor(3).backward()   # a 0-d int tensor
    assert not d.report().internal_errors, d.report().internal_errors
    assert_no_hooks(m)


def test_nan_loss_at_step_zero_is_reported_not_raised():
    def loop(model, opt):
        X, y = data()
        X = X.clone()
        X[0, 0] = float("nan")
        losses = []
        for i in range(6):
            opt.zero_grad()
            lo = F.cross_entropy(model(X[:16]), y[:16])
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    r = twin(_mk(), loop)
    assert "non-finite" in r.codes


# ----------------------------------------------------------------------------- optimizers
def test_lbfgs_with_closure():
    def build():
        m = small()
        return m, torch.optim.LBFGS(m.parameters(), lr=0.5, max_iter=4)

    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(5):
            def closure():
                opt.zero_grad()
                lo = F.cross_entropy(model(X), y)
                lo.backward()
                return lo
            losses.append(opt.step(closure).detach())
        return losses
    r = twin(build, loop)
    assert r.steps == 5 and r.backward_passes > 5


def test_two_optimizers_and_add_param_group_and_state_dict_reload():
    def build():
        m = small()
        return m, torch.optim.Adam(m[0].parameters(), lr=1e-2), torch.optim.SGD(m[2].parameters(), lr=0.1,
                                                                                 momentum=0.9)

    def loop(model, o1, o2):
        X, y = data()
        losses = []
        saved = None
        for i in range(16):
            o1.zero_grad()
            o2.zero_grad()
            lo = F.cross_entropy(model(X[:32]), y[:32])
            lo.backward()
            o1.step()
            o2.step()
            losses.append(lo.detach())
            if i == 4:
                saved = (o1.state_dict(), o2.state_dict())
            if i == 10:
                o1.load_state_dict(saved[0])
                o2.load_state_dict(saved[1])
        return losses
    r = twin(build, loop, optims=lambda o: [o[1], o[2]])
    assert r.steps == 16


def test_optimizer_subclass_that_skips_super_step_and_a_wrapper():
    class MySGD(torch.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):   # overrides step (torch still wraps it: the step hooks fire)
            with torch.no_grad():
                for g in self.param_groups:
                    for p in g["params"]:
                        if p.grad is not None:
                            p -= g["lr"] * p.grad

    class Wrapper:
        """A ZeroRedundancyOptimizer-like facade holding the real optimizer."""

        def __init__(self, opt):
            self.optim = opt
            self.param_groups = opt.param_groups

        def zero_grad(self):
            self.optim.zero_grad()

        def step(self):
            return self.optim.step()

    def build():
        m = small()
        return m, MySGD(m.parameters(), lr=0.1)
    r = twin(build, sgd_loop(steps=25))
    assert r.steps == 25 and r.backward_passes == 25
    assert not [f for f in r.findings if f.severity == "error"], r   # updates happen: no "step missing"

    def build2():
        m = small()
        return m, Wrapper(torch.optim.SGD(m.parameters(), lr=0.1))
    r = twin(build2, sgd_loop(steps=12), optims=lambda o: None)
    assert r.steps == 12


def test_grad_scaler_and_a_scheduler_created_before_watch():
    def build():
        m = small()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
        return m, opt, sched, torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)

    def loop(model, opt, sched, scaler):
        X, y = data()
        losses = []
        for i in range(12):
            opt.zero_grad()
            lo = F.cross_entropy(model(X[:16]), y[:16])
            scaler.scale(lo).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            losses.append(lo.detach())
        return losses
    r = twin(build, loop)
    assert r.steps == 12


# ----------------------------------------------------------------------------- loop shapes
def test_user_exception_propagates_unchanged_and_the_report_survives():
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = data()
    err = ValueError("the user's own bug")
    with Contract():
        with pytest.raises(ValueError) as info:
            with nndoctor.watch(m, opt) as d:
                for i in range(7):
                    opt.zero_grad()
                    F.cross_entropy(m(X[:16]), y[:16]).backward()
                    opt.step()
                raise err
        assert info.value is err
    r = d.report()
    assert r.steps == 7 and not r.internal_errors
    assert r.meta.get("ended")
    assert_no_hooks(m)
    d = None
    objs = [m, opt]
    del m, opt
    assert_collectable(objs)


def test_keyboard_interrupt_mid_backward_and_mid_step():
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = data()

    def interrupt(grad):
        raise KeyboardInterrupt

    with Contract():
        with pytest.raises(KeyboardInterrupt):
            with nndoctor.watch(m, opt) as d:
                for i in range(5):
                    opt.zero_grad()
                    F.cross_entropy(m(X[:16]), y[:16]).backward()
                    opt.step()
                h = m[2].weight.register_hook(interrupt)
                F.cross_entropy(m(X[:16]), y[:16]).backward()
        h.remove()
    r = d.report()
    assert r.steps == 5 and not r.internal_errors, r.internal_errors
    assert_no_hooks(m)


def test_generator_based_training_loop_closed_early():
    def trainer(model, opt):
        X, y = data()
        with nndoctor.watch(model, opt) as d:
            for i in range(100):
                opt.zero_grad()
                lo = F.cross_entropy(model(X[:16]), y[:16])
                lo.backward()
                opt.step()
                yield d, lo.item()

    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with Contract():
        gen = trainer(m, opt)
        for i, (d, _) in zip(range(6), gen):
            pass
        gen.close()   # GeneratorExit inside the with: the doctor closes
        assert d._closed
    assert d.report().steps == 6
    assert_no_hooks(m)


def test_watch_entered_twice_and_two_models_at_once():
    a, b = small(), small()
    oa, ob = torch.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    X, y = data()
    with Contract():
        d = nndoctor.watch(a, oa)
        with d:
            with d:   # entering the same doctor again is a no-op
                pass
            with pytest.warns(RuntimeWarning, match="also watched by another nndoctor doctor"):
                inner = nndoctor.watch(a, oa)
            with inner, nndoctor.watch(b, ob) as other:
                for i in range(8):
                    for m, o in ((a, oa), (b, ob)):
                        o.zero_grad()
                        F.cross_entropy(m(X[:16]), y[:16]).backward()
                        o.step()
    for r in (d.report(), inner.report(), other.report()):
        assert r.steps == 8 and r.backward_passes == 8 and not r.internal_errors, r
    assert_no_hooks(a, b)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("repair", [False, True], ids=["watch", "repair"])
def test_dropout_model_is_bit_identical_with_and_without_watch(repair):
    r = twin(_mk(lr=0.05, opt=torch.optim.Adam, dropout=0.3), sgd_loop(steps=30),
             watch_kwargs={"repair": repair, "every": 5})
    assert r.steps == 30 and r.healthy, r


# ----------------------------------------------------------------------------- memory
def _container_sizes(doctor) -> dict[str, int]:
    """The length of every list/dict/set/deque the doctor, its optimizer records and its store's facts hold."""
    out = {}

    def walk(prefix, obj, depth=0):
        if isinstance(obj, (list, dict, set, tuple, collections.deque)) and not isinstance(obj, str):
            out[prefix] = len(obj)
            if depth < 3:
                items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
                for k, v in list(items)[:200]:
                    walk(f"{prefix}[{k!r}]", v, depth + 1)
    for k, v in vars(doctor).items():
        if k not in ("store",):
            walk(k, v)
    for key, rec in doctor._opts.items():
        for k, v in vars(rec).items():
            if k not in ("params", "positions", "all_local", "snapshot", "snapshot_local"):   # fixed by the model
                walk(f"opt{rec.key}.{k}", v)
    walk("facts", doctor.store.facts)
    return out


def test_memory_stays_bounded_over_2000_steps():
    """2000 steps of a small model: after warm-up no container of the doctor grows with the steps, the
    signal store stays within its capacity (shrunk here to 256 rows so 2000 steps cross it several
    times), no Python objects accumulate, and traced memory does not creep."""
    import tracemalloc

    torch.manual_seed(0)
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    X, y = data(n=256)
    snaps = {}
    tracemalloc.start()
    try:
        with nndoctor.watch(m, opt, every=20) as d:
            d.store.capacity = 256
            for i in range(2000):
                j = (i * 16) % 256
                opt.zero_grad()
                F.cross_entropy(m(X[j:j + 16]), y[j:j + 16]).backward()
                opt.step()
                if i + 1 in (1000, 2000):
                    d.report()   # flushes what is pending: the sizes compared are the kept state
                    gc.collect()
                    snaps[i + 1] = (_container_sizes(d), len(gc.get_objects()), tracemalloc.get_traced_memory()[0],
                                    {k: len(s) for k, s in d.store.series.items()})
    finally:
        tracemalloc.stop()
    assert not d.report().internal_errors
    (c1, n1, b1, _), (c2, n2, b2, s2) = snaps[1000], snaps[2000]
    grew = {k: (c1.get(k, 0), v) for k, v in c2.items() if v > max(c1.get(k, 0), 130)}
    assert not grew, f"containers that grow with the steps: {grew}"
    # (a thinning keeps ~3/4 of the rows, so a series may sit a little above its capacity after a flush)
    assert max(s2.values()) <= 2 * 256 and s2["loss"] < 2000 // 2, s2   # thinned, not kept whole
    assert n2 - n1 <= 0.01 * n1, (n1, n2)
    # an object per step kept (a tensor, a tuple) would be >= 100 kB over 1000 steps
    assert b2 - b1 < 100_000, (b1, b2)


def test_an_evaluation_only_stretch_holds_no_unbounded_backlog():
    m = small()
    X, y = data()
    with nndoctor.watch(m) as d:
        m.eval()
        with torch.no_grad():
            for i in range(5000):
                F.cross_entropy(m(X[:16]), y[:16])
        assert len(d._pending_val) < 4096
    r = d.report()
    assert not r.internal_errors and r.steps == 0


def test_double_backward_retain_graph_and_reentrant_checkpoint():
    from torch.utils.checkpoint import checkpoint

    class Ckpt(nn.Module):
        def __init__(self, reentrant):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(8, 16), nn.Linear(16, 16), nn.Linear(16, 2)
            self.reentrant = reentrant

        def forward(self, x):
            h = torch.relu(self.a(x))
            # use_reentrant=True runs a backward pass inside the backward pass
            h = checkpoint(lambda t: torch.tanh(self.b(t)), h, use_reentrant=self.reentrant)
            return self.c(h)

    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(10):
            opt.zero_grad()
            x = X[:16].clone().requires_grad_(True)
            out = model(x)
            lo = F.cross_entropy(out, y[:16])
            total = lo
            if not model.reentrant:   # (torch refuses autograd.grad through a reentrant checkpoint)
                # a gradient penalty (WGAN-GP style): autograd.grad with create_graph, then backward through it
                g, = torch.autograd.grad(lo, x, create_graph=True)
                total = lo + 0.1 * g.pow(2).sum()
            total.backward(retain_graph=True)
            (0.0 * total).backward()   # a second backward through the retained graph
            opt.step()
            losses.append(total.detach())
        return losses
    for reentrant in (True, False):
        r = twin(lambda: (lambda m: (m, torch.optim.Adam(m.parameters(), lr=1e-2)))(Ckpt(reentrant)), loop)
        assert r.steps == 10 and r.backward_passes >= 20, r


def test_forward_without_tensor_arguments_and_keyword_only_inputs():
    class NoArgs(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(4, 2))

        def forward(self):
            return self.w

    class KwOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = small()

        def forward(self, *, features, scale=1.0):
            return self.net(features) * scale

    def loop0(model, opt):
        losses = []
        for i in range(8):
            opt.zero_grad()
            lo = (model() - 1).pow(2).mean()
            lo.backward()
            opt.step()
            losses.append(lo.detach())
        return losses
    twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(NoArgs()), loop0)
    twin(lambda: (lambda m: (m, torch.optim.SGD(m.parameters(), lr=0.1)))(KwOnly()), _kw_loop)


def _kw_loop(model, opt):
    X, y = data()
    losses = []
    for i in range(8):
        opt.zero_grad()
        lo = F.cross_entropy(model(features=X[:16], scale=0.5), y[:16])
        lo.backward()
        opt.step()
        losses.append(lo.detach())
    return losses


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call,exc,words", [
    (lambda m, o: nndoctor.watch(m.parameters(), o), TypeError, "pass the model itself"),
    (lambda m, o: nndoctor.watch(o, m), TypeError, "the order is watch(model, optimizer)"),
    (lambda m, o: nndoctor.watch(m, m), TypeError, "the order is watch(model, optimizer)"),
    (lambda m, o: nndoctor.watch(nn.Linear), TypeError, "build it first"),
    (lambda m, o: nndoctor.watch(m, "adam"), TypeError, "pass the optimizer object you step"),
    (lambda m, o: nndoctor.watch(m, torch.optim.Adam), TypeError, "the class Adam itself"),
    (lambda m, o: nndoctor.watch(m, o.param_groups), TypeError, "param group"),
    (lambda m, o: nndoctor.watch([m, None]), TypeError, "None in the list of models"),
    (lambda m, o: nndoctor.watch(torch.zeros(3, requires_grad=True)), TypeError, "nndoctor run"),
    (lambda m, o: nndoctor.watch(m, o, every=0), ValueError, "every must be >= 1"),
    (lambda m, o: nndoctor.watch(m, o, every="20"), TypeError, "every must be a whole number"),
    (lambda m, o: nndoctor.watch(m, o, every=2.5), TypeError, "every must be a whole number"),
    (lambda m, o: nndoctor.watch(m, o, on_finding="print"), TypeError, "on_finding must be a function"),
    (lambda m, o: nndoctor.watch(m, o, run_dir=3), TypeError, "run_dir must be a folder path"),
    (lambda m, o: nndoctor.watch(m, o, lang="fr"), ValueError, "unknown language"),
    (lambda m, o: nndoctor.watch([]), ValueError, "needs a model"),
    (lambda m, o: nndoctor.watch("x", repair=True), TypeError, "torch.nn.Module"),
], ids=["parameters", "swapped", "module-as-optimizer", "class", "string-optimizer", "optimizer-class",
        "param-groups", "none", "tensor", "every-0", "every-str", "every-float", "on_finding", "run_dir",
        "lang", "empty", "repair"])
def test_bad_input_is_refused_before_anything_is_hooked(call, exc, words):
    m = small()
    o = torch.optim.SGD(m.parameters(), lr=0.1)
    with Contract():
        with pytest.raises(exc) as info:
            call(m, o)
    assert words in str(info.value), str(info.value)
    assert_no_hooks(m)


def test_dicts_of_models_and_optimizers_name_the_models_and_numpy_cadence():
    import numpy as np

    g, d = small(out=4), small(d=4, out=1)
    og, od = torch.optim.SGD(g.parameters(), lr=0.01), torch.optim.SGD(d.parameters(), lr=0.01)
    with nndoctor.watch({"generator": g, "critic": d}, {"g": og, "d": od}, every=np.int64(5)) as doc:
        for i in range(6):
            for o in (og, od):
                o.zero_grad()
            lo = d(g(torch.randn(8, 8))).mean()
            lo.backward()
            og.step()
            od.step()
    r = doc.report()
    assert doc.every == 5 and r.steps == 6 and not r.internal_errors
    layers = set(r.signals["grad_norm"]["layers"]) if r.signals and "grad_norm" in r.signals else set()
    assert any(n.startswith("generator.") for n in layers) and any(n.startswith("critic.") for n in layers), layers


def test_an_optimizer_facade_is_looked_through():
    class Facade:   # holds the real optimizer as .optim (ZeroRedundancyOptimizer-like sharding wrappers)
        def __init__(self, opt):
            self.optim = opt

        def step(self):
            self.optim.step()

        def zero_grad(self):
            self.optim.zero_grad()

    def build():
        m = small()
        return m, Facade(torch.optim.SGD(m.parameters(), lr=0.1))
    r = twin(build, sgd_loop(steps=8), optims=lambda objs: objs[1])
    assert r.steps == 8 and not any("holds none" in n for n in r.notes), r.notes


# ----------------------------------------------------------------------------- nndoctor run
RUN_SCRIPT = textwrap.dedent('''
    import argparse
    import os
    import sys

    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset


    def main():
        ap = argparse.ArgumentParser()
        ap.add_argument("--steps", type=int, default=5)
        ap.add_argument("--workers", type=int, default=0)
        ap.add_argument("--mode", default="ok")
        a = ap.parse_args()
        os.makedirs("work", exist_ok=True)
        os.chdir("work")                           # the script moves; its relative paths follow it
        here = os.path.dirname(__file__)           # data next to the script, read through __file__
        scale = float(open(os.path.join(here, "scale.txt")).read())   # (python's __file__ is absolute)
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(1)
        X = torch.randn(256, 8, generator=g) * scale
        y = (X[:, 0] > 0).long()
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, num_workers=a.workers,
                            generator=torch.Generator().manual_seed(2),
                            multiprocessing_context="fork" if a.workers else None)
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        step = 0
        for epoch in range(100):
            for xb, yb in loader:
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                print(repr(loss.item()))
                step += 1
                if a.mode == "interrupt" and step == 3:
                    raise KeyboardInterrupt
                if step >= a.steps:
                    break
            if step >= a.steps:
                break
        with open("done.txt", "w") as f:           # relative to the new cwd
            f.write(str(step))
        sys.exit(7)


    if __name__ == "__main__":
        main()
''')


def _script_dir(tmp_path):
    d = tmp_path / "proj"
    d.mkdir(exist_ok=True)
    (d / "train.py").write_text(RUN_SCRIPT)
    (d / "scale.txt").write_text("1.5")
    return d


def test_nndoctor_run_keeps_a_real_script_unchanged(tmp_path):
    """argparse, __file__, os.chdir, relative paths, DataLoader workers (fork), dropout and sys.exit(7):
    stdout (every loss, full precision) and the exit code are those of plain python, the script's
    relative files land where it put them, and nndoctor's --json lands where the user asked."""
    import contextlib
    import io
    import os
    import runpy

    _script_dir(tmp_path)
    args = ["--steps", "24", "--workers", "2"]
    # the plain run, as ``python proj/train.py ...`` would do it (in this process: no second torch import)
    saved = sys.argv[:], os.getcwd()
    sys.argv = ["proj/train.py", *args]
    os.chdir(tmp_path)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
            runpy.run_path(str(tmp_path / "proj" / "train.py"), run_name="__main__")
    finally:
        sys.argv = saved[0]
        os.chdir(saved[1])
    assert info.value.code == 7
    (tmp_path / "work" / "done.txt").unlink()
    run = subprocess.run([sys.executable, "-m", "nndoctor", "run", "--json", "report.json", "proj/train.py",
                          *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 7, run.stderr
    assert run.stdout == out.getvalue() and len(run.stdout.split()) == 24
    assert (tmp_path / "work" / "done.txt").read_text() == "24"
    import json
    rep = json.loads((tmp_path / "report.json").read_text())   # not in work/, where the script went
    assert rep["steps"] == 24 and not rep.get("internal_errors"), rep.get("internal_errors")


def test_nndoctor_run_on_a_keyboard_interrupt(tmp_path, monkeypatch, capsys):
    from nndoctor.runner import run_script

    _script_dir(tmp_path)
    monkeypatch.chdir(tmp_path)
    with Contract():
        code, rep = run_script("proj/train.py", ["--mode", "interrupt"], quiet=True)
    assert code == 130 and "KeyboardInterrupt" in capsys.readouterr().err
    assert rep.steps == 3 and not rep.internal_errors, rep.internal_errors
    assert Path.cwd() == tmp_path   # the script's chdir is undone for nndoctor's own outputs


class _NoNndoctorUnpickler(__import__("pickle").Unpickler):
    """Loads a pickle only if it references nothing of nndoctor (loadable where it is not installed)."""

    def find_class(self, module, name):
        assert not module.startswith("nndoctor"), f"the pickle references {module}.{name}"
        return super().find_class(module, name)


def test_deepcopy_and_torch_save_of_the_model_while_watched():
    """EMA/target networks and best-model snapshots deep-copy the model inside the loop, checkpoints
    pickle it whole: both work in the first steps (when nndoctor's per-layer hooks are on) and later,
    the copy carries no nndoctor state, and a whole-model checkpoint loads without nndoctor."""
    import copy
    import io
    import pickle

    from nndoctor.probes.hooks import INERT

    def loop(model, opt):
        X, y = data()
        losses, ema, saved = [], None, []
        for i in range(12):
            opt.zero_grad()
            lo = F.cross_entropy(model(X[:16]), y[:16])
            lo.backward()
            opt.step()
            if i in (0, 8):
                ema = copy.deepcopy(model)          # (re)start an EMA copy, in and after the analysis window
                for m in ema.modules():
                    hooks = list(m._forward_hooks.values()) + list(m._forward_pre_hooks.values())
                    assert all(h is INERT for h in hooks), hooks   # inert: no doctor inside the copy
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), model.parameters()):
                    pe.mul_(0.9).add_(p, alpha=0.1)
                losses.append(F.cross_entropy(ema(X[16:32]), y[16:32]))
            if i in (1, 10):
                buf = io.BytesIO()
                torch.save(model, buf)               # a whole-model checkpoint
                saved.append(buf.getvalue())
            losses.append(lo.detach())
        for blob in saved:
            restored = torch.load(io.BytesIO(blob), weights_only=False)
            losses.append(F.cross_entropy(restored(X[:16]), y[:16]).detach())
        return losses
    r = twin(_mk(), loop)
    assert r.steps == 12 and r.backward_passes == 12

    m = small()
    with nndoctor.watch(m):
        m(torch.randn(2, 8))   # the first forward: every layer hooked
        blob = pickle.dumps(m)
    restored = _NoNndoctorUnpickler(io.BytesIO(blob)).load()
    assert torch.equal(restored(torch.ones(1, 8)), m(torch.ones(1, 8)))


def test_a_failed_backward_releases_its_graph_and_the_retry_is_watched():
    """The out-of-memory retry pattern: the backward pass raises, the user drops the loss and retries
    with a smaller batch. The error reaches the user unchanged and nndoctor holds nothing of the failed
    pass (its loss, and through it the graph's saved activations, would hold the memory being freed)."""
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    X, y = data()

    def oom(grad):
        raise RuntimeError("CUDA out of memory (simulated)")

    with Contract():
        with nndoctor.watch(m, opt) as d:
            for i in range(30):
                bs = 64 if i % 5 == 2 else 16
                opt.zero_grad()
                h = torch.relu(m[0](X[:bs]))
                if bs == 64:
                    h.register_hook(oom)
                loss = F.cross_entropy(m[2](h), y[:bs])
                failed = None
                try:
                    loss.backward()
                except RuntimeError as e:
                    failed = str(e)
                if failed is not None:   # (outside the except block: the traceback holds the loss too)
                    assert "out of memory" in failed
                    ref = weakref.ref(loss)
                    del loss, h
                    gc.collect()
                    assert ref() is None, "nndoctor kept the failed pass's loss (and graph) alive"
                    continue
                opt.step()
            assert d._backward_stack == []
    r = d.report()
    assert r.steps == 24 and r.backward_passes == 24 and not r.internal_errors, r


def test_model_cast_mid_run_and_backward_with_inputs():
    def loop(model, opt):
        X, y = data()
        losses = []
        for i in range(12):
            if i == 5:
                model.double()    # the same Parameter objects, new dtype
            x = X[:16].to(next(model.parameters()).dtype)
            opt.zero_grad()
            lo = F.cross_entropy(model(x), y[:16])
            if i % 3 == 0:   # backward restricted to some leaves
                lo.backward(inputs=list(model[2].parameters()))
            else:
                lo.backward()
            opt.step()
            losses.append(lo.detach().float())
        return losses
    r = twin(_mk(lr=0.1), loop)   # (plain SGD: Adam's own state would refuse the new dtype)
    assert r.steps == 12


def test_per_sample_gradients_with_vmap_and_torch_func():
    from torch.func import functional_call, grad, vmap

    def loop(model, opt):
        X, y = data()
        params = {k: v.detach() for k, v in model.named_parameters()}

        def sample_loss(p, x, t):
            return F.cross_entropy(functional_call(model, p, (x.unsqueeze(0),)), t.unsqueeze(0))
        losses = []
        for i in range(6):
            per = vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, X[:16], y[:16])
            with torch.no_grad():
                for k, p in model.named_parameters():
                    p.grad = per[k].clamp(-1, 1).mean(0)   # clipped per-sample gradients (DP-SGD style)
            opt.step()
            params = {k: v.detach() for k, v in model.named_parameters()}
            with torch.no_grad():
                losses.append(F.cross_entropy(model(X[:16]), y[:16]))
        return losses
    r = twin(_mk(), loop)
    assert r.steps == 6


def test_on_finding_may_read_the_report_reentrantly():
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = data()
    seen = []
    doctor = None

    def on_finding(f):
        seen.append((f.code, len(doctor.report().findings)))   # a user printing the report as it grows

    with Contract():
        doctor = nndoctor.watch(m, opt, on_finding=on_finding)
        with doctor:
            for i in range(40):
                lo = F.cross_entropy(m(X[:16]), y[:16])
                lo.backward()          # no zero_grad: gradient-not-zeroed is found
                opt.step()
    r = doctor.report()
    assert "gradient-not-zeroed" in [c for c, _ in seen]
    assert [c for c, _ in seen].count("gradient-not-zeroed") == 1
    assert not r.internal_errors, r.internal_errors


def test_a_notebook_cell_run_again_is_told_and_close_all_cleans_up():
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with Contract():
        nndoctor.watch(m, opt)                   # the cell's first run: the doctor is never closed
        with pytest.warns(RuntimeWarning, match="close_all"):
            doctor = nndoctor.watch(m, opt)      # the cell again
        assert any("still open" in n for n in doctor.notes)
        reports = nndoctor.close_all()
        assert len(reports) == 2 and tap.active_count() == 0
    assert_no_hooks(m)


def test_torch_export_with_a_dynamic_batch_while_watched():
    """nndoctor's hooks must not trace into an export (FakeTensors) nor specialize its dynamic batch."""
    m = small()
    X = torch.randn(16, 8)
    with nndoctor.watch(m) as d:
        m(X).sum().backward()   # the first step: every layer hooked
        ep = torch.export.export(m, (X,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    assert ep.module()(torch.randn(5, 8)).shape == (5, 2)   # the batch stayed dynamic
    assert not d.report().internal_errors, d.report().internal_errors


@pytest.mark.filterwarnings("error::RuntimeWarning:nndoctor")   # no numpy warning of nndoctor's reaches the user
def test_a_diverging_run_with_validation_warns_nothing_into_the_process():
    m = small()
    opt = torch.optim.SGD(m.parameters(), lr=50.0)
    X, y = data(n=256)
    with nndoctor.watch(m, opt, every=5) as d:
        for i in range(60):
            opt.zero_grad()
            F.cross_entropy(m(X[:32]) * 10, y[:32]).backward()
            opt.step()
            with torch.no_grad():
                m.eval()
                F.cross_entropy(m(X[32:64]), y[32:64])   # a validation loss: NaN once the run diverged
                m.train()
    r = d.report()
    assert not r.internal_errors, r.internal_errors
    assert {"non-finite", "learning-rate-too-high"} & set(r.codes) or "exploding-gradient" in r.codes, r.codes
