"""nndoctor tune: search spaces, grid and TPE studies on SQLite, argument templates, and the doctor
pruning a diverging trial."""
import subprocess
import sys
from pathlib import Path

import pytest

import nndoctor
from nndoctor.tuning.space import parse_param, parse_space

optuna = pytest.importorskip("optuna")
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, torch, nndoctor
lr = nndoctor.param("lr", 0.01)
if "--lr" in sys.argv:
    lr = float(sys.argv[sys.argv.index("--lr") + 1])
steps = nndoctor.param("steps", 120)
torch.manual_seed(0)
X = torch.randn(256, 8)
y = X @ torch.randn(8, 1) + 0.1 * torch.randn(256, 1)
model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
opt = torch.optim.SGD(model.parameters(), lr=lr)
for step in range(steps):
    idx = torch.randint(0, 256, (32,))
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(X[idx]), y[idx])
    loss.backward()
    opt.step()
with torch.no_grad():
    nndoctor.report_metric(torch.nn.functional.mse_loss(model(X), y).item())
"""


@pytest.fixture()
def script(tmp_path):
    p = tmp_path / "train.py"
    p.write_text(SCRIPT)
    return p


def test_parse_space():
    p = parse_param("lr=loguniform:1e-5:1e-1")
    assert (p.kind, p.low, p.high, p.log) == ("float", 1e-5, 1e-1, True)
    assert p.grid(3) == pytest.approx([1e-5, 1e-3, 1e-1])
    c = parse_param("batch_size=choice:16,32,64")
    assert c.choices == (16, 32, 64) and c.grid(9) == [16, 32, 64]
    assert parse_param("opt=choice:sgd,adam").choices == ("sgd", "adam")
    i = parse_param("width=int:32:512:log")
    assert i.kind == "int" and i.log and all(isinstance(v, int) for v in i.grid(4))
    for bad in ("lr", "lr=loguniform:0:1", "lr=normal:0:1", "lr=uniform:1:0", "x=choice:"):
        with pytest.raises(ValueError):
            parse_param(bad)
    with pytest.raises(ValueError):
        parse_space(["a=uniform:0:1", "a=uniform:0:2"])


def test_param_outside_a_trial_is_the_default():
    assert nndoctor.param("lr", 0.5) == 0.5
    nndoctor.report_metric(1.0)  # no trial: nothing happens


def test_grid_and_tpe_studies_on_sqlite(tmp_path, script):
    db = f"sqlite:///{tmp_path}/t.db"
    study = nndoctor.tune(str(script), [], ["lr=choice:0.003,0.03"], sampler="grid", storage=db, study_name="g")
    assert len(study.trials) == 2
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert {t.params["lr"] for t in study.trials} == {0.003, 0.03}
    assert all(t.user_attrs["steps"] == 120 and t.user_attrs["value_source"] == "report_metric" for t in study.trials)
    assert study.best_params["lr"] == 0.03  # the larger stable LR fits better in 120 steps
    tpe = nndoctor.tune(str(script), [], ["lr=loguniform:1e-3:1e-1", "steps=choice:40,60"], sampler="tpe",
                        n_trials=3, storage=db, study_name="t")
    assert len(tpe.trials) == 3 and all(t.value is not None for t in tpe.trials)
    again = optuna.load_study(study_name="t", storage=db)  # persisted: another machine could join
    assert len(again.trials) == 3


def test_argument_templates(tmp_path, script):
    db = f"sqlite:///{tmp_path}/a.db"
    study = nndoctor.tune(str(script), ["--lr", "{lr}"], ["lr=choice:0.05"], sampler="grid", storage=db)
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE


def test_the_doctor_prunes_a_diverging_trial(tmp_path, script):
    db = f"sqlite:///{tmp_path}/d.db"
    study = nndoctor.tune(str(script), [], ["lr=choice:0.01,50.0"], sampler="grid", pruner="doctor", storage=db,
                          study_name="d")
    by_lr = {t.params["lr"]: t for t in study.trials}
    bad, good = by_lr[50.0], by_lr[0.01]
    assert bad.state == optuna.trial.TrialState.PRUNED
    assert bad.user_attrs["pruned_reason"].startswith("doctor: ")
    assert bad.user_attrs["steps"] < 120
    assert good.state == optuna.trial.TrialState.COMPLETE
    # without the doctor the same trial runs to the end (and gives no usable value)
    plain = nndoctor.tune(str(script), [], ["lr=choice:50.0"], sampler="grid", pruner="none", storage=db,
                          study_name="n")
    assert plain.trials[0].state != optuna.trial.TrialState.PRUNED
    assert plain.trials[0].user_attrs["steps"] == 120


def test_cli_tune(tmp_path, script):
    p = subprocess.run([sys.executable, "-m", "nndoctor", "tune", "--storage", f"sqlite:///{tmp_path}/c.db",
                        "--sampler", "random", "--n-trials", "2", "--param", "lr=loguniform:1e-3:1e-1",
                        str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr[-2000:]
    assert "best:" in p.stdout and "total trial-steps" in p.stdout
    bad = subprocess.run([sys.executable, "-m", "nndoctor", "tune", "--param", "lr=oops", str(script)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert bad.returncode == 2 and "NAME=KIND:ARGS" in bad.stderr


# ----------------------------------------------------------------------------- fixed cadence, early pruning
def _relu_loop(doctor_kwargs, steps=60, bias=0.0):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    with torch.no_grad():
        model[0].bias.fill_(bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    flushed, found = [], []
    from nndoctor.doctor import Doctor

    with Doctor(model, opt, **doctor_kwargs).start() as doc:
        doc.add_flush_callback(lambda d: flushed.append(d.step))
        doc.on_finding = lambda f: found.append((f.code, f.severity, doc.step))
        for _ in range(steps):
            x = torch.randn(32, 8)
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), x[:, :1]).backward()
            opt.step()
    return doc, flushed, found


def test_fixed_cadence_judges_every_k_steps():
    doc, flushed, _ = _relu_loop({"every": 10, "fixed_cadence": True})
    assert {10, 20, 30, 40, 50, 60} <= set(flushed)
    sample_steps = [s["step"] for s in doc.store.facts["act_samples"]]
    # activation samples by steps, whatever they cost: at every 2^k-th and every 4th judgement
    assert {10, 20, 40} <= set(sample_steps)
    # the same rules and evidence: a healthy loop stays quiet under the fixed cadence too
    assert not [f for f in doc.report().findings if f.severity in ("error", "warning")]


def test_fixed_cadence_establishes_a_dead_network_early():
    # every first-layer unit is dead from the start (bias -50 on inputs ~N(0,1)): an error, found at the
    # second activation sample (the rule's standard: dead in the last two samples), not at the end
    _, _, found = _relu_loop({"every": 10, "fixed_cadence": True}, steps=200, bias=-50.0)
    dead = [f for f in found if f[0] == "dead-relu"]
    assert dead and dead[0][1] == "error" and dead[0][2] <= 30


def test_overrides_reach_optimizer_and_dataloader_and_come_off():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from nndoctor.tuning import overrides

    applied = {}
    remove = overrides.install({"lr": 0.5, "momentum": 0.9, "batch_size": 7, "width": 3},
                               lambda n: n == "momentum", applied)
    try:
        w = torch.nn.Parameter(torch.zeros(2))
        b = torch.nn.Parameter(torch.zeros(1))
        sgd = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=1e-3, momentum=0.1)
        adam = torch.optim.Adam([w], lr=1e-3)
        ds = TensorDataset(torch.zeros(20, 2))
        dl, dl_pos, dl_none = DataLoader(ds, batch_size=4), DataLoader(ds, 4, True), DataLoader(ds, batch_size=None)
    finally:
        remove()
    assert sgd.param_groups[0]["lr"] == 0.5 and adam.param_groups[0]["lr"] == 0.5
    assert sgd.param_groups[1]["lr"] == 0.01          # a group's own lr is the script's choice
    assert sgd.param_groups[0]["momentum"] == 0.1     # skipped: the script reads it itself
    assert dl.batch_size == 7 and dl_pos.batch_size == 7 and dl_none.batch_size is None
    assert set(applied) == {"lr", "batch_size"}
    # off again: nothing leaks past the trial
    assert torch.optim.SGD([w], lr=1e-3).param_groups[0]["lr"] == 1e-3
    assert DataLoader(ds, batch_size=4).batch_size == 4


UNMODIFIED = """
import torch, nndoctor
torch.manual_seed(0)
X = torch.randn(64, 4); y = X.sum(1, keepdim=True)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32)
model = torch.nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0)
for xb, yb in loader:
    opt.zero_grad(); torch.nn.functional.mse_loss(model(xb), yb).backward(); opt.step()
g = opt.param_groups[0]
nndoctor.report_metric(g["lr"] * 1000 + g["momentum"])   # where the values went, as the objective
"""


def test_tune_an_unmodified_script(tmp_path):
    p = tmp_path / "plain.py"
    p.write_text(UNMODIFIED)
    db = f"sqlite:///{tmp_path}/u.db"
    study = nndoctor.tune(str(p), [], ["lr=choice:0.002", "momentum=choice:0.5", "batch_size=choice:8",
                                       "width=choice:3"], sampler="grid", pruner="none", storage=db, study_name="u")
    t = study.trials[0]
    assert t.value == pytest.approx(2.5)              # lr 0.002, momentum 0.5 reached the optimizer
    assert t.user_attrs["steps"] == 8                 # 64 examples / batch_size 8
    assert set(t.user_attrs["applied"]) == {"lr", "momentum", "batch_size"}
    assert t.user_attrs["unused_params"] == ["width"]
    assert "width reached nothing" in nndoctor.tuning.study.summary(study)
    off = nndoctor.tune(str(p), [], ["lr=choice:0.002"], sampler="grid", pruner="none", storage=db,
                        study_name="off", inject=False)
    assert off.trials[0].value == pytest.approx(10.0) and off.trials[0].user_attrs["unused_params"] == ["lr"]


DEAD = """
import torch, nndoctor
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
with torch.no_grad():
    model[0].bias.fill_(nndoctor.param("bias", 0.0))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(100):
    x = torch.randn(32, 8)
    opt.zero_grad(); torch.nn.functional.mse_loss(model(x), x[:, :1]).backward(); opt.step()
"""


def test_the_doctor_prunes_at_the_first_established_error_and_sampling_is_controlled(tmp_path):
    p = tmp_path / "dead.py"
    p.write_text(DEAD)
    db = f"sqlite:///{tmp_path}/e.db"
    runs = {}
    for pruner in ("none", "doctor"):
        runs[pruner] = nndoctor.tune(str(p), [], ["bias=choice:0.0,-50.0"], sampler="random", n_trials=3, seed=1,
                                     pruner=pruner, storage=db, study_name=pruner)
    # a seeded random sampler: the same configurations in the same order whatever was pruned
    assert [t.params for t in runs["none"].trials] == [t.params for t in runs["doctor"].trials]
    assert {t.params["bias"] for t in runs["none"].trials} == {0.0, -50.0}
    for plain, doc in zip(runs["none"].trials, runs["doctor"].trials):
        if plain.params["bias"] == -50.0:
            assert plain.state == optuna.trial.TrialState.COMPLETE and plain.user_attrs["steps"] == 100
            assert any(d.startswith("dead-relu") for d in plain.user_attrs["diagnosed"])
            assert doc.state == optuna.trial.TrialState.PRUNED
            assert doc.user_attrs["pruned_reason"].startswith("doctor: dead-relu")
            assert doc.user_attrs["steps"] == doc.user_attrs["pruned_step"] <= 40
        else:
            assert doc.state == optuna.trial.TrialState.COMPLETE and doc.value == plain.value


NAN_LAST = """
import torch, nndoctor
torch.manual_seed(0)
model = torch.nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(40):
    x = torch.randn(16, 4) * (1e30 if step == 39 else 1.0)
    opt.zero_grad(); (model(x) ** 2).mean().backward(); opt.step()
"""


def test_an_error_at_the_last_step_prunes_nothing(tmp_path):
    p = tmp_path / "nanlast.py"
    p.write_text(NAN_LAST)
    study = nndoctor.tune(str(p), [], ["unused=choice:1"], sampler="grid", pruner="doctor", max_steps=40,
                          storage=f"sqlite:///{tmp_path}/l.db", study_name="l")
    t = study.trials[0]
    assert t.state == optuna.trial.TrialState.COMPLETE and t.user_attrs["steps"] == 40
    assert any(d.startswith("non-finite") for d in t.user_attrs["diagnosed"])


def test_an_error_prunes_only_a_trial_that_stopped_learning():
    """A diagnosis says the run is unhealthy, not that it will lose the study: a non-finite loss prunes at
    once; another error (e.g. dead-relu on a half-dead net) only a trial whose loss is neither falling
    nor below where it started."""
    import random
    from types import SimpleNamespace

    from nndoctor.tuning.study import _prune_on, still_learning

    rng = random.Random(0)
    falling = [2.0 * 0.97 ** i + 0.05 * rng.gauss(0, 1) for i in range(40)]
    flat = [1.5 + 0.05 * (-1) ** i + 0.01 * (i % 3) for i in range(40)]  # noisy, no trend
    rising = [0.5 * 1.05 ** i for i in range(40)]
    assert still_learning(falling)
    assert not still_learning(flat) and not still_learning(rising)
    assert not still_learning(falling[:-1] + [float("nan")])
    assert still_learning(flat[:5])  # too little history: no evidence, no pruning
    dead = SimpleNamespace(code="dead-relu", summary="62% of units dead")
    nan = SimpleNamespace(code="non-finite", summary="NaN loss")
    assert _prune_on([dead], falling) is None
    assert _prune_on([dead], flat) is dead
    assert _prune_on([dead, nan], falling) is nan
    # a net that learned and then levelled off (the study's winner may be one) is of use: not pruned
    learned = falling + [falling[-1] + 0.05 * rng.gauss(0, 1) for _ in range(40)]
    assert not still_learning(learned[-40:]) and still_learning(learned[-40:], first=learned[:10])
    assert _prune_on([dead], learned[-40:], learned[:10]) is None
    assert _prune_on([dead], flat, flat[:10]) is dead  # never learned: pruned


def test_pruning_benchmark_broken_table_counts_the_steps_each_pruner_cut():
    """benchmarks/tune/pruning.py's second table, from per-trial rows: which trials are broken (an error
    verdict in the no-pruner run, or pruned by the doctor) and the share of their steps each pruner cut."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "tune"))
    import pruning

    def t(n, steps, errors=(), reason="", at=None, state="COMPLETE"):
        return {"n": n, "state": state, "steps": steps, "value": 1.0, "pruned_step": at, "errors": list(errors),
                "pruned_reason": reason}
    rows = []
    for p in pruning.PRUNERS:
        ts = [t(0, 100, ["dead-relu: ..."]), t(1, 100), t(2, 100), t(3, 100, state="FAIL")]
        if p in ("median", "doctor+median"):
            ts[1] = t(1, 40, reason="median", at=40, state="PRUNED")
        if p in ("doctor", "doctor+median"):
            ts[0] = t(0, 30, ["dead-relu: ..."], reason="doctor: dead-relu: ...", at=30, state="PRUNED")
            ts[2] = t(2, 20, reason="doctor: non-finite: ...", at=20, state="PRUNED")
        rows.append({"problem": "p", "seed": 0, "pruner": p, "trial_rows": ts})
    rows.append({"problem": "q", "seed": 0, "pruner": "none"})   # no per-trial detail: left out
    lines = pruning.broken_table(rows).splitlines()
    assert len(lines) == 3
    # broken: 0 (error), 2 (pruned by the doctor), 3 (failed): 300 steps; the other: 1 (100 steps)
    # median cut 0 of 300 broken, 60 of 100 other; doctor cut 70 + 80 = 150 of 300, none of the other
    assert lines[2] == "| p | 1 | 3/4 | 300 | 0% / 60% | 50% / 0% | 50% / 60% | (20, 100) × 1, (30, 100) × 1 |"


def _dead(code="dead-relu"):
    from types import SimpleNamespace
    return SimpleNamespace(code=code, summary="99% of units dead")


def test_a_dead_trial_at_chance_after_early_spikes_is_pruned():
    """The benchmark's kept-but-useless trials (mlp_digits, Adam at lr ~0.8): the first update blows the
    loss up to ~1e4, it falls back over ~15 steps and stays at chance (ln 10) with every unit dead. The
    spikes inflated the old "first 10 losses" baseline (and the older half's mean), so the plateau at
    chance looked like progress; against the loss before any update, or the chance level, it is none."""
    import math
    import random

    from nndoctor.tuning.study import _prune_on, still_learning

    rng = random.Random(1)
    chance = math.log(10)
    start = [2.293]                                        # the loss before any update
    trace = start + [2.4e4, 1.1e4, 6.2e3, 3.0e3, 1.1e3, 1.1e3, 1.4e3, 980, 690, 170, 27, 13, 9.4, 4.7, 3.4] + \
        [chance + 0.04 * rng.gauss(0, 1) for _ in range(14)]   # 30 steps: the judgement after the error
    window = trace[-40:]
    assert _prune_on([_dead()], window, start, chance).code == "dead-relu"
    assert _prune_on([_dead()], window, start) is not None         # loss unknown: the start is the level
    assert not still_learning(window + [chance + 0.04 * rng.gauss(0, 1) for _ in range(10)], start, chance)
    # still coming down, but from the blow-up and still above its start (2.29): not progress either
    falling_back = start + [4.9e4, 2.4e4, 1.2e4, 6.7e3, 2.2e3, 1.7e3, 3.8e3, 2.3e3, 1.5e3, 1.9e3, 487, 153, 33, 13] + \
        [3.6 - 0.04 * i + 0.1 * rng.gauss(0, 1) for i in range(26)]
    assert not still_learning(falling_back[-40:], start, chance)
    assert not still_learning(falling_back[-40:], start)


def test_a_slow_but_steady_trial_is_not_pruned_by_a_few_bad_batches():
    """A trial that improves slowly (a small LR, a warmup) must be let run, even when its window holds a
    few spiking batches: a spike inflated the mean of the recent half (and its variance), and the old Welch
    test then saw neither a fall nor progress; the median and the rank test see both."""
    import math
    import random

    from nndoctor.tuning.study import _prune_on, still_learning

    rng = random.Random(2)
    chance = math.log(10)
    start = [2.30]
    slow = [2.30 - 0.004 * i + 0.03 * rng.gauss(0, 1) for i in range(40)]   # -0.16 over 40 steps
    slow[26], slow[31], slow[37] = 9.0, 7.5, 12.0                          # three bad batches, recent half
    assert still_learning(slow, start, chance) and still_learning(slow, start)
    assert _prune_on([_dead()], slow, start, chance) is None
    # by the trend alone (the level test out of reach: no chance level, no start): still falling
    assert still_learning(slow)
    # a warmup: flat at its start for 20 steps, then a slow descent
    warm = [1.0 + 0.02 * rng.gauss(0, 1) for _ in range(20)] + [1.0 - 0.008 * i + 0.02 * rng.gauss(0, 1)
                                                                for i in range(20)]
    assert still_learning(warm, [1.0]) and _prune_on([_dead()], warm, [1.0]) is None
    # and a non-finite verdict still prunes at once, whatever the loss did
    assert _prune_on([_dead(), _dead("non-finite")], slow, start, chance).code == "non-finite"


def test_chance_level_of_the_training_loss():
    """The loss of the best constant predictor, from the targets of the loss that backward() was called on."""
    import math

    import torch
    import torch.nn.functional as F

    from nndoctor.tuning.chance import ChanceLevel, entropy

    def feed(c, name, inp, tgt, root_is_loss=True, **kw):
        inp = inp.clone().requires_grad_(True)
        out = getattr(F, name)(inp, tgt, **kw)
        c.on_loss(name, (inp, tgt), kw, out)
        c.on_backward(out if root_is_loss else out * 1.0)

    torch.manual_seed(0)
    c = ChanceLevel()
    for _ in range(5):   # 10 classes, 3 of each in a batch of 30, plus ignored positions
        y = torch.arange(30) % 10
        feed(c, "cross_entropy", torch.randn(32, 10), torch.cat([y, torch.tensor([-100, -100])]))
    assert c.value() == pytest.approx(math.log(10))
    c = ChanceLevel()
    feed(c, "cross_entropy", torch.randn(8, 3), torch.tensor([0, 0, 0, 0, 0, 0, 1, 2]))
    assert c.value() == pytest.approx(entropy([6, 1, 1]))
    c = ChanceLevel()
    t = torch.tensor([[1.0], [1.0], [1.0], [0.0]])
    feed(c, "binary_cross_entropy_with_logits", torch.randn(4, 1), t)
    assert c.value() == pytest.approx(entropy([3, 1]))
    c = ChanceLevel()
    t = torch.randn(64, 2) * torch.tensor([1.0, 3.0]) + 5.0
    feed(c, "mse_loss", torch.randn(64, 2), t)
    assert c.value() == pytest.approx(float(t.var(0, unbiased=False).mean()), rel=1e-6)
    # unknown: a sum of losses (backward on something else), a summed loss, label smoothing, class weights,
    # a validation loss (no graph), and two different loss functions
    for kw, root in (({}, False), ({"reduction": "sum"}, True), ({"label_smoothing": 0.1}, True),
                     ({"weight": torch.ones(3)}, True)):
        c = ChanceLevel()
        feed(c, "cross_entropy", torch.randn(8, 3), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), root_is_loss=root, **kw)
        assert c.value() is None, kw
    c = ChanceLevel()
    with torch.no_grad():
        out = F.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    c.on_loss("cross_entropy", (torch.randn(4, 3), torch.tensor([0, 1, 2, 0])), {}, out)
    c.on_backward(out)
    assert c.value() is None
    c = ChanceLevel()
    feed(c, "cross_entropy", torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    feed(c, "mse_loss", torch.randn(4, 1), torch.randn(4, 1))
    assert c.value() is None
    c = ChanceLevel()   # a label out of range (on a device that does not check it): no chance level
    out = torch.ones((), requires_grad=True) * 1.0
    c.on_loss("cross_entropy", (torch.randn(4, 3), torch.tensor([0, 1, 2, 7])), {}, out)
    c.on_backward(out)
    assert c.value() is None


def test_the_doctor_prunes_a_dead_trial_at_chance_after_a_blow_up(tmp_path):
    """End to end, a trial of the pruning benchmark that the pruner used to keep for all its 100 steps:
    mlp_digits with Adam at lr 0.78 (dead, loss at ln 10 after a blow-up to ~2e4)."""
    study = nndoctor.tune(str(ROOT / "benchmarks" / "tune" / "mlp_digits.py"), [],
                          ["lr=choice:0.7776492451078378", "optimizer=choice:adam"], sampler="grid", pruner="doctor",
                          storage=f"sqlite:///{tmp_path}/c.db", study_name="c")
    t = study.trials[0]
    assert t.state == optuna.trial.TrialState.PRUNED, t.user_attrs
    assert t.user_attrs["pruned_reason"].startswith("doctor: dead-relu")
    assert t.user_attrs["steps"] == t.user_attrs["pruned_step"] <= 40


AMP = """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
X, y = torch.randn(256, 8), torch.randint(0, 4, (256,))
for step in range(40):
    idx = torch.randint(0, 256, (32,))
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
"""


def test_a_trial_reads_an_amp_scaled_loss_unscaled(tmp_path):
    """With ``scaler.scale(loss).backward()`` the backward root is the loss x 1024: the trial's losses (its
    value here, the pruner's window and start) are the loss itself."""
    p = tmp_path / "amp.py"
    p.write_text(AMP)
    study = nndoctor.tune(str(p), [], ["unused=choice:1"], sampler="grid", pruner="doctor",
                          storage=f"sqlite:///{tmp_path}/a.db", study_name="a")
    t = study.trials[0]
    assert t.user_attrs["value_source"].startswith("training loss")
    assert 0.5 < t.value < 2.0   # ~ln 4 = 1.39 for 4 random classes; scaled, it would be ~1400


def test_a_dead_trial_whose_fall_to_chance_ended_early_is_pruned_at_the_first_judgement():
    """raw_breast_cancer's dead trials (raw features, the first layer dead; chance, the targets' binary
    entropy, 0.66): the loss starts at 8.4, blows up, falls back to chance within ~5 steps and stays there.
    At the judgement after the dead-relu verdict (step 30) the rank test on the losses capped at the start
    still counted that fall, in the older half, as progress (pruned only at step 50, once the fall had
    left the window). Now a fall must move the halves' medians too, and once the loss is at chance it is
    counted from chance: a fall to chance is the constant being learned. Losses recorded from the clinic
    program (lr 7.8e-3 with momentum 0.9; lr 2.4e-2 without), first 30 steps; and the half-dead trial that
    won seed 1 of the benchmark (lr 4.9e-4, momentum 0.9: below chance by step 15), which must be kept."""
    import random

    from nndoctor.tuning.study import _falling, _prune_on, _rank_z, still_learning

    chance = 0.66
    dead = [
        [
        8.37, 377, 49.9, 3.18, 1.19, 0.611, 0.693, 0.652, 0.753, 0.768, 0.684, 0.651, 0.687, 0.696, 0.693,
        0.69, 0.645, 0.772, 0.628, 0.664, 0.633, 0.6, 0.696, 0.732, 0.687, 0.667, 0.679, 0.634, 0.681, 0.598],
        [
        8.37, 3.38e+03, 179, 6.53, 5.68, 0.667, 0.676, 0.656, 0.688, 0.698, 0.676, 0.646, 0.676, 0.632,
        0.708, 0.689, 0.652, 0.731, 0.637, 0.662, 0.634, 0.613, 0.663, 0.681, 0.679, 0.614, 0.662, 0.619,
        0.663, 0.606],
    ]
    for trace in dead:
        start = trace[:1]
        h = len(trace) // 2
        older, recent = [min(v, start[0]) for v in trace[-2 * h:-h]], [min(v, start[0]) for v in trace[-h:]]
        assert _rank_z(older, recent) > 2.0            # what kept the trial to step 50: the ranks see the fall
        assert not _falling(older, recent)              # ... the medians of the two halves do not
        assert _prune_on([_dead()], trace, start, chance).code == "dead-relu"
    winner = [
        8.37, 15.2, 16.7, 10.3, 1.42, 4.64, 4.3, 0.635, 1.43, 1.76, 1.15, 0.915, 0.495, 0.574, 0.469, 0.38,
        0.489, 0.359, 0.574, 0.367, 0.493, 0.435, 0.376, 0.562, 0.56, 0.367, 0.802, 0.406, 0.463, 0.292,
        1.22, 0.379, 0.9, 0.971, 0.276, 0.545, 1.12, 0.373, 0.762, 1.64, 1.04, 0.33, 0.831, 1.1, 0.467,
        0.274, 0.576, 0.644, 0.46, 0.382]
    for step in (30, 40, 50):
        assert still_learning(winner[:step][-40:], winner[:1], chance)
        assert _prune_on([_dead()], winner[:step][-40:], winner[:1], chance) is None
    # a trial still clearly above chance and on its way down (a large start, a steady fall): kept
    rng = random.Random(3)
    slow = [8.4 - 0.15 * i + 0.1 * rng.gauss(0, 1) for i in range(30)]
    assert still_learning(slow, [8.4], chance) and _prune_on([_dead()], slow, [8.4], chance) is None
    # a fall from the start that reaches chance only in the recent half: still falling
    late = [8.4 - 0.4 * i for i in range(18)] + [max(chance, 1.2 - 0.05 * i) + 0.02 * rng.gauss(0, 1)
                                                 for i in range(12)]
    assert still_learning(late, [8.4], chance)
    # pure noise on a plateau reads as falling rarely: both tests must agree (z > 2 each)
    flat = random.Random(4)
    hits = sum(_falling(x[:15], x[15:]) for x in ([flat.gauss(0, 1) for _ in range(30)] for _ in range(500)))
    assert hits < 0.04 * 500


def test_pruning_benchmark_reuses_the_rows_of_pruners_that_never_consult_the_doctor():
    """benchmarks/tune/pruning.py --reuse: an earlier run's none/median rows stand in for re-running them (a
    change to the doctor pruner cannot change them), as trials with the attributes the table reads; a
    missing row is an error, not a silent gap."""
    import optuna

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "tune"))
    import pruning

    rows = [{"problem": "p", "seed": 0, "pruner": "none", "seconds": 3.0, "configs": [{"lr": 0.1}, {"lr": 1.0}],
             "trial_rows": [{"n": 0, "state": "COMPLETE", "steps": 100, "value": 0.3, "pruned_step": None,
                             "errors": [], "pruned_reason": ""},
                            {"n": 1, "state": "PRUNED", "steps": 20, "value": 2.3, "pruned_step": 20,
                             "errors": ["dead-relu: x"], "pruned_reason": "median"}]}]
    ts, secs = pruning._reused(rows, "p", 0, "none")
    assert secs == 3.0 and [t.number for t in ts] == [0, 1] and [t.params for t in ts] == [{"lr": 0.1}, {"lr": 1.0}]
    assert ts[1].state == optuna.trial.TrialState.PRUNED and ts[1].user_attrs["pruned_step"] == 20
    assert ts[1].user_attrs["diagnosed"] == ["dead-relu: x"] and ts[0].value == 0.3
    assert pruning._reused(rows, "p", 1, "none") is None and pruning._reused(rows, "p", 0, "median") is None


def test_fixed_cadence_evaluates_at_every_flush_while_young_then_a_tenth_of_the_steps_apart(monkeypatch):
    import nndoctor.diagnoses as diagnoses
    from nndoctor.doctor import Doctor

    seen = []
    real = diagnoses.run_rules

    def spy(ctx):
        if not ctx.closing:
            seen.append(ctx.step)
        return real(ctx)
    monkeypatch.setattr(diagnoses, "run_rules", spy)
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with Doctor(model, opt, every=10, fixed_cadence=True).start():
        for _ in range(400):
            x = torch.randn(32, 8)
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), x[:, :1]).backward()
            opt.step()
    assert [s for s in seen if 5 < s <= 100] == list(range(10, 101, 10))   # every flush while young
    late = [s for s in seen if s > 100]
    gaps = [b - a for a, b in zip([100] + late, late)]
    assert late and all(g >= a // 10 for g, a in zip(gaps, late))   # each look >= a tenth of its step after the last
    assert len(late) <= 12                                                # 300 steps: not one per flush (30)


def test_fixed_cadence_spaces_the_rules_of_a_run_that_updates_by_hand_by_its_backward_passes(monkeypatch):
    """A loop with no optimizer (``p -= lr * p.grad``) stays at step 0: its schedule counts backward passes, at
    every flush while young and then a tenth of the passes apart, as a run with steps does (it was judged at
    every flush for the whole run)."""
    import nndoctor.diagnoses as diagnoses
    from nndoctor.doctor import Doctor

    seen = []
    real = diagnoses.run_rules

    def spy(ctx):
        if not ctx.closing:
            seen.append(ctx.n_backward)
        return real(ctx)
    monkeypatch.setattr(diagnoses, "run_rules", spy)
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    with Doctor(model, every=10, fixed_cadence=True).start():
        for _ in range(400):
            x = torch.randn(32, 8)
            model.zero_grad()
            torch.nn.functional.mse_loss(model(x), x[:, :1]).backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.01 * p.grad
    assert [b for b in seen if 5 < b <= 100] == list(range(10, 101, 10))
    late = [b for b in seen if b > 100]
    gaps = [b - a for a, b in zip([100] + late, late)]
    assert late and all(g >= a // 10 for g, a in zip(gaps, late)) and len(late) <= 12
