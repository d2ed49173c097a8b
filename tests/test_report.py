"""Reports people look at: HTML (escaping, plots), the exported signals, run folders, `nndoctor report`
and `nndoctor compare`, Chinese messages, TensorBoard export, the live view."""
import io
import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from torch import nn

import nndoctor
from nndoctor import i18n
from nndoctor.diagnoses import REGISTRY
from nndoctor.findings import Finding, Remedy, Report
from nndoctor.remedies import CATALOGUE
from nndoctor.report import series as series_mod
from nndoctor.report.rundir import compare_rows, load_run, save_run

from conftest import blobs

EVIL = "<script>document['title']='PWNED'</script>"


def deep_sigmoid(depth=8, seed=0):
    torch.manual_seed(seed)
    layers, w = [], 20
    for _ in range(depth):
        layers += [nn.Linear(w, 32), nn.Sigmoid()]
        w = 32
    return nn.Sequential(*layers, nn.Linear(w, 2))


def train_watched(model, steps=120, lr=0.5, **watch_kw):
    X, y = blobs(256, 20)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    with nndoctor.watch(model, opt, **watch_kw) as doctor:
        for i in range(steps):
            j = (i * 32) % 256
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(X[j:j + 32]), y[j:j + 32])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return doctor.report(), losses


@pytest.fixture(scope="module")
def vanishing():
    report, _ = train_watched(deep_sigmoid(), steps=120)
    assert "vanishing-gradient" in report.codes
    return report


# --- the exported signals -----------------------------------------------------------------------
def test_signals_show_the_vanishing_gradient(vanishing):
    s = vanishing.signals
    assert s["x"] == "step"
    assert len(s["loss"]["step"]) == 120 and s["loss"]["step"][0] == 1.0 and s["loss"]["step"][-1] == 120.0
    g = s["grad_norm"]
    linears = [str(i) for i in range(0, 17, 2)]
    assert g["layers"] == linears  # forward order, one row per layer (weights and biases combined)
    m = np.array([[np.nan if v is None else v for v in row] for row in g["value"]])
    first, last = np.nanmedian(m[0]), np.nanmedian(m[-1])
    assert first < last / 100  # the picture of vanishing gradients: the input layer's row is far darker
    r = s["update_ratio"]
    assert r["layers"] == linears and all(v is None or v >= 0 for row in r["value"] for v in row)
    assert s["saturated"]["layers"] and s["dead"]["layers"] == []   # sigmoid: no ReLU to die
    assert list(s["lr"].values())[0]["value"][0] == pytest.approx(0.5)
    assert s["loss_summary"]["points"] == 120
    json.dumps(s, allow_nan=False)  # plain numbers


def test_bin_series_keeps_spikes_and_gaps():
    x = np.arange(1000)
    y = np.ones(1000)
    y[500] = 1e6
    y[900:] = np.nan
    xs, ys = series_mod.bin_series(x, y, 100, how="max")
    assert len(xs) == 100 and np.nanmax(ys) == 1e6 and np.isnan(ys[-1])
    xs, ys = series_mod.bin_series(x, y, 100, how="mean")
    assert ys[0] == 1.0 and np.isnan(ys[-1])


def test_signals_are_bounded():
    model = nn.Sequential(*[m for _ in range(120) for m in (nn.Linear(4, 4), nn.ReLU())])
    report, _ = train_watched_small(model, steps=30)
    g = report.signals["grad_norm"]
    assert g["layers_total"] == 120 and len(g["layers"]) == series_mod.MAX_LAYERS
    assert g["layers"][0] == "0" and g["layers"][-1] == str(2 * 119)


def train_watched_small(model, steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    X = torch.randn(64, 4)
    with nndoctor.watch(model, opt) as doctor:
        for _ in range(steps):
            opt.zero_grad()
            model(X).pow(2).mean().backward()
            opt.step()
    return doctor.report(), None


def test_accumulation_maps_losses_onto_optimizer_steps():
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2))
    X, y = blobs(256, 20)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with nndoctor.watch(model, opt) as doctor:
        for i in range(60):
            for k in range(4):
                j = ((i * 4 + k) * 16) % 256
                (nn.functional.cross_entropy(model(X[j:j + 16]), y[j:j + 16]) / 4).backward()
            opt.step()
            opt.zero_grad()
    s = doctor.report().signals
    assert len(s["loss"]["step"]) == 240
    assert max(s["loss"]["step"]) <= 61 and s["loss"]["step"][-1] == pytest.approx(60, abs=1)


# --- HTML ---------------------------------------------------------------------------------------
def _page_parts(html):
    return re.findall(r"<svg\b", html), re.findall(r"<script\b", html, flags=re.I)


def test_html_page_is_self_contained_with_findings_and_plots(vanishing, tmp_path):
    path = vanishing.save_html(tmp_path / "r.html")
    html = open(path, encoding="utf-8").read()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    svgs, scripts = _page_parts(html)
    assert len(scripts) == 1  # only the copy-button script
    for cid in ("plot-loss", "plot-grad", "plot-ratio", "plot-sat"):
        assert f'id="{cid}"' in html
    assert "data-code='vanishing-gradient'" in html and "button class='copy'" in html
    # the findings come before the plots
    assert html.index("data-code='vanishing-gradient'") < html.index('id="plot-loss"')
    # each SVG is well-formed XML
    for block in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        ET.fromstring(block)
    # the finding's step is drawn on the loss plot
    assert "<title>vanishing-gradient (step" in html


def test_html_escapes_every_user_string():
    f = Finding(code="broken-gradient-flow", severity="error", step=3, where=[EVIL],
                summary=f"module {EVIL} & co", evidence={EVIL: EVIL},
                remedies=[Remedy(id="remove-detach", title=f"Keep {EVIL}", snippet=f"x = {EVIL}")])
    sig = {"x": "step", "loss": {"step": [1.0, 2.0], "value": [1.0, 0.5]},
           "grad_norm": {"layers": [EVIL], "step": [1.0, 2.0], "value": [[0.1, 0.2]], "layers_total": 1},
           "lr": {EVIL: {"step": [1.0], "value": [0.1]}},
           "val_loss": {EVIL: {"step": [1.0, 2.0], "value": [1.0, 1.1]}}}
    r = Report(findings=[f], steps=2, signals=sig, meta={"script": EVIL, "argv": [EVIL]})
    for html in (r.to_html(), r._repr_html_(), r.to_html(lang="zh")):
        assert EVIL not in html
        assert "<script>document" not in html
        assert html.count("&lt;script&gt;") >= 6
        assert len(re.findall(r"<script\b", html)) <= 1


def test_html_content_security_policy_allows_only_its_own_script(vanishing):
    import base64
    import hashlib

    html = vanishing.to_html()
    m = re.search(r"script-src 'sha256-([^']+)'", html)
    script = re.search(r"<script>(.*?)</script>", html, flags=re.S).group(1)
    assert m and m.group(1) == base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert "default-src 'none'" in html


def test_repr_html_is_a_fragment_with_plots(vanishing):
    frag = vanishing._repr_html_()
    assert frag.startswith("<div class='nnd'>") and "<html" not in frag and "<svg" in frag
    assert "<script" not in frag


def test_html_without_signals_says_so():
    r = Report(findings=[], steps=0)
    assert "No signals were recorded" in r.to_html()


# --- Chinese --------------------------------------------------------------------------------------
def test_every_code_and_remedy_has_chinese():
    assert set(i18n.CODE_ZH) == set(REGISTRY)
    assert set(i18n.REMEDY_ZH) == set(CATALOGUE)
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for code, (title, what) in i18n.CODE_ZH.items():
        assert cjk.search(title) and cjk.search(what), code
    for rid, title in i18n.REMEDY_ZH.items():
        assert cjk.search(title), rid
        # the Chinese template uses exactly the fields of the English one
        assert set(re.findall(r"\{(\w+)\}", title)) == set(re.findall(r"\{(\w+)\}", CATALOGUE[rid].title)), rid
    for key, entry in i18n.UI.items():
        assert set(entry) == {"en", "zh"}, key


def test_remedy_titles_keep_their_measured_values_in_chinese():
    r = CATALOGUE["lower-lr"].render(suggested_lr="3.2e-04")
    assert i18n.remedy_title(r.id, r.title, "zh") == "降低学习率（降到 3.2e-04）"
    r = CATALOGUE["larger-batch"].render(k=16)
    assert "16" in i18n.remedy_title(r.id, r.title, "zh")
    assert i18n.remedy_title("lower-lr", "something else entirely", "zh") == "something else entirely"
    assert i18n.remedy_title(r.id, r.title, "en") == r.title


def test_language_from_argument_and_environment(monkeypatch):
    monkeypatch.setenv("NNDOCTOR_LANG", "zh_CN.UTF-8")
    assert i18n.get_lang() == "zh" and i18n.get_lang("en") == "en"
    monkeypatch.setenv("NNDOCTOR_LANG", "klingon")
    assert i18n.get_lang() == "en"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.get_lang("klingon")


def test_chinese_report_terminal_and_html(vanishing, monkeypatch):
    from nndoctor.report.terminal import render_text

    text = render_text(vanishing, lang="zh")
    assert "梯度消失" in text and "vanishing-gradient" in text and "解决方法" in text
    assert "发现 1 个问题" in text or "发现" in text
    html = vanishing.to_html(lang="zh")
    assert "lang='zh-CN'" in html and "各层梯度范数" in html and "梯度从输出层到输入层逐层变小" in html
    monkeypatch.setenv("NNDOCTOR_LANG", "zh")
    assert "诊断结果" in vanishing.to_html()
    # JSON stays English, codes unchanged
    assert json.loads(vanishing.to_json())["findings"][0]["code"] == "vanishing-gradient"


def test_explain_in_chinese():
    out = nndoctor.explain("dead-relu", lang="zh")
    assert out.startswith("dead-relu — ") and "神经元死亡" in out and "解决方法" in out


# --- run folders ---------------------------------------------------------------------------------
def test_run_dir_round_trip(vanishing, tmp_path):
    save_run(tmp_path / "run", vanishing, meta={"script": "train.py"})
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == ["meta.json", "report.json", "signals.npz"]
    with np.load(tmp_path / "run" / "signals.npz", allow_pickle=False) as z:
        assert "__index__" in z.files and len(z.files) > 5
    back = load_run(tmp_path / "run")
    assert back.to_dict() == vanishing.to_dict()
    assert back.signals == json.loads(json.dumps(vanishing.signals))
    assert back.meta["script"] == "train.py" and back.meta["torch"] == torch.__version__
    from nndoctor.report.html import plots_html

    assert plots_html(back, "en") == plots_html(vanishing, "en")  # the same plots, re-rendered


def test_watch_run_dir_writes_at_close(tmp_path):
    report, _ = train_watched(deep_sigmoid(4), steps=30, run_dir=tmp_path / "w")
    back = load_run(tmp_path / "w")
    assert back.steps == 30 and back.codes == report.codes
    assert back.signals["loss_summary"]["points"] == 30
    assert "started" in back.meta and "ended" in back.meta


def test_load_run_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not an nndoctor run folder"):
        load_run(tmp_path / "empty")


def test_watching_with_run_dir_and_live_changes_nothing(tmp_path):
    _, plain = train_watched(deep_sigmoid(4), steps=40)
    _, both = train_watched(deep_sigmoid(4), steps=40, run_dir=tmp_path / "x", live=True)
    assert plain == both


def test_compare_rows(vanishing):
    healthy = Report(findings=[Finding("loss-not-decreasing", "info", "x", step=5)], steps=50,
                     signals={"loss_summary": {"final": 0.1, "best": 0.05}})
    rows = {r["label"]: r for r in compare_rows(vanishing, healthy)}
    assert rows["vanishing-gradient"]["status"] == "cleared" and rows["vanishing-gradient"]["a"] == "error"
    assert rows["loss-not-decreasing"]["status"] == "appeared" and rows["loss-not-decreasing"]["b"] == "info"
    assert rows["final loss"]["b"] == "0.1" and rows["steps"]["a"] == 120 and rows["steps"]["b"] == 50
    zh = {r["label"]: r for r in compare_rows(vanishing, healthy, lang="zh")}
    assert zh["vanishing-gradient"]["status_text"] == "已消除" and zh["vanishing-gradient"]["a"] == "错误"


SCRIPT = textwrap.dedent('''
    import sys, torch
    from torch import nn
    torch.manual_seed(0)
    act = nn.Sigmoid if sys.argv[1] == "sigmoid" else nn.ReLU
    layers, w = [], 20
    for _ in range(8):
        layers += [nn.Linear(w, 32), act()]
        w = 32
    model = nn.Sequential(*layers, nn.Linear(w, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.5 if sys.argv[1] == "sigmoid" else 0.05)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 20, generator=g); y = (X[:, 0] > 0).long()
    for i in range(80):
        j = (i * 32) % 256
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X[j:j + 32]), y[j:j + 32])
        loss.backward()
        opt.step()
    print("done")
''')


def cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "nndoctor", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def test_cli_run_report_compare(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    p = cli("run", "--run-dir", tmp_path / "a", "--html", tmp_path / "a.html", "--quiet", script, "sigmoid")
    assert p.returncode == 0 and p.stdout == "done\n", p.stderr
    p = cli("run", "--run-dir", tmp_path / "b", "--live", "--lang", "zh", script, "relu")
    assert p.returncode == 0 and p.stdout == "done\n", p.stderr
    # the live panel's final state, in Chinese, then the report on its own line
    assert "nndoctor（实时）" in p.stderr and re.search(r"步\s+80\s+\(80 次反向传播\)", p.stderr)
    assert "╯\n" in p.stderr
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert meta["script"].endswith("train.py") and meta["argv"] == ["sigmoid"] and meta["exit_code"] == 0
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    assert "vanishing-gradient" in [f["code"] for f in a["findings"]]
    # re-render: JSON identical to the run's, HTML like the run's
    p = cli("report", tmp_path / "a", "--json", tmp_path / "again.json", "--html", tmp_path / "again.html", "--quiet")
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "again.json").read_text()) == a
    assert (tmp_path / "again.html").read_text() == (tmp_path / "a.html").read_text()
    p = cli("report", tmp_path / "a", "--lang", "zh", "--tensorboard", tmp_path / "tb")
    assert "梯度消失" in p.stderr and list((tmp_path / "tb").glob("events.out.tfevents.*"))
    p = cli("report", tmp_path / "b", "--quiet", "--html", tmp_path / "b.html")   # B was run with --lang zh
    assert "lang='zh-CN'" in (tmp_path / "b.html").read_text()
    # compare: the vanishing gradient of A is cleared in B
    p = cli("compare", tmp_path / "a", tmp_path / "b", "--html", tmp_path / "cmp.html")
    assert p.returncode == 0, p.stderr
    line = next(l for l in p.stdout.splitlines() if "vanishing-gradient" in l)
    assert "error" in line and "cleared" in line
    assert "final loss" in p.stdout and "best loss" in p.stdout
    html = (tmp_path / "cmp.html").read_text()
    assert html.count("<polyline class=\"series\"") >= 2 and 'id="plot-compare"' in html
    assert re.search(r"<tr data-status='cleared'><td>vanishing-gradient</td><td>error</td><td>–</td>", html)
    p = cli("report", tmp_path / "missing")
    assert p.returncode == 2 and "no such run folder" in p.stderr


# --- TensorBoard -------------------------------------------------------------------------------
def test_tensorboard_export_reads_back(vanishing, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from nndoctor.report.tensorboard import write_tensorboard

    write_tensorboard(vanishing, tmp_path / "tb")
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert "loss" in scalars and any(t.startswith("lr/") for t in scalars)
    assert "grad_norm/0" in scalars and "update_ratio/16" in scalars and any(t.startswith("saturated/") for t in scalars)
    loss = acc.Scalars("loss")
    assert len(loss) == len([v for v in vanishing.signals["loss"]["value"] if v is not None])
    assert loss[0].value == pytest.approx(vanishing.signals["loss"]["value"][0], rel=1e-6)
    texts = acc.Tags()["tensors"]
    assert "findings/vanishing-gradient/text_summary" in texts
    ev = acc.Tensors("findings/vanishing-gradient/text_summary")[0]
    assert ev.step == vanishing.get("vanishing-gradient").step
    assert b"vanishing" in ev.tensor_proto.string_val[0] or b"error" in ev.tensor_proto.string_val[0]


# --- live view -----------------------------------------------------------------------------------
def test_live_view_refreshes_at_the_flush_cadence_only():
    from rich.console import Console

    from nndoctor.report.live import LiveView

    buf = io.StringIO()
    view = LiveView(console=Console(file=buf, force_terminal=True, width=100), notebook=False)
    view_calls = []
    orig = view.update

    def counting(doctor):
        view_calls.append(doctor.step)
        orig(doctor)
    view.update = counting
    model = deep_sigmoid(4)
    X, y = blobs(256, 20)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    doctor = nndoctor.watch(model, opt, every=10)
    view.attach(doctor)
    for i in range(60):
        j = (i * 32) % 256
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[j:j + 32]), y[j:j + 32]).backward()
        opt.step()
    doctor.close()
    assert 1 <= len(view_calls) <= 60 // 10 + 3   # flushes (steps 3, 5 and every 10th) and the close
    assert all(s in (3, 5) or s % 10 == 0 for s in view_calls[:-1])
    out = buf.getvalue()
    assert "nndoctor (live)" in out and "loss" in out


def test_live_view_notebook_html_is_escaped():
    from nndoctor.report.live import LiveView

    view = LiveView(notebook=True)
    html = view.html({"step": 3, "backward": 3, "loss": 1.0, "best": 0.5, "lr": {EVIL: 0.1},
                      "findings": [("dead-relu", "warning", 2)]})
    assert EVIL not in html and "&lt;script&gt;" in html and "dead-relu" in html


def test_live_view_in_a_notebook_updates_one_display(monkeypatch):
    pytest.importorskip("IPython")
    import IPython.display as ipd

    from nndoctor.report.live import LiveView

    shown, updated = [], []

    class Handle:
        def update(self, obj):
            updated.append(obj.data)

    def display(obj, display_id=None):
        shown.append((obj.data, display_id))
        return Handle()
    monkeypatch.setattr(ipd, "display", display)
    view = LiveView(notebook=True)
    model = deep_sigmoid(4)
    X, y = blobs(256, 20)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    doctor = nndoctor.watch(model, opt, every=10)
    view.attach(doctor)
    for i in range(40):
        j = (i * 32) % 256
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[j:j + 32]), y[j:j + 32]).backward()
        opt.step()
    doctor.close()
    assert len(shown) == 1 and shown[0][1] is True     # one display, then updated in place
    assert len(updated) == view.updates - 1 >= 1
    assert "40 (40 backward)" in updated[-1]


def test_watch_lang_sets_the_report_language(monkeypatch):
    monkeypatch.delenv("NNDOCTOR_LANG", raising=False)
    report, _ = train_watched(deep_sigmoid(4), steps=20, lang="zh")
    assert report.lang == "zh" and "步" in str(report) and "lang='zh-CN'" in report.to_html()
    assert "lang='en'" in report.to_html(lang="en")
    with pytest.raises(ValueError, match="unknown language"):
        nndoctor.watch(deep_sigmoid(2), lang="fr")


def test_html_overview_links_each_finding(vanishing):
    html = vanishing.to_html()
    assert "<ul class='overview'>" in html and "href='#finding-0'" in html and "id='finding-0'" in html


def test_html_shows_repair_mode_attempts_with_their_code_changes():
    """`--fix --html`: each attempt with its outcome, remedy, why, what it did and its evidence, and the code change
    to make (a kept repair's permanent form, a report-only finding's fix); none for a cut a clip replaced."""
    from nndoctor.report.html import render_page
    reps = [{"code": "exploding-gradient", "remedy": "lower-lr", "step": 3, "outcome": "replaced",
             "why": "kept until step 44, then replaced by clip-grad-norm", "action": {"factor": 0.1}},
            {"code": "exploding-gradient", "remedy": "clip-grad-norm", "step": 44, "outcome": "cleared",
             "replaces": "the lower-lr of step 3", "action": {"max_norm": 0.91, "lr_cut_taken_back": [0.004]},
             "evidence": {"loss_before": {"median": 0.55}, "loss_after": {"median": 0.28}},
             "permanent_fix": "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.91)"},
            {"code": "loss-mismatch", "outcome": "report only", "why": "a code change <b>only</b>",
             "permanent_fix": "loss_fn = nn.CrossEntropyLoss()"}]
    html = render_page(Report(steps=100, backward_passes=100, repairs=reps), lang="en")
    assert "id='repairs'" in html and html.index("id='findings'") < html.index("id='repairs'")
    for outcome in ("replaced", "cleared", "report only"):
        assert f"data-outcome='{outcome}'" in html
    assert "clip_grad_norm_(model.parameters(), max_norm=0.91)" in html and "the code change that makes it permanent" in html
    assert "nn.CrossEntropyLoss()" in html and "the code change to make" in html
    assert html.count("<pre><code>") == 2, "no code change for the replaced cut"
    assert "action.lr_cut_taken_back" in html and "evidence.loss_after" in html and "the lower-lr of step 3" in html
    assert "<b>only</b>" not in html and "&lt;b&gt;only" in html
    zh = render_page(Report(steps=100, backward_passes=100, repairs=reps), lang="zh")
    assert "修复（修复模式）" in zh and "让修复永久生效的代码修改" in zh
    assert "id='repairs'" not in render_page(Report(steps=1, backward_passes=1), lang="en"), "plain watching: no section"
