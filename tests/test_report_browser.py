"""The HTML report as a person sees it: headless Chromium renders the page of a clinic run (the DOM
after scripts ran), and a model with a module named like a script tag renders inert.

Skips where no Chromium is installed (CI installs Debian's `chromium`: scripts/test.sh)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import nndoctor

ROOT = Path(__file__).resolve().parents[1]
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome", "chrome")
                if shutil.which(b)), None)
if BROWSER is None and os.environ.get("NNDOCTOR_REQUIRE_BROWSER"):  # CI installed it: a skip would hide a failure
    raise RuntimeError("NNDOCTOR_REQUIRE_BROWSER is set but no chromium was found on PATH")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (apt-get install chromium)")

# a module name that is a script: if it ever reached the page unescaped, it would set the title
EVIL = "<script>document['title']='PWNED'</script>"
EVIL_IMG = "<img src=x onerror=\"document['body']['setAttribute']('data-pwned','1')\">"


def chromium(args: list[str], tmp_path: Path, timeout: int = 90) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def dump_dom(path: Path, tmp_path: Path) -> str:
    p = chromium(["--dump-dom", path.resolve().as_uri()], tmp_path)
    assert p.returncode == 0 and "<html" in p.stdout, p.stderr[-2000:]
    return p.stdout


def title_of(dom: str) -> str:
    m = re.search(r"<title>(.*?)</title>", dom, flags=re.S)
    return m.group(1) if m else ""


def test_clinic_run_renders_findings_and_plots(tmp_path):
    program = ROOT / "benchmarks/clinic/programs/faulty_vanishing-gradient_deep_sigmoid_digits.py"
    html = tmp_path / "report.html"
    p = subprocess.run([sys.executable, "-m", "nndoctor", "run", "--max-steps", "60", "--quiet", "--html", str(html),
                        str(program)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = dump_dom(html, tmp_path)
    # the finding, first, with its remedies and copy buttons
    assert "data-code=\"vanishing-gradient\"" in dom
    assert dom.index("data-code=\"vanishing-gradient\"") < dom.index('id="plot-loss"')
    assert len(re.findall(r'<button class="copy"', dom)) >= 3
    # the plots, drawn: a loss polyline with points, a heatmap of cells, the finding's marker
    for cid in ("plot-loss", "plot-grad", "plot-ratio"):
        assert f'id="{cid}"' in dom
    loss_svg = re.search(r'<svg[^>]*id="plot-loss".*?</svg>', dom, flags=re.S).group(0)
    pts = re.search(r'<polyline class="series"[^>]*points="([^"]+)"', loss_svg).group(1).split()
    assert len(pts) >= 50
    grad_svg = re.search(r'<svg[^>]*id="plot-grad".*?</svg>', dom, flags=re.S).group(0)
    assert len(re.findall(r'<rect class="cell"', grad_svg)) >= 10
    assert "vanishing-gradient (step" in loss_svg
    # a screenshot renders (a person would see a page, not an error)
    shot = tmp_path / "page.png"
    p = chromium(["--hide-scrollbars", "--window-size=1000,1600", f"--screenshot={shot}", html.resolve().as_uri()],
                 tmp_path)
    assert shot.exists() and shot.stat().st_size > 20_000, p.stderr[-2000:]


class Evil(nn.Module):
    def __init__(self):
        super().__init__()
        self.add_module(EVIL, nn.Linear(8, 16))
        self.add_module(EVIL_IMG, nn.Linear(16, 1))
        self.unused = nn.Linear(8, 8)   # never called: a finding that names modules

    def forward(self, x):
        return getattr(self, EVIL_IMG)(torch.relu(getattr(self, EVIL)(x)))


def _evil_report():
    torch.manual_seed(0)
    model = Evil()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    X = torch.randn(64, 8)
    y = X[:, :1] * 2
    with nndoctor.watch(model, opt) as doctor:
        for _ in range(30):
            opt.zero_grad()
            nn.functional.mse_loss(model(X), y).backward()
            opt.step()
    return doctor.report()


def test_a_module_named_like_a_script_is_inert(tmp_path):
    report = _evil_report()
    assert report.findings, "the malicious model should produce a finding naming its modules"
    assert EVIL in report.signals["grad_norm"]["layers"]
    html = tmp_path / "evil.html"
    report.save_html(html)
    dom = dump_dom(html, tmp_path)
    assert title_of(dom).startswith("nndoctor report")
    assert "PWNED" not in title_of(dom)
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert len(re.findall(r"<script\b", dom)) == 1      # only the page's own script
    assert len(re.findall(r"<img\b", dom)) == 0
    assert "&lt;script&gt;document['title']='PWNED'&lt;/script&gt;" in dom  # shown as text


def test_the_inertness_check_can_fail(tmp_path):
    """Control: the same payload written raw into a page does run in this browser, so the test above
    would catch an escaping bug."""
    raw = tmp_path / "raw.html"
    raw.write_text(f"<!DOCTYPE html><html><head><title>ok</title></head><body>{EVIL}{EVIL_IMG}</body></html>")
    dom = dump_dom(raw, tmp_path)
    assert title_of(dom) == "PWNED" and re.search(r"<body[^>]*data-pwned=\"1\"", dom)
