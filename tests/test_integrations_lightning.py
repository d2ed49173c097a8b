"""nndoctor inside a real Lightning Trainer: healthy runs with Lightning's normal machinery (sanity
check, validation under inference_mode, closures around optimizer.step, gradient accumulation and
clipping, bf16-mixed, manual optimization, LR schedulers, two optimizers) stay quiet; faulty ones
get the right code, in the report and in Lightning's logger."""
import logging

import pytest
import torch
from torch import nn

L = pytest.importorskip("lightning")

from nndoctor.integrations.lightning import DoctorCallback  # noqa: E402
from nndoctor.probes import tap  # noqa: E402


class Net(L.LightningModule):
    def __init__(self, lr=0.05, softmax=False, manual=False, crash_at=None):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
        self.lr, self.softmax, self.crash_at = lr, softmax, crash_at
        self.automatic_optimization = not manual

    def forward(self, x):
        out = self.net(x)
        return out.softmax(-1) if self.softmax else out

    def training_step(self, batch, i):
        if self.crash_at is not None and self.global_step >= self.crash_at:
            raise RuntimeError("boom")
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        if not self.automatic_optimization:
            opt = self.optimizers()
            opt.zero_grad()
            self.manual_backward(loss)
            opt.step()
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, i):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, 50, 0.5)]


class GAN(L.LightningModule):
    """Two optimizers (manual optimization, the Lightning way for GANs)."""

    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.gen = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 20))
        self.disc = nn.Sequential(nn.Linear(20, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def training_step(self, batch, i):
        x, _ = batch
        og, od = self.optimizers()
        bce = nn.functional.binary_cross_entropy_with_logits
        fake = self.gen(torch.randn(len(x), 8))
        d_loss = bce(self.disc(x), torch.ones(len(x), 1)) + bce(self.disc(fake.detach()), torch.zeros(len(x), 1))
        od.zero_grad()
        self.manual_backward(d_loss)
        od.step()
        g_loss = bce(self.disc(fake), torch.ones(len(x), 1))
        og.zero_grad()
        self.manual_backward(g_loss)
        og.step()

    def configure_optimizers(self):
        return (torch.optim.Adam(self.gen.parameters(), 2e-4, betas=(0.5, 0.999)),
                torch.optim.Adam(self.disc.parameters(), 2e-4, betas=(0.5, 0.999)))


def _loaders():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1024, 20, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32, shuffle=True, generator=g)
    vl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:256], y[:256]), batch_size=64)
    return tl, vl


def _fit(model, epochs=6, **kw):
    torch.manual_seed(0)
    cb = DoctorCallback(verbose=False)
    args = dict(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                enable_model_summary=False, accelerator="cpu", devices=1)
    args.update(kw)
    tl, vl = _loaders()
    L.Trainer(callbacks=[cb], **args).fit(model, tl, vl)
    assert tap.active_count() == 0, "the doctor must be closed when fit ends"
    return cb.report


def _alarms(report):
    return [(f.code, f.severity, f.summary) for f in report.findings if f.severity != "info"]


@pytest.mark.parametrize("variant", ["plain", "accumulate_clip", "bf16", "manual"])
def test_healthy_lightning_runs_are_quiet(variant):
    kw, model = {}, Net(manual=variant == "manual")
    if variant == "accumulate_clip":
        kw = dict(accumulate_grad_batches=4, gradient_clip_val=1.0)
    if variant == "bf16":
        kw = dict(precision="bf16-mixed")
    r = _fit(model, **kw)
    assert r.steps == (48 if variant == "accumulate_clip" else 192)  # Lightning's closures: every step seen
    assert r.backward_passes == 192
    assert _alarms(r) == []
    assert r.internal_errors == []


def test_two_optimizers_gan_is_quiet():
    r = _fit(GAN(), epochs=3)
    assert r.steps == 96 and r.backward_passes == 192
    assert _alarms(r) == [] and r.internal_errors == []


def test_softmax_into_cross_entropy_is_found_and_logged():
    seen = []

    class H(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    lg = logging.getLogger("lightning.pytorch.callbacks.nndoctor")
    h = H()
    lg.addHandler(h)
    try:
        r = _fit(Net(softmax=True), epochs=2)
    finally:
        lg.removeHandler(h)
    assert "loss-mismatch" in r.codes
    assert any("loss-mismatch" in m for m in seen)


def test_learning_rate_far_too_high_is_found():
    r = _fit(Net(lr=20.0), epochs=3)
    assert {"non-finite", "exploding-gradient"} & set(r.codes)
    assert r.get("non-finite") is not None and r.get("non-finite").severity == "error"


def test_counts_go_to_the_trainer_logger_and_a_crash_closes_the_doctor():
    from lightning.pytorch.loggers import Logger

    class Capture(Logger):
        def __init__(self):
            super().__init__()
            self.metrics = []

        @property
        def name(self):
            return "capture"

        @property
        def version(self):
            return 0

        def log_metrics(self, metrics, step=None):
            self.metrics.append(dict(metrics))

        def log_hyperparams(self, *a, **k):
            pass

    lg = Capture()
    r = _fit(Net(softmax=True), epochs=2, logger=lg)
    assert any(m.get("nndoctor/warnings", 0) + m.get("nndoctor/errors", 0) >= 1 for m in lg.metrics)
    assert "loss-mismatch" in r.codes

    cb = DoctorCallback(verbose=False)
    tl, vl = _loaders()
    with pytest.raises(RuntimeError, match="boom"):
        L.Trainer(callbacks=[cb], max_epochs=2, logger=False, enable_checkpointing=False,
                  enable_progress_bar=False, enable_model_summary=False,
                  accelerator="cpu").fit(Net(crash_at=5), tl, vl)
    assert tap.active_count() == 0
    # the 6th step() entered Lightning's closure, whose training_step raised before backward
    assert cb.report is not None and cb.report.backward_passes == 5


def test_pytorch_lightning_package_too():
    pl = pytest.importorskip("pytorch_lightning")
    from nndoctor.integrations.pytorch_lightning import DoctorCallback as PLDoctorCallback

    class PNet(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 2))

        def training_step(self, batch, i):
            x, y = batch
            return nn.functional.cross_entropy(self.net(x).softmax(-1), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.05)

    cb = PLDoctorCallback(verbose=False)
    tl, _ = _loaders()
    pl.Trainer(callbacks=[cb], max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
               enable_model_summary=False, accelerator="cpu").fit(PNet(), tl)
    assert "loss-mismatch" in cb.report.codes


SCRIPT = '''
import sys, torch
import lightning as L
from torch import nn
soft = len(sys.argv) > 1 and sys.argv[1] == "softmax"
class Net(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
    def training_step(self, batch, i):
        x, y = batch
        out = self.net(x)
        return nn.functional.cross_entropy(out.softmax(-1) if soft else out, y)
    def validation_step(self, batch, i):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))
    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
g = torch.Generator().manual_seed(0)
X = torch.randn(1024, 20, generator=g); y = (X[:, 0] + X[:, 1] > 0).long()
tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32, shuffle=True, generator=g)
vl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:256], y[:256]), batch_size=64)
L.Trainer(max_epochs=4, logger=False, enable_checkpointing=False, enable_progress_bar=False,
          enable_model_summary=False, accelerator="cpu", precision="bf16-mixed", accumulate_grad_batches=2,
          gradient_clip_val=1.0).fit(Net(), tl, vl)
'''


@pytest.mark.parametrize("fault", ["healthy", "softmax"])
def test_nndoctor_run_on_an_unmodified_lightning_script(tmp_path, fault):
    from nndoctor.runner import run_script

    path = tmp_path / "train_lightning.py"
    path.write_text(SCRIPT)
    code, r = run_script(str(path), [fault], quiet=True)
    assert code == 0
    assert r.steps == 64 and r.backward_passes == 128   # discovered: the LightningModule and its optimizer
    alarms = [f.code for f in r.findings if f.severity != "info"]
    assert alarms == ([] if fault == "healthy" else ["loss-mismatch"]) and r.internal_errors == []
