"""The pre-flight check-up: right codes on faulty set-ups, quiet on healthy ones, the user's objects
and RNG untouched, the LR range test against a known answer, the batch-size finder under a cap, and
the CLI on clinic programs."""
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import nndoctor
from nndoctor.preflight import find_batch_size, lr_range_test
from nndoctor.preflight.batchsize import MARGIN
from nndoctor.preflight.sandbox import Batch

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "benchmarks" / "clinic" / "programs"


def _digits(n=512):
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    return torch.tensor(X[:n] / 16.0, dtype=torch.float32), torch.tensor(y[:n])


def _loader(X, y, batch=64):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch, shuffle=True)


def _mlp(out=10):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, out))


def test_healthy_is_quiet_and_the_users_objects_and_rng_are_untouched():
    X, y = _digits()
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # give the optimizer some state, as a user's mid-training optimizer would have
    nn.CrossEntropyLoss()(model(X[:32]), y[:32]).backward()
    opt.step()
    opt.zero_grad()
    params = {k: v.clone() for k, v in model.state_dict().items()}
    state = {k: {n: t.clone() if torch.is_tensor(t) else t for n, t in s.items()} for k, s in enumerate(opt.state.values())}
    torch.manual_seed(123)
    np.random.seed(5)
    random.seed(7)
    rng = (torch.get_rng_state().clone(), np.random.get_state()[1].copy(), random.getstate())
    report = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), opt)
    assert not report.problems(), [(f.code, f.summary) for f in report.problems()]
    assert report.internal_errors == []
    c = report.checkup
    assert 1e-4 < c["lr_range_test"]["suggested_lr"] < 1e-1
    assert c["overfit_one_batch"]["passed"]
    assert c["batch_size"]["max_batch"] >= 64
    # bit-identical user objects and RNG
    for k, v in model.state_dict().items():
        assert torch.equal(v, params[k]), k
    for k, s in enumerate(opt.state.values()):
        for n, t in s.items():
            assert torch.equal(t, state[k][n]) if torch.is_tensor(t) else t == state[k][n]
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng[0])
    assert (np.random.get_state()[1] == rng[1]).all()
    assert random.getstate() == rng[2]
    json.loads(report.to_json())


def test_softmax_into_cross_entropy_is_a_loss_mismatch():
    X, y = _digits(256)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1))
    r = nndoctor.checkup(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                         batch_size=False)
    assert "loss-mismatch" in r.codes


def test_one_based_labels_are_out_of_range():
    X, y = _digits(256)
    model = _mlp(10)
    r = nndoctor.checkup(model, (X, y + 1), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                         lr_test=False, batch_size=False)
    assert any(f.code == "loss-mismatch" and f.severity == "error" and "1-based" in f.summary for f in r.findings)


def test_nan_in_inputs_is_non_finite_and_skips_training_tests():
    X, y = _digits(128)
    X[3, 5] = float("nan")
    model = _mlp()
    r = nndoctor.checkup(model, (X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()))
    f = r.get("non-finite")
    assert f is not None and f.severity == "error" and f.where == ["inputs"]
    assert "lr_range_test" not in r.checkup


def test_lr_far_too_high_and_far_too_low():
    X, y = _digits(256)
    model = _mlp()
    hi = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=50.0),
                          overfit=False, batch_size=False)
    assert "learning-rate-too-high" in hi.codes
    lo = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1e-6),
                          overfit=False, batch_size=False)
    assert "learning-rate-too-low" in lo.codes


def test_a_model_blind_to_its_input_cannot_overfit_one_batch():
    class Blind(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _mlp()

        def forward(self, x):
            return self.net(torch.ones_like(x))  # a bug: the input is replaced

    X, y = _digits(256)
    model = Blind()
    r = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                         lr_test=False, batch_size=False)
    f = r.get("loss-not-decreasing")
    assert f is not None and f.severity == "error" and f.evidence["checkup"] == "one-batch overfit"
    assert not r.checkup["overfit_one_batch"]["passed"]


def test_detached_features_are_broken_gradient_flow():
    class Cut(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(64, 32)
            self.head = nn.Linear(32, 10)

        def forward(self, x):
            return self.head(torch.relu(self.enc(x)).detach())

    X, y = _digits(256)
    model = Cut()
    r = nndoctor.checkup(model, (X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                         lr_test=False, overfit=False, batch_size=False)
    assert "broken-gradient-flow" in r.codes


def test_lr_range_test_on_least_squares_finds_the_stability_edge_and_restores_the_model():
    # full-batch least squares: SGD is stable for lr < 2 / lambda_max(H), H = 2/n X^T X
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 8, generator=g) * torch.linspace(0.5, 3.0, 8)
    w_true = torch.randn(8, 1, generator=g)
    y = X @ w_true + 0.01 * torch.randn(256, 1, generator=g)
    lam = float(torch.linalg.eigvalsh(2 / 256 * X.T @ X).max())
    edge = 2 / lam
    model = nn.Linear(8, 1, bias=False)
    before = model.weight.detach().clone()
    r = lr_range_test(model, (X, y), nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01),
                      start_lr=1e-5, end_lr=10, num_steps=200)
    assert torch.equal(model.weight, before)
    assert r.stopped in ("diverged", "non-finite")
    assert edge / 3 <= r.lr_min <= 3 * edge, (r.lr_min, edge)
    assert edge / 30 < r.suggestion < edge  # a stable LR, not a needlessly timid one


def test_batch_size_finder_under_a_memory_cap():
    model = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    b = Batch((torch.randn(32, 256),), {}, torch.randint(0, 10, (32,)))
    cap = 64 << 20
    r = find_batch_size(model, b, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                        memory_limit_bytes=cap, max_batch=1 << 16)
    assert r.limited_by == "memory"
    expect = (MARGIN * cap - r.static_bytes) / r.bytes_per_example
    assert 0.9 * expect <= r.max_batch <= expect + 1
    assert r.bytes_per_example >= 2 * 1024 * 4  # two 1024-wide hidden layers of float32 saved per example


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS")
def test_batch_size_finder_catches_a_real_cpu_allocation_failure(tmp_path):
    script = tmp_path / "oom.py"
    script.write_text(f"""
import resource, sys, torch
from torch import nn
sys.path.insert(0, {str(ROOT)!r})
from nndoctor.preflight import find_batch_size
from nndoctor.preflight.sandbox import Batch
from nndoctor.probes.memory import snapshot
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(512, 4096), nn.ReLU(), nn.Linear(4096, 10))
b = Batch((torch.randn(16, 512),), {{}}, torch.randint(0, 10, (16,)))
limit = snapshot()["virtual"] + (400 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
r = find_batch_size(model, b, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                    memory_limit_bytes=1 << 40, max_batch=1 << 20)
print(r.limited_by, r.max_batch, sum(1 for _, ok in r.tried if not ok))
""")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    limited, mx, fails = out.stdout.split()
    assert limited == "memory" and int(fails) >= 1 and 16 <= int(mx) < (1 << 20)


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "nndoctor", "checkup", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def test_cli_checkup_on_clinic_programs(tmp_path):
    out = tmp_path / "healthy.json"
    p = _cli("--json", str(out), "--no-batch-size", str(PROGRAMS / "healthy_mlp_adam_digits.py"))
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(out.read_text())
    assert not [f for f in d["findings"] if f["severity"] in ("error", "warning")]
    assert d["checkup"]["captured"]["model"] == "Sequential" and d["checkup"]["captured"]["loss"] == "CrossEntropyLoss"
    assert d["checkup"]["lr_range_test"]["suggested_lr"] > 0
    assert d["checkup"]["captured"]["batches"] == 16  # the script ran on to collect them, then stopped
    assert "epoch 0" not in p.stdout  # stopped at the first backward pass
    out = tmp_path / "faulty.json"
    p = _cli("--json", str(out), "--no-batch-size", "--no-lr-test",
             str(PROGRAMS / "faulty_loss-mismatch_softmax_then_cross_entropy.py"))
    fs = {f["code"]: f["severity"] for f in json.loads(out.read_text())["findings"]}
    assert fs.get("loss-mismatch") == "warning"
    assert fs.get("loss-not-decreasing", "info") == "info"  # the batch not memorized: explained by the mismatch
    assert p.returncode == 0  # exit 1 only for an error


def test_copies_do_not_step_the_users_optimizer_through_a_scheduler():
    from nndoctor.preflight.sandbox import copy_training
    m = nn.Linear(3, 1)
    o = torch.optim.SGD(m.parameters(), lr=0.1)
    torch.optim.lr_scheduler.StepLR(o, 5)  # patches o.step with a wrapper bound to o
    w = m.weight.detach().clone()
    m2, o2 = copy_training(m, o)
    m2(torch.randn(4, 3)).sum().backward()
    o2.step()
    assert torch.equal(m.weight, w) and not torch.equal(m2.weight, w)


def test_adamw_and_a_warmup_scheduler_from_zero_are_handled():
    X, y = _digits(256)
    model = _mlp()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / 100))  # lr 0 at step 0
    r = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), opt, overfit=False)
    assert not r.problems(), [(f.code, f.summary) for f in r.problems()]
    assert r.internal_errors == []
    assert r.checkup["lr_range_test"]["user_lr"] == 1e-3 and r.checkup["batch_size"]["max_batch"] >= 64


def test_cli_checkup_captures_a_script_that_uses_gradscaler(tmp_path):
    # the capture listens to every tap event, the GradScaler ones included (it once lacked them,
    # and the AMP tap's call raised into the script)
    script = tmp_path / "amp_train.py"
    script.write_text("""
import torch
from torch import nn
torch.manual_seed(0)
X, y = torch.randn(256, 8), torch.randint(0, 3, (256,))
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
scaler = torch.amp.GradScaler("cpu")
for epoch in range(3):
    for i in range(0, 256, 32):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X[i:i + 32]), y[i:i + 32])
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
""")
    out = tmp_path / "amp.json"
    p = _cli("--json", str(out), "--no-batch-size", "--no-lr-test", str(script))
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(out.read_text())
    assert d["checkup"]["captured"]["model"] == "Sequential"
    assert not [f for f in d["findings"] if f["severity"] in ("error", "warning")]


def test_cli_checkup_replays_the_models_keyword_arguments_and_reads_each_losss_targets(tmp_path):
    # torch's global forward hooks see positional arguments only: `model(x, reconstruct=True)` was
    # replayed as `model(x)`, its second output was None, and every training part of the check-up
    # failed with an internal error (the clinic's healthy_conditional_branch)
    script = tmp_path / "kw_train.py"
    script.write_text("""
import torch
from torch import nn
import torch.nn.functional as F
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 16)
        self.cls = nn.Linear(16, 3)
        self.dec = nn.Linear(16, 8)
    def forward(self, x, reconstruct=False):
        z = torch.relu(self.enc(x))
        return self.cls(z), (self.dec(z) if reconstruct else None)
X, y = torch.rand(256, 8), torch.randint(0, 3, (256,))   # inputs (and MSE targets) in [0, 1]
model = Net()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for i in range(0, 256, 32):
    logits, recon = model(X[i:i + 32], reconstruct=True)
    loss = F.cross_entropy(logits, y[i:i + 32]) + F.mse_loss(recon, X[i:i + 32])
    opt.zero_grad()
    loss.backward()
    opt.step()
""")
    out = tmp_path / "kw.json"
    p = _cli("--json", str(out), "--no-batch-size", str(script))
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(out.read_text())
    assert not d.get("internal_errors"), d.get("internal_errors")
    assert d["checkup"]["captured"]["model"] == "Net"
    assert d["checkup"]["lr_range_test"]["suggested_lr"] > 0   # the sweep trained through the replay
    # the MSE's targets lie in [0, 1], but only cross-entropy's targets (hard labels) decide whether the
    # loss has a non-zero floor: the one-batch overfit runs (it was skipped as "soft targets")
    assert d["checkup"].get("overfit_one_batch", {}).get("tries"), d.get("notes")
    assert not any("soft targets" in n for n in d.get("notes", []))
    assert not [f for f in d["findings"] if f["severity"] in ("error", "warning")]


# ----------------------------------------------------------------------------- the confirmation race
def _least_squares(n=256, noise=0.01):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 8, generator=g) * torch.linspace(0.5, 3.0, 8)
    y = X @ torch.randn(8, 1, generator=g) + noise * torch.randn(n, 1, generator=g)
    edge = 2 / float(torch.linalg.eigvalsh(2 / n * X.T @ X).max())  # SGD diverges above it
    return X, y, edge


def test_lr_race_keeps_the_lr_that_does_best_on_held_out_batches_and_leaves_the_model_alone():
    from nndoctor.preflight import lr_race
    X, y, edge = _least_squares()
    batches = [Batch((X[i:i + 32],), {}, y[i:i + 32]) for i in range(0, 256, 32)]
    model = nn.Linear(8, 1, bias=False)
    before = model.weight.detach().clone()
    cands = [edge / 300, edge / 3, edge * 1.5]   # crawls, converges, diverges
    r = lr_race(model, batches, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01), cands,
                first_rung_steps=20)
    assert torch.equal(model.weight, before) and model.weight.grad is None
    assert r.winner == cands[1]
    assert (r.train_batches, r.heldout_batches, r.heldout_examples) == (6, 2, 64)
    # successive halving: all three judged after 20 steps, the better one goes on to 60
    assert r.rungs[0]["steps"] == 20 and set(r.rungs[0]["heldout"]) == set(cands)
    assert r.rungs[0]["heldout"][cands[2]] > r.heldout_start  # the diverging LR made it worse (or inf)
    assert r.rungs[0]["heldout"][cands[1]] < r.rungs[0]["heldout"][cands[0]] < r.heldout_start
    assert len(r.rungs) == 1 or list(r.rungs[1]["heldout"]) == [cands[1]]
    json.dumps(r.to_dict())


def test_lr_race_reports_finalists_it_cannot_tell_apart_as_tied():
    """The paired test between finalists: two LRs 0.1% apart end within the held-out noise of each other
    (tied), a crawling LR against a converging one does not; the standard errors are in the rungs. (On
    noise-free targets even 0.1% apart is told apart: every unit prefers the larger step, a real if tiny
    difference; with noisy targets the held-out loss is mostly the noise, as on real data.)"""
    from nndoctor.preflight import lr_race
    X, y, edge = _least_squares(noise=1.0)
    batches = [Batch((X[i:i + 32],), {}, y[i:i + 32]) for i in range(0, 256, 32)]
    model = nn.Linear(8, 1, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    near = [edge / 3, edge / 3 * 1.001]
    r = lr_race(model, batches, nn.MSELoss(), opt, near, first_rung_steps=20)
    assert r.heldout_units == 16 and r.heldout_examples == 64   # 2 held-out batches of 32, cut into 16 units of 4
    assert r.winner in near and r.tied == [c for c in near if c != r.winner]
    last = r.rungs[-1]
    assert last["se"][r.winner] == 0 and 0 < last["se"][r.tied[0]] < float("inf")
    far = [edge / 300, edge / 3]
    r = lr_race(model, batches, nn.MSELoss(), opt, far, first_rung_steps=20)
    assert r.winner == edge / 3 and r.tied == []
    d = json.loads(json.dumps(r.to_dict()))
    assert d["tied"] == [] and d["heldout_units"] == 16 and set(d["rungs"][0]["se"]) == set(d["rungs"][0]["heldout"])


def test_heldout_units_and_losses_are_the_same_examples_cut_smaller():
    from nndoctor.preflight.lrfinder import _heldout_loss, heldout_units, paired_se
    X, y, _ = _least_squares(64)
    ho = [Batch((X[:32],), {}, y[:32]), Batch((X[32:],), {}, y[32:])]
    units = heldout_units(ho)
    assert [u.size for u in units] == [4] * 16
    assert torch.equal(torch.cat([u.args[0] for u in units]), X)
    model = nn.Linear(8, 1)
    loss, per = _heldout_loss(model, ho, nn.MSELoss(), units)
    assert per.shape == (16,) and loss == pytest.approx(per.mean(), rel=1e-5)   # MSE: the mean of equal units
    assert _heldout_loss(model, ho, nn.MSELoss())[1] is None
    many = [Batch((X[i:i + 4],), {}, y[i:i + 4]) for i in range(0, 64, 4)]
    assert heldout_units(many) is many                      # 16 batches already: they are the units
    seq_first = [Batch((torch.randn(5, 8, 3),), {}, torch.randn(8, 1))]   # (T, B, F): dim 0 is not the batch
    assert heldout_units(seq_first) is seq_first
    assert paired_se(per, per) == 0 and paired_se(per, None) == float("inf") and paired_se(per[:1], per[:1]) == float("inf")


def test_race_candidates_and_the_held_out_split():
    from nndoctor.preflight.lrfinder import LRRangeResult, race_candidates, race_cost, split_heldout
    r = LRRangeResult(suggestion=0.01, lr_diverged=0.05)
    assert race_candidates(r) == pytest.approx([0.001, 0.01 / 3, 0.01, 0.03])  # x10 = 0.1 is past divergence
    assert race_candidates(LRRangeResult(suggestion=0.01)) == pytest.approx([0.001, 0.01 / 3, 0.01, 0.03, 0.1])
    assert race_candidates(LRRangeResult()) == []
    assert race_cost(5) == 5 + 2 * 2 and race_cost(4) == 4 + 2 * 2 and race_cost(1) == 0
    b = Batch((torch.randn(32, 3),), {}, torch.randn(32, 1))
    tr, ho = split_heldout([b] * 16)
    assert (len(tr), len(ho)) == (12, 4)
    tr, ho = split_heldout([b])  # one batch: split by example, 3:1
    assert (tr[0].size, ho[0].size) == (24, 8)
    assert not set(tr[0].args[0][:, 0].tolist()) & set(ho[0].args[0][:, 0].tolist())
    assert split_heldout([b.take(torch.arange(8))]) is None  # too little to hold anything out


def test_checkup_suggestion_is_the_race_winner_around_the_curve_rule():
    X, y = _digits()
    model = _mlp()
    r = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3),
                         overfit=False, batch_size=False)
    lr, race = r.checkup["lr_range_test"], r.checkup["lr_race"]
    curve = lr["suggested_lr_curve"]
    assert lr["suggested_lr"] == race["winner"] == lr["rules"]["race"]
    assert curve / 10 * 0.999 <= race["winner"] <= curve * 10 * 1.001
    assert len(race["candidates"]) >= 2 and race["heldout_batches"] == 2 and race["train_batches"] == 6
    last = race["rungs"][-1]["heldout"]
    assert last[f"{race['winner']:.4g}"] == min(last.values())  # the best held-out loss of the last rung
    assert 2e-3 <= race["winner"] <= 0.1  # Adam on digits: the grid's best is ~0.01-0.02 (benchmarks/lrfinder)
    assert not r.problems()


# ----------------------------------------------------------------------------- budgets
def test_batch_size_finder_on_cpu_runs_one_pass_at_the_predicted_batch_within_a_flop_budget():
    model = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 10))
    b = Batch((torch.randn(32, 256),), {}, torch.randint(0, 10, (32,)))
    cap = 64 << 20
    fpe = 3 * 2 * (256 * 1024 + 1024 * 10)
    r = find_batch_size(model, b, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                        memory_limit_bytes=cap, max_batch=1 << 16, flop_budget=1e12, step_flops_per_example=fpe)
    expect = int((MARGIN * cap - r.static_bytes) // r.bytes_per_example)
    assert r.limited_by == "memory" and r.max_batch == expect and r.verified
    assert r.tried == [(expect, True)]   # no doubling passes: one real pass confirms the prediction
    assert r.flops_spent == pytest.approx((16 + 32 + expect) * fpe)
    small = find_batch_size(model, b, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                            memory_limit_bytes=cap, max_batch=1 << 16, flop_budget=100 * fpe,
                            step_flops_per_example=fpe)
    assert small.max_batch == expect and not small.verified and small.tried == []
    assert small.flops_spent <= 100 * fpe and any("compute budget" in n for n in small.notes)


def test_doubling_search_stops_at_the_budget_or_bisects_a_failure():
    from nndoctor.preflight.batchsize import BatchSizeResult, _doubling_search
    spent = []

    def run(b):
        spent.append(b)
        return b <= 300

    res = BatchSizeResult()
    _doubling_search(res, run, lambda b: sum(spent) + b <= 200, 4096, 32)
    assert res.limited_by == "budget" and res.max_batch == 64 and sum(spent) <= 200  # 2+4+..+64 = 126; 128 too much
    spent.clear()
    res = BatchSizeResult()
    _doubling_search(res, run, lambda b: True, 4096, 32)
    assert res.limited_by == "memory" and 300 - 300 // 16 <= res.max_batch <= 300


def test_rnn_flops_are_counted_for_the_budget():
    from nndoctor.preflight import rnn_flops
    lstm = nn.LSTM(3, 16, num_layers=2, batch_first=True, bidirectional=True)
    x = torch.randn(4, 10, 3)
    tokens = 40
    expect = 2 * (2 * 4 * 16 * (3 + 16) * tokens) + 2 * (2 * 4 * 16 * (32 + 16) * tokens)
    assert rnn_flops(lstm, (x,)) == expect
    assert rnn_flops(nn.GRU(3, 8), (torch.randn(10, 4, 3),)) == 2 * 3 * 8 * (3 + 8) * 40

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 32, batch_first=True)
            self.head = nn.Linear(32, 2)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    torch.manual_seed(0)
    X, y = torch.randn(128, 10, 3), torch.randint(0, 2, (128,))
    m = Seq()
    r = nndoctor.checkup(m, _loader(X, y, 32), nn.CrossEntropyLoss(), torch.optim.Adam(m.parameters()),
                         overfit=False, batch_size=False)
    # the step's FLOPs include the LSTM's (FlopCounterMode alone sees only the head: ~0.0004 GFLOP)
    assert r.checkup["step_gflops"] >= 3 * 2 * 4 * 32 * (3 + 32) * 320 / 1e9 * 0.99


def test_cli_bounds_the_batch_search_by_the_iterating_loaders_dataset(tmp_path):
    from nndoctor.preflight.capture import iterating_dataset_size
    loader = _loader(torch.randn(200, 4), torch.randint(0, 2, (200,)), 16)
    it = iter(loader)
    next(it)
    assert iterating_dataset_size(16) == 200 and iterating_dataset_size(7) is None
    del it
    script = tmp_path / "loader_train.py"
    script.write_text("""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
torch.manual_seed(0)
ds = TensorDataset(torch.randn(300, 8), torch.randint(0, 3, (300,)))
val = DataLoader(TensorDataset(torch.randn(50, 8), torch.randint(0, 3, (50,))), batch_size=50)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(5):
    for xb, yb in DataLoader(ds, batch_size=16, shuffle=True):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
""")
    out = tmp_path / "r.json"
    p = _cli("--json", str(out), "--no-lr-test", "--no-overfit", str(script))
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(out.read_text())["checkup"]
    assert d["captured"]["dataset_size"] == 300
    assert d["batch_size"]["max_batch"] == 300 and d["batch_size"]["limited_by"] == "dataset"
    assert d["batch_size"]["tried"] == [[300, True]]


def test_the_checkup_picks_its_thread_count_by_measurement_and_restores_the_users():
    X, y = _digits(256)
    model = _mlp()
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        r = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                             overfit=False, batch_size=False)
        assert torch.get_num_threads() == 2
        t = r.checkup["threads"]
        assert t["user"] == 2 and set(t["step_ms"]) == {1, 2}
        faster = min(t["step_ms"], key=t["step_ms"].get)
        assert t["used"] in (1, 2) and t["step_ms"][faster] > 0
        if t["step_ms"][1] != t["step_ms"][2]:  # (equal once rounded to 0.01 ms: either is right)
            assert t["used"] == (1 if t["step_ms"][1] < t["step_ms"][2] else 2)
    finally:
        torch.set_num_threads(before)


def test_one_batch_overfit_retries_with_the_users_optimizer_at_the_suggested_lr():
    # a healthy regression whose inputs are tiny (std 0.05) and whose output is mapped to the target's
    # scale by fixed buffers: 150 Adam steps at 1e-2 do not memorize a batch, the suggested LR does
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
            self.register_buffer("mu", torch.tensor(150.0))
            self.register_buffer("sd", torch.tensor(77.0))

        def forward(self, x):
            return self.net(x) * self.sd + self.mu

    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 10, generator=g) * 0.05
    y = 150 + 77 * torch.tanh(X @ torch.randn(10, 1, generator=g) * 20) + 10 * torch.randn(400, 1, generator=g)
    torch.manual_seed(0)
    model = Scaled()
    r = nndoctor.checkup(model, _loader(X, y, 25), nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2),
                         batch_size=False)
    of = r.checkup["overfit_one_batch"]
    assert [t["optimizer"] for t in of["tries"]][:2] == ["Adam", "Adam"]
    assert of["passed"] and of["tries"][-1]["optimizer"] == "yours"
    assert of["tries"][-1]["lr"] == r.checkup["lr_range_test"]["suggested_lr"]
    assert "loss-not-decreasing" not in r.codes


def test_a_blind_model_fails_the_overfit_at_the_suggested_lr_too():
    class Blind(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _mlp()

        def forward(self, x):
            return self.net(torch.ones_like(x))

    X, y = _digits(256)
    model = Blind()
    r = nndoctor.checkup(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()),
                         batch_size=False)
    f = r.get("loss-not-decreasing")
    assert f is not None and f.severity == "error"
    assert [t["optimizer"] for t in r.checkup["overfit_one_batch"]["tries"]] == ["Adam", "Adam", "yours"]
    assert "yours lr" in f.summary


def test_labels_are_checked_against_the_class_dimension_the_loss_sees():
    # a language model: output (B, T, V), the loss reads logits.reshape(-1, V); dimension 1 of the
    # model's output is time (24), not the classes (60) -- once a false loss-mismatch error
    V, T = 60, 24

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, 32)
            self.out = nn.Linear(32, V)

        def forward(self, x):
            return self.out(self.emb(x))

    g = torch.Generator().manual_seed(0)
    seq = torch.randint(0, V, (256, T + 1), generator=g)
    loss = lambda o, y: nn.functional.cross_entropy(o.reshape(-1, V), y.reshape(-1))  # noqa: E731
    torch.manual_seed(0)
    m = LM()
    r = nndoctor.checkup(m, (seq[:, :-1], seq[:, 1:]), loss, torch.optim.Adam(m.parameters()),
                         lr_test=False, overfit=False, batch_size=False)
    assert r.checkup["data"]["labels"]["outputs"] == V
    assert "loss-mismatch" not in r.codes
    bad = nndoctor.checkup(m, (seq[:, :-1], seq[:, 1:] + 1), loss, torch.optim.Adam(m.parameters()),
                           lr_test=False, overfit=False, batch_size=False)  # 1-based: V is out of range
    assert bad.get("loss-mismatch") is not None and bad.get("loss-mismatch").severity == "error"


def test_one_batch_overfit_is_skipped_for_soft_targets_and_runs_for_hard_ones():
    X, _ = _digits(256)   # grey pixels in [0, 1]: an autoencoder's BCE floor is their entropy, not 0
    torch.manual_seed(0)
    ae = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 64))
    r = nndoctor.checkup(ae, _loader(X, X), nn.BCEWithLogitsLoss(), torch.optim.Adam(ae.parameters()),
                         lr_test=False, batch_size=False)
    assert "overfit_one_batch" not in r.checkup and "loss-not-decreasing" not in r.codes
    assert any("soft targets" in n for n in r.notes)
    hard = (X > 0.5).float()
    r = nndoctor.checkup(ae, _loader(X, hard), nn.BCEWithLogitsLoss(), torch.optim.Adam(ae.parameters()),
                         lr_test=False, batch_size=False)
    assert r.checkup["overfit_one_batch"]["passed"]


def test_a_sweep_flat_within_its_noise_gives_no_lr_and_no_divergence():
    """A range test whose loss never falls beyond its own noise (mixup's soft targets per batch, say)
    has no minimum: its dip and its "climb back above the start" are noise, so no divergence is read
    and the user's LR is not judged; a real valley-then-blow-up curve still is read."""
    import math

    import numpy as np

    from nndoctor.preflight.lrfinder import analyse

    rng = np.random.default_rng(0)
    n = 100
    lrs = list(1e-7 * (1e8 ** (1 / (n - 1))) ** np.arange(n))
    flat = list(1.2 * np.exp(0.08 * rng.standard_normal(n)))
    r = analyse(lrs, flat, "end")
    assert not r.progress and r.lr_diverged is None and not r.conclusive
    x = np.log10(lrs)
    valley = list(np.exp(-0.8 * np.clip(x + 4, 0, None) * (x < -2) - 1.6 * (x >= -2) + 2.5 * np.clip(x + 1, 0, None))
                  * np.exp(0.08 * rng.standard_normal(n)))
    r = analyse(lrs, valley, "end")
    assert r.progress and r.conclusive and r.lr_diverged is not None
    assert 1e-4 < r.suggestion < 1e-2 and math.isfinite(r.lr_min)


def test_lr_benchmark_problems_hold_out_another_quarter_on_another_split():
    """benchmarks/lrfinder/splits.py's premise: split 0 is the benchmark's fixed split, another split holds
    out a different quarter of the same examples (same sizes, nothing shared between train and held-out)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "lrfinder"))
    from problems import problems
    for p in problems():
        if p.name not in ("mlp-diabetes-sgd-momentum", "gru-adding-adam"):
            continue
        a, b = p.data(), p.data(split=1)
        assert all(torch.equal(x, y) for x, y in zip(a, p.data(split=0)))
        assert [len(x) for x in a] == [len(x) for x in b]
        assert not torch.equal(a[2], b[2])
        key = lambda X: {tuple(r.flatten().tolist()) for r in X}  # noqa: E731
        assert not key(b[0]) & key(b[2])
        if p.name.startswith("gru"):   # (sklearn features are standardized with each split's own statistics)
            assert key(a[0]) | key(a[2]) == key(b[0]) | key(b[2])


def test_checkup_table_says_when_the_race_winner_is_tied():
    from rich.console import Console

    from nndoctor.report.terminal import checkup_table
    c = {"lr_range_test": {"suggested_lr": 0.0018, "suggested_lr_curve": 0.0055, "lr_min_loss": 0.055, "steps": 100,
                           "optimizer": "SGD"},
         "lr_race": {"candidates": [5.5e-4, 1.8e-3, 5.5e-3, 0.016, 0.055], "winner": 0.0018, "tied": [0.0055]}}

    def text(d):
        import io
        con = Console(width=200, record=True, file=io.StringIO())
        con.print(checkup_table(d))
        return con.export_text()
    assert "won a race of 5 LRs on held-out batches, tied within its noise with 0.0055" in text(c)
    c["lr_race"]["tied"] = []
    assert "won a race of 5 LRs on held-out batches;" in text(c) and "tied" not in text(c)


def test_cli_checkup_replays_a_squeezed_output_cast_to_another_dtype_at_any_batch_size(tmp_path):
    # `loss_fn(model(x).squeeze(-1).double(), y)`: the prediction is a new tensor (the cast), found by
    # value; and the squeeze is replayed with the batch dimension free, so the LR race and the batch
    # finder (other batch sizes) run without internal errors
    script = tmp_path / "cast_train.py"
    script.write_text("""
import torch
from torch import nn
torch.manual_seed(0)
X = torch.randn(512, 6)
y = (X @ torch.randn(6)).double()
model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(3):
    for i in range(0, 512, 16):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X[i:i + 16]).squeeze(-1).double(), y[i:i + 16])
        loss.backward()
        opt.step()
""")
    out = tmp_path / "cast.json"
    p = _cli("--json", str(out), str(script))
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(out.read_text())
    assert d["checkup"]["lr_range_test"]["suggested_lr"] > 0
    assert d["checkup"]["overfit_one_batch"] and d["checkup"]["lr_race"] and d["checkup"]["batch_size"]
    assert not d.get("internal_errors"), d.get("internal_errors")


def test_label_smoothing_floor_is_the_smoothed_targets_entropy():
    from nndoctor.preflight import smoothing_floor

    for eps, k in [(0.1, 10), (0.2, 3)]:
        y = torch.randint(0, k, (40,))
        q = torch.full((40, k), eps / k)
        q[torch.arange(40), y] += 1 - eps
        best = nn.functional.cross_entropy(q.log(), y, label_smoothing=eps).item()
        assert smoothing_floor(eps, k) == pytest.approx(best, rel=1e-5)
    assert smoothing_floor(0.0, 10) == 0.0


_STAGED = """
import torch
from torch import nn
torch.manual_seed(0)
X = torch.rand(512, 16)
y = (X.sum(1) > 8).long()
{body}
"""


@pytest.mark.parametrize("kind", ["chain", "heads", "smoothing"])
def test_cli_checkup_on_two_module_models_and_label_smoothing_raises_no_false_alarm(tmp_path, kind):
    """`dec(enc(x))` is checked as the chain of both (not the decoder alone on frozen codes), and a
    bottleneck reconstruction that does not memorize its batch is not called a bug; a head on a shared
    trunk is not checked alone (a note says why); cross-entropy with label smoothing is memorized down
    to its floor (the smoothed targets' entropy), not to 0."""
    body = {
        "chain": """
enc = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
dec = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 16), nn.Sigmoid())
opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=2e-3)
for i in range(0, 512, 32):
    loss = nn.functional.mse_loss(dec(enc(X[i:i + 32])), X[i:i + 32])
    opt.zero_grad(); loss.backward(); opt.step()
""",
        "heads": """
trunk = nn.Sequential(nn.Linear(16, 32), nn.Tanh())
head_a, head_b = nn.Linear(32, 2), nn.Linear(32, 1)
opt_a = torch.optim.Adam(list(trunk.parameters()) + list(head_a.parameters()), lr=3e-3)
opt_b = torch.optim.SGD(head_b.parameters(), lr=0.05)
for i in range(0, 512, 32):
    h = trunk(X[i:i + 32])
    loss = nn.functional.cross_entropy(head_a(h), y[i:i + 32]) + \\
        nn.functional.mse_loss(head_b(h).squeeze(-1), X[i:i + 32].sum(1) / 8)
    opt_a.zero_grad(); opt_b.zero_grad(); loss.backward(); opt_a.step(); opt_b.step()
""",
        "smoothing": """
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
y10 = (X[:, :10].argmax(1))
for i in range(0, 512, 32):
    loss = nn.functional.cross_entropy(model(X[i:i + 32]), y10[i:i + 32], label_smoothing=0.1)
    opt.zero_grad(); loss.backward(); opt.step()
""",
    }[kind]
    script = tmp_path / f"{kind}.py"
    script.write_text(_STAGED.format(body=body))
    out = tmp_path / f"{kind}.json"
    p = _cli("--json", str(out), "--no-batch-size", str(script))
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(out.read_text())
    assert not [f for f in d["findings"] if f["severity"] in ("error", "warning")], d["findings"]
    if kind == "chain":
        assert d["checkup"]["captured"]["model"] == "_Chain"
        assert d["checkup"]["lr_range_test"]["suggested_lr"] > 0
    elif kind == "heads":
        assert "lr_range_test" not in d["checkup"] or not d["checkup"]["lr_range_test"]
        assert "fed by another module with trainable parameters" in " ".join(p.stderr.split())
    else:
        assert d["checkup"]["overfit_one_batch"]["passed"]


def test_lr_benchmark_cross_validated_grid_best_and_its_band():
    """benchmarks/lrfinder/compare.py's cross-validated ground truth: the LR with the lowest held-out loss
    averaged over the held-out splits; tied with it, the LRs whose paired (same split) difference is within
    two standard errors over the splits. A minimum that moves from split to split on a flat curve gives a
    wide band; one that every split agrees on, a narrow one."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "lrfinder"))
    import compare

    x = np.log10(np.logspace(-4, -1, 7))                    # 7 LRs a factor ~3.2 apart
    sharp = np.array([(x - -2.5) ** 2 + 0.01 * k for k in range(4)])        # same minimum on all 4 splits
    ib, ok = compare.cv_best(sharp)
    assert ib == 3 and ok.tolist() == [False, False, False, True, False, False, False]
    # flat over 1e-3..1e-2, each split's minimum elsewhere in it (the diabetes picture)
    flat = np.array([0.5 + 0.02 * np.abs(x - c) + 0.05 * (np.abs(x - -2.5) > 1) for c in (-3, -2.5, -2, -2.5)])
    ib, ok = compare.cv_best(flat)
    assert ib == 3 and ok[2] and ok[4] and not ok[0] and not ok[-1]
    flat[1, 5] = np.inf                                       # a diverged split: never tied
    assert not compare.cv_best(flat)[1][5]


def test_lr_benchmark_pooled_grid_best_band_and_window_widening(monkeypatch):
    """benchmarks/lrfinder/splits.py's pre-registered ground truth: the LR with the lowest held-out loss
    pooled over every (split, seed) run; tied with it, the LRs whose paired difference is within two
    standard errors over the runs; a diverged run rules its LR out; and a pooled best at the window's open
    edge widens the window until the best is inside it."""
    from types import SimpleNamespace

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "lrfinder"))
    import splits as sp

    rng = np.random.default_rng(0)
    # 12 runs x 5 LRs: LR 2 is best by 0.05, LR 3 is 0.001 worse (well inside the run-to-run noise)
    base = np.array([0.60, 0.55, 0.50, 0.501, 0.70])
    runs = base + rng.normal(0, 0.02, size=(12, 1)) + rng.normal(0, 0.002, size=(12, 5))
    ib, ok = sp.pooled_best(runs)
    assert ib == 2 and ok.tolist() == [False, False, True, True, False]
    runs[4, 3] = np.inf                                   # one diverged run at LR 3: never tied, never best
    ib, ok = sp.pooled_best(runs)
    assert ib == 2 and ok.tolist() == [False, False, True, False, False]
    assert sp._band(runs, ib, np.array([1e-3, 3e-3, 1e-2, 3e-2, 1e-1])) == (1e-2, 1e-2)

    assert sp.window(3, 6, 6) == list(range(0, 10)) and sp.window(22, 2, 6) == [20, 21, 22, 23, 24]
    assert sp.at_open_edge(0, [4, 5, 6]) == -1 and sp.at_open_edge(0, [0, 1, 2]) == 0
    assert sp.at_open_edge(2, [4, 5, 6]) == 1 and sp.at_open_edge(1, [4, 5, 6]) == 0

    # a problem whose split-0 grid puts the best at grid index 12, but whose pooled loss keeps falling to
    # index 4 (8 steps below): a window of 3 steps must widen twice (to 6, then 9 below) and stop there
    true_best = 4
    curve = lambda i, k: 0.5 + 0.01 * abs(i - true_best) + 0.001 * k                    # noqa: E731
    monkeypatch.setattr(sp.compare, "grid_search", lambda p, data, seeds=sp.compare.SEEDS: np.array(
        [[0.5 + 0.01 * abs(i - 12) for i in range(len(sp.GRID))] for _ in seeds]))
    asked = []

    def fake_split_grid(p, split, idx, seeds=sp.compare.SEEDS):
        asked.append((split, idx[0], idx[-1]))
        return np.array([[curve(i, split) + 0.0001 * s for i in idx] for s in seeds])

    monkeypatch.setattr(sp, "split_grid", fake_split_grid)
    logs = []
    gt = sp.ground_truth(SimpleNamespace(name="synthetic", data=lambda split=0: None), splits=3, step=3,
                         log=logs.append)
    assert gt["best"] == pytest.approx(sp.GRID[true_best]) and gt["runs"] == 3 * len(sp.compare.SEEDS)
    assert gt["lrs"][0] == pytest.approx(sp.GRID[3]) and gt["lrs"][-1] == pytest.approx(sp.GRID[15])
    assert [a for a in asked if a[0] == 0] == [(0, 9, 15), (0, 6, 15), (0, 3, 15)]
    assert len(logs) == 2 and all("lower edge" in m for m in logs)
    assert gt["split_best"] == [pytest.approx(sp.GRID[true_best])] * 3
    assert gt["band"] == (pytest.approx(sp.GRID[true_best]), pytest.approx(sp.GRID[true_best]))


def test_lr_benchmark_bootstrap_of_the_splits_says_how_firm_the_verdict_is():
    """splits.py's stability check: resampling the held-out splits (each with all its seeds) moves the
    pooled grid-best; the share of resamples whose best is within 3x of the suggestion is 1 when every split
    agrees, 0 for a suggestion far away, and strictly between when the splits disagree around the 3x line."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "lrfinder"))
    import splits as sp

    lrs = np.logspace(-4, -1, 7)                                    # a factor ~3.2 apart
    x = np.log10(lrs)
    agree = [np.array([(x - -2.5) ** 2 + 0.01 * s for s in range(4)]) for _ in range(6)]
    assert sp.bootstrap_within3(agree, lrs, lrs[3], n=200) == 1.0
    assert sp.bootstrap_within3(agree, lrs, lrs[3] * 10, n=200) == 0.0
    # three splits put a V-shaped minimum at lrs[2], three at lrs[5] (a factor ~32 apart): the pooled best
    # is lrs[2] in the resamples with at least three of the first kind (about 2 in 3), so a suggestion
    # at lrs[2] is within 3x of some resamples' best and not of others'
    disagree = [np.array([np.abs(x - x[2 if k < 3 else 5]) + 0.01 * s for s in range(4)]) for k in range(6)]
    share = sp.bootstrap_within3(disagree, lrs, lrs[2], n=400)
    assert 0.2 < share < 0.8
    assert share == sp.bootstrap_within3(disagree, lrs, lrs[2], n=400)     # seeded: the same share again
