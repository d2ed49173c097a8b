"""Findings' summaries in Chinese: every message the rules write has a Chinese template with the
same parameters, faulty loops read in Chinese with this run's numbers, a report loaded from JSON
translates too, and the English text (the JSON contract) is what it always was."""
import ast
import json
import re
import string
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nndoctor
from nndoctor import i18n
from nndoctor.findings import Finding, Report
from nndoctor.messages import JOIN, MESSAGES, Msg, fields, join, msg, render, summary_in
from nndoctor.report.html import render_page
from nndoctor.report.terminal import render_text
from conftest import blobs, mlp, train

ROOT = Path(nndoctor.__file__).resolve().parent
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?")
ENGLISH_WORD = re.compile(r"\b(the|of|and|is|are|to|at|in|from|with|never|not)\b")


def _specs(template: str) -> dict[str, str]:
    return {name: spec for _, name, spec, _ in string.Formatter().parse(template) if name}


# ----------------------------------------------------------------------------- the catalogue
def test_every_message_has_chinese_with_the_same_parameters():
    assert len(MESSAGES) >= 90
    for mid, (en, zh) in MESSAGES.items():
        assert zh, f"{mid}: no Chinese template"
        assert fields(en) == fields(zh), (mid, fields(en), fields(zh))
        assert _specs(en) == _specs(zh), (mid, _specs(en), _specs(zh))  # numbers formatted alike
        assert en == "" or re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", zh), mid


def _message_calls(tree):
    """(ids, keyword names, line) of every msg(...)/Msg(...) call; an id may be `a if c else b`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("msg", "Msg"):
            arg = node.args[0]
            ids = []
            stack = [arg]
            while stack:
                a = stack.pop()
                if isinstance(a, ast.IfExp):
                    stack += [a.body, a.orelse]
                else:
                    assert isinstance(a, ast.Constant) and isinstance(a.value, str), ast.dump(a)
                    ids.append(a.value)
            yield ids, {k.arg for k in node.keywords}, node.lineno


def test_rules_use_known_ids_with_every_parameter_and_no_plain_text_summaries():
    used = set()
    for path in sorted((ROOT / "diagnoses").glob("*.py")):
        tree = ast.parse(path.read_text())
        for ids, kws, line in _message_calls(tree):
            for mid in ids:
                assert mid in MESSAGES, f"{path.name}:{line}: unknown message id {mid!r}"
                missing = fields(MESSAGES[mid][0]) - kws
                assert not missing, f"{path.name}:{line}: {mid} lacks {missing}"
                used.add(mid)
        # a summary written as a literal (f-)string would stay English in every language
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "finding":
                assert len(node.args) >= 2, f"{path.name}:{node.lineno}"
                summary = node.args[1]
                assert not isinstance(summary, (ast.JoinedStr, ast.Constant, ast.BinOp)), \
                    f"{path.name}:{node.lineno}: summary is plain text, not a message"
    used.add("resolved")  # doctor.py wraps a finding that cleared up
    assert '"resolved"' in (ROOT / "doctor.py").read_text()
    assert used == set(MESSAGES), f"catalogue entries no rule uses: {set(MESSAGES) - used}"


def test_fallback_to_english_never_half_and_half():
    f = Finding("dead-relu", "error", "English summary.", message="dead-relu", params={"how": "x"})  # params missing
    assert summary_in(f, "zh") == "English summary."
    f = Finding("dead-relu", "error", "English summary.", message="no-such-id", params={})
    assert summary_in(f, "zh") == "English summary."
    f = Finding("dead-relu", "error", "English summary.")  # no message at all (e.g. an older JSON report)
    assert summary_in(f, "zh") == "English summary." and f.summary_in("zh") == "English summary."
    bad_fragment = {"message": "non-finite.in-forward-of", "params": {}}
    f = Finding("non-finite", "error", "English summary.", message="non-finite",
                params={"step": 3, "place": bad_fragment})
    assert summary_in(f, "zh") == "English summary."
    with pytest.raises(KeyError):
        msg("no-such-id")


def test_fragments_joins_and_numbers_through_json():
    m = msg("unnormalized-input", layer="`0` (Linear)", reasons=join(
        [msg("unnormalized-input.scale", typical=255.0), msg("unnormalized-input.spread", spread=4.0, low=0.01,
                                                             high=float("inf"))], "; "))
    en = m.render("en")
    assert en == ("Unnormalized input to `0` (Linear): typical feature magnitude 255 (unit scale is ~1); feature "
                  "scales (root mean squares) span 4.0 decades (0.01 to inf).")
    d = json.loads(json.dumps(m.to_dict()))  # inf went through JSON as a string and formats again
    assert d["params"]["reasons"]["message"] == JOIN
    zh = render(d["message"], d["params"], "zh")
    assert zh == ("`0` (Linear) 的输入没有归一化：特征的典型幅值为 255（单位尺度约为 1）；各特征的尺度（均方根）跨越 4.0 个数量级"
                  "（从 0.01 到 inf）。")
    resolved = render("resolved", {"step": 30, "summary": m.to_dict()}, "zh")
    assert resolved.startswith("（到第 30 步已解决）`0` (Linear) 的输入")


def test_notes_translate():
    assert i18n.note("opt2 holds none of the watched model's parameters", "zh") == "opt2 不持有被监测模型的任何参数"
    assert i18n.note("something new", "zh") == "something new"
    assert i18n.note("opt2 holds none of the watched model's parameters", "en").startswith("opt2 holds")


# ----------------------------------------------------------------------------- faulty loops
def watched(model, opt, fn):
    with nndoctor.watch(model, opt) as doctor:
        fn()
    report = doctor.report()
    assert not report.internal_errors, report.internal_errors
    return report


def loop(model, opt, X, y, steps, loss_fn=F.cross_entropy):
    def run():
        for i in range(steps):
            j = (i * 32) % len(X)
            loss = loss_fn(model(X[j:j + 32]), y[j:j + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run


def _vanishing():
    m = mlp(depth=10, h=64, act=nn.Sigmoid)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    return watched(m, opt, lambda: train(m, opt, X, y, steps=40)), "vanishing-gradient"


def _step_missing():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    X, y = blobs()
    return watched(m, opt, lambda: train(m, opt, X, y, steps=20, step=False)), "optimizer-step-missing"


def _lr_too_high():
    X = torch.randn(256, 10) * torch.linspace(0.5, 2, 10)
    yr = X @ torch.randn(10, 1)
    m = nn.Linear(10, 1)
    opt = torch.optim.SGD(m.parameters(), lr=0.3)
    return watched(m, opt, loop(m, opt, X, yr, 40, loss_fn=F.mse_loss)), "learning-rate-too-high"


def _dead_relu():
    m = mlp(depth=2, h=32)
    with torch.no_grad():
        m[2].bias.fill_(-20.0)
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    X, y = blobs()
    return watched(m, opt, loop(m, opt, X, y, 40)), "dead-relu"


def _loss_mismatch():
    X, y = blobs()
    m = mlp(out=4)
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    fn = lambda o, t: nn.CrossEntropyLoss()(torch.softmax(o, 1), t)  # noqa: E731
    return watched(m, opt, loop(m, opt, X, y, 10, loss_fn=fn)), "loss-mismatch"


def _not_zeroed():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    X, y = blobs()
    return watched(m, opt, lambda: train(m, opt, X, y, steps=20, zero=False)), "gradient-not-zeroed"


# the English each loop's summary had before summaries became messages (nndoctor 0.x, commit b37745e):
# the JSON contract's text must not move
ENGLISH_BEFORE = {
    "vanishing-gradient": "The relative gradient of `0` (Linear) is 2.2e-09x that of `20` (Linear): it shrinks 8.7 "
                          "orders of magnitude over 11 layers toward the input (activations: Sigmoid).",
    "optimizer-step-missing": "20 backward passes and not one optimizer step: the parameters never changed although "
                              "gradients were reset 19 times (zero_grad() is called, step() is not).",
    "learning-rate-too-high": "Learning rate too high for optimizer0 (SGD) (lr=0.3): the loss diverges: its smoothed "
                              "value fell to 116 and is now 7.886e+14; each update moves the weights by 2.4 of their "
                              "norm (healthy ~0.001).",
    "dead-relu": "Dead ReLU units (already at initialization): `3` (ReLU) 100% of 32 never fire on the 96 "
                 "examples observed, so they get no gradient.",
    "gradient-not-zeroed": "Gradients of optimizer0 (SGD) are never reset between optimizer steps (zero_grad() is "
                           "missing or called on another object): each step applies the sum of all past gradients.",
}


@pytest.fixture(scope="module")
def faulty():
    torch.manual_seed(0)
    out = {}
    for make in (_vanishing, _step_missing, _lr_too_high, _dead_relu, _loss_mismatch, _not_zeroed):
        torch.manual_seed(0)
        report, code = make()
        out[code] = report
    return out


@pytest.mark.parametrize("code", ["vanishing-gradient", "optimizer-step-missing", "learning-rate-too-high",
                                  "dead-relu", "loss-mismatch", "gradient-not-zeroed"])
def test_faulty_loop_summary_reads_in_chinese_with_the_runs_numbers(faulty, code):
    report = faulty[code]
    f = report.get(code)
    assert f is not None and f.message and f.message.split(".")[0] == code
    zh, en = f.summary_in("zh"), f.summary_in("en")
    assert en == f.summary and CJK.search(zh), (en, zh)
    assert not ENGLISH_WORD.search(zh), zh  # no English sentence left inside
    assert set(NUMBER.findall(zh)) == set(NUMBER.findall(en)), (en, zh)  # the run's numbers, all of them
    assert NUMBER.search(en) or code == "gradient-not-zeroed", en  # (its sentence names the optimizer only)
    if code in ENGLISH_BEFORE:
        assert f.summary == ENGLISH_BEFORE[code]
    # the reports show it: terminal and HTML, live object and loaded from JSON
    flat = lambda text: re.sub(r"[\s│]", "", text)  # noqa: E731  (the panel wraps lines inside its border)
    assert flat(zh) in flat(render_text(report, lang="zh")) and flat(zh) not in flat(render_text(report, lang="en"))
    loaded = Report.from_json(report.to_json())
    g = loaded.get(code)
    assert g.summary == f.summary and g.message == f.message and g.summary_in("zh") == zh
    from html import escape
    assert escape(zh, quote=False) in render_page(loaded, lang="zh")
    assert zh not in render_page(loaded, lang="en") and escape(en, quote=False) in render_page(loaded, lang="en")


def test_json_keeps_english_summary_and_adds_message_and_params(faulty):
    d = json.loads(faulty["learning-rate-too-high"].to_json())
    f = next(x for x in d["findings"] if x["code"] == "learning-rate-too-high")
    assert f["summary"].startswith("Learning rate too high for ")
    assert f["message"] == "learning-rate-too-high" and f["params"]["lr"] == 0.3
    assert f["params"]["what"]["message"].startswith("learning-rate-too-high.")
    assert render(f["message"], f["params"], "en") == f["summary"]


def test_environment_language_reaches_the_summaries(faulty, monkeypatch):
    report = faulty["optimizer-step-missing"]
    monkeypatch.setenv("NNDOCTOR_LANG", "zh")
    text = render_text(report)
    assert "20 次反向传播，却没有一次优化器更新" in text.replace("\n", "")
    monkeypatch.setenv("NNDOCTOR_LANG", "en")
    assert "20 backward passes and not one optimizer step" in render_text(report).replace("\n", "")


def test_resolved_finding_translates():
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.0)
    X, y = blobs()

    def run():
        for i in range(60):
            if i == 30:
                for g in opt.param_groups:
                    g["lr"] = 0.1
            opt.zero_grad()
            F.cross_entropy(m(X[:32]), y[:32]).backward()
            opt.step()
    f = watched(m, opt, run).get("optimizer-step-missing")
    assert f.severity == "info" and f.summary.startswith("(resolved by step ")
    assert f.message == "resolved" and render(f.message, f.params, "en") == f.summary
    zh = f.summary_in("zh")
    assert zh.startswith("（到第 ") and "已解决）" in zh and "学习率为 0" in zh, zh


def test_every_message_renders_in_both_languages_with_sample_values():
    # a smoke render of every template with plausible values: no stray brace or bad spec
    for mid, (en, zh) in MESSAGES.items():
        specs = _specs(en)
        params = {k: (0.5 if spec else "`x`") for k, spec in specs.items()}
        assert render(mid, params, "en") is not None and render(mid, params, "zh") is not None
        assert isinstance(Msg(mid, **params).render("zh"), str)


def test_the_english_summary_fast_path_renders_what_the_general_renderer_does():
    """``str(msg)`` (str.format_map) gives the text ``render(id, _plain(params), "en")`` (string.Formatter)
    gives, for every message with numbers, NaN/Inf, numpy scalars, lists and nested fragments."""
    import random

    import numpy as np

    from nndoctor.messages import _plain

    rnd = random.Random(0)
    values = [1.5, float("nan"), float("inf"), -float("inf"), 3, 1.23e-4, "x", [1, 2.0], True, None,
              np.float32(0.1), np.float64(2.5), np.int64(7)]
    compared = 0
    for mid, (en, _) in MESSAGES.items():
        names = sorted(fields(en))
        for trial in range(12):
            params = {f: rnd.choice(values) for f in names}
            if trial % 3 == 0 and names:
                other = rnd.choice(sorted(MESSAGES))
                params[names[0]] = Msg(other, **{g: rnd.choice(values) for g in fields(MESSAGES[other][0])})
            m = Msg(mid, **params)
            try:
                ref = render(mid, _plain(m.params), "en")
            except (KeyError, ValueError, IndexError, TypeError):
                continue   # values a template's format spec does not take: str() falls back to the same error path
            assert str(m) == ref, (mid, params)
            compared += 1
    assert compared > 1000
    j = join([msg("resolved", step=3, summary="x"), msg("resolved", step=float("nan"), summary="y")], "; ")
    assert str(j) == render(JOIN, _plain(j.params), "en")
