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
