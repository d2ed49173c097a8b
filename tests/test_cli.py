"""`nndoctor run` on unmodified scripts: output and exit code unchanged, crashes still reported."""
import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import sys
    import torch
    from torch import nn

    def main(steps, zero):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        X = torch.randn(64, 8); y = X[:, :1] * 2
        for i in range(steps):
            if zero:
                opt.zero_grad()
            loss = nn.functional.mse_loss(model(X), y)
            loss.backward()
            opt.step()
        print(f"final loss {loss.item():.4f}")

    if __name__ == "__main__":
        mode = sys.argv[1]
        main(40, zero=(mode != "nozero"))
        if mode == "crash":
            raise ValueError("boom")
        if mode == "exit3":
            sys.exit(3)
''')


def run(tmp_path, *args, script=SCRIPT):
    path = tmp_path / "train.py"
    path.write_text(script)
    out = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "nndoctor", "run", "--json", str(out), *args[:-1], str(path),
                        args[-1]], capture_output=True, text=True, timeout=120)
    report = json.loads(out.read_text()) if out.exists() else None
    return p, report


def plain(tmp_path, mode):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(path), mode], capture_output=True, text=True, timeout=120)


def test_run_keeps_stdout_and_exit_code(tmp_path):
    p, report = run(tmp_path, "exit3")
    ref = plain(tmp_path, "exit3")
    assert p.returncode == ref.returncode == 3
    assert p.stdout == ref.stdout  # the report goes to stderr
    assert report["schema"] == "nndoctor.report/1" and report["steps"] == 40
    assert report["findings"] == []
    assert "healthy" in p.stderr


def test_run_diagnoses_an_unmodified_script(tmp_path):
    p, report = run(tmp_path, "nozero")
    assert p.returncode == 0
    codes = [f["code"] for f in report["findings"]]
    assert codes == ["gradient-not-zeroed"]
    assert "gradient-not-zeroed" in p.stderr


RAW_TENSORS = textwrap.dedent('''
    import sys
    import torch

    torch.manual_seed(0)
    X = torch.randn(256, 10)
    t = X @ torch.randn(10) * 30 + 100          # unscaled targets
    w = torch.zeros(10, requires_grad=True)     # no nn.Module anywhere: plain tensors
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=float(sys.argv[1]), momentum=0.9)
    for step in range(150):
        loss = ((X @ w + b - t) ** 2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    print("final", loss.item())
''')


# (at lr=3 the first SGD steps move w by far more than its norm and the loss jumps by decades before it turns
# NaN: the learning-rate rule's early blow-up, judged on steps 1-5, names the cause as well)
@pytest.mark.parametrize("lr, codes", [("0.01", set()),
                                       ("3", {"exploding-gradient", "non-finite", "learning-rate-too-high"})])
def test_run_watches_an_optimizer_over_plain_tensors(tmp_path, lr, codes):
    """A script with no nn.Module: the optimizer over requires_grad tensors is the training, and is
    watched (steps counted, the divergence named), with numpy's warnings about inf kept quiet."""
    p, report = run(tmp_path, lr, script=RAW_TENSORS)
    assert p.returncode == 0 and report["steps"] == 150
    alarms = {f["code"] for f in report["findings"] if f["severity"] in ("warning", "error")}
    assert alarms == codes
    assert "RuntimeWarning" not in p.stderr


def test_run_searches_only_the_scripts_objects_and_restores_the_collector(tmp_path, capsys):
    # `nndoctor run` freezes the heap from before the script (gc.freeze) so that finding its models
    # walks only what the script created; the script's model is found, its objects are collected as
    # usual, and the collector is as it was afterwards (in the crash path too); a freeze made by
    # somebody else is left alone
    import gc

    from nndoctor.runner import run_script

    path = tmp_path / "train.py"
    path.write_text(SCRIPT.replace('print(f"final loss {loss.item():.4f}")',
                                   'print(f"final loss {loss.item():.4f}"); import gc; print("frozen", gc.get_freeze_count() > 0)'))
    for mode in ("nozero", "crash"):
        before = gc.get_freeze_count()
        code, report = run_script(str(path), [mode], quiet=True)
        assert gc.get_freeze_count() == before == 0
        assert "frozen True" in capsys.readouterr().out   # while the script ran
        assert report.steps == 40                      # the model and its optimizer were found
        assert [f.code for f in report.findings] == ([] if mode == "crash" else ["gradient-not-zeroed"])
        assert code == (1 if mode == "crash" else 0)
    gc.freeze()
    try:
        n = gc.get_freeze_count()
        code, report = run_script(str(path), ["nozero"], quiet=True)
        assert gc.get_freeze_count() > n // 2      # not undone by us (objects freed meanwhile leave it)
        assert [f.code for f in report.findings] == ["gradient-not-zeroed"]
    finally:
        gc.unfreeze()


def test_run_reports_even_when_the_script_crashes(tmp_path):
    p, report = run(tmp_path, "crash")
    assert p.returncode == 1
    assert "ValueError: boom" in p.stderr
    assert report is not None and report["steps"] == 40


def test_max_steps_stops_the_script(tmp_path):
    p, report = run(tmp_path, "--max-steps", "7", "ok")
    assert p.returncode == 0
    assert report["steps"] == 7
    assert "final loss" not in p.stdout
    assert any("--max-steps" in n for n in report.get("notes", []))


def test_stop_on_ends_a_diagnosed_run_early_and_leaves_a_healthy_one_alone(tmp_path):
    p, report = run(tmp_path, "--stop-on", "gradient-not-zeroed", "nozero")
    assert p.returncode == 3, p.stderr[-2000:]
    assert "final loss" not in p.stdout  # the script did not run to its end
    assert report["steps"] < 40
    assert any(f["code"] == "gradient-not-zeroed" for f in report["findings"])
    assert any("--stop-on" in n and "gradient-not-zeroed" in n for n in report.get("notes", []))
    p, report = run(tmp_path, "--stop-on", "error,warning", "ok")
    assert p.returncode == 0 and "final loss" in p.stdout and report["steps"] == 40
    p = subprocess.run([sys.executable, "-m", "nndoctor", "run", "--stop-on", "nan-loss", str(tmp_path / "train.py")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "neither a severity" in p.stderr


def test_missing_script(tmp_path):
    p = subprocess.run([sys.executable, "-m", "nndoctor", "run", str(tmp_path / "nope.py")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "no such script" in p.stderr


@pytest.mark.parametrize("code", ["vanishing-gradient", "broken-gradient-flow", "non-finite"])
def test_explain(code):
    p = subprocess.run([sys.executable, "-m", "nndoctor", "explain", code], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0
    assert code in p.stdout and "Remedies" in p.stdout and "Healthy patterns" in p.stdout


def test_explain_unknown_code():
    p = subprocess.run([sys.executable, "-m", "nndoctor", "explain", "nope"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "unknown diagnosis code" in p.stderr


def test_list():
    p = subprocess.run([sys.executable, "-m", "nndoctor", "list"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "gradient-not-zeroed" in p.stdout
