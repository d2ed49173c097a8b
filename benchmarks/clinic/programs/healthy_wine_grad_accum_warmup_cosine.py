"""Wine classifier trained by a callback Trainer with gradient accumulation, grad clipping, warmup and cosine decay to ~0.
expect: healthy
trap: zero_grad only every 4th backward (gradient accumulation); LR ramps from 1% and decays to ~1e-6 at the end; clip_grad_norm_ on every step; converged model with tiny gradients and tiny updates at the end

A correct small-batch recipe.  Micro-batches of 8 rows; the `GradAccum` callback lets
gradients add up over 4 backward passes and only then clips, steps and zeroes, so grads
grow for 3 backward calls and reset on the 4th (by design, not gradient-not-zeroed).  The
`WarmupCosine` callback sets the LR per optimizer step: a linear warmup from 1% of the
peak over the first 30 steps (first updates are small, first grads are the largest of the
run) and a cosine decay ending near 1e-6 (the last updates are tiny on purpose: not
learning-rate-too-low).  The model fits the 133 training rows to ~zero loss, so
gradients at the end are small because the model converged, not vanishing.
Measured: val_acc=1.0000   (val_nll 0.0017; seed 1: 0.9778; seed 2: 0.9778)
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

CONFIG = {
    "micro_bs": 8, "accum": 4, "epochs": 60, "peak_lr": 3e-3, "warmup_steps": 30,
    "final_lr": 1e-6, "clip": 1.0, "hidden": 64, "wd": 1e-2,
}


class Callback:
    order = 0
    def before_fit(self, t): pass
    def before_backward(self, t): pass
    def after_backward(self, t): pass
    def after_epoch(self, t): pass


class GradAccum(Callback):
    """Step the optimizer only every `n` micro-batches."""
    order = 10

    def __init__(self, n, clip):
        self.n, self.clip = n, clip

    def before_fit(self, t):
        self.count = 0
        t.opt.zero_grad()

    def before_backward(self, t):
        t.loss_for_backward = t.loss / self.n

    def after_backward(self, t):
        self.count += 1
        if self.count % self.n == 0:
            t.scheduler_hook()
            nn.utils.clip_grad_norm_(t.model.parameters(), self.clip)
            t.opt.step()
            t.opt.zero_grad()
            t.n_steps += 1


class WarmupCosine(Callback):
    def __init__(self, peak, warmup, final):
        self.peak, self.warmup, self.final = peak, warmup, final

    def before_fit(self, t):
        self.total = t.total_opt_steps
        t.scheduler_hook = lambda: self.set_lr(t)

    def set_lr(self, t):
        s = t.n_steps
        if s < self.warmup:
            lr = self.peak * (0.01 + 0.99 * s / self.warmup)
        else:
            p = (s - self.warmup) / max(1, self.total - self.warmup)
            lr = self.final + 0.5 * (self.peak - self.final) * (1 + math.cos(math.pi * min(p, 1.0)))
        for g in t.opt.param_groups:
            g["lr"] = lr
        t.lr = lr


class Logger(Callback):
    def __init__(self, xv, yv):
        self.xv, self.yv = xv, yv

    def after_epoch(self, t):
        if (t.epoch + 1) % 15 == 0:
            t.model.eval()
            with torch.no_grad():
                acc = (t.model(self.xv).argmax(1) == self.yv).float().mean().item()
            t.model.train()
            print(f"epoch {t.epoch+1:3d}  loss {np.mean(t.epoch_losses):.4f}  lr {t.lr:.2e}  val_acc {acc:.4f}")


class Trainer:
    def __init__(self, model, opt, dl, cbs):
        self.model, self.opt, self.dl = model, opt, dl
        self.cbs = sorted(cbs, key=lambda c: c.order)
        self.n_steps, self.lr = 0, opt.param_groups[0]["lr"]
        self.scheduler_hook = lambda: None

    def _cb(self, name):
        for c in self.cbs:
            getattr(c, name)(self)

    def fit(self, epochs, accum):
        self.total_opt_steps = epochs * len(self.dl) // accum
        self.model.train()
        self._cb("before_fit")
        for self.epoch in range(epochs):
            self.epoch_losses = []
            for xb, yb in self.dl:
                self.loss = F.cross_entropy(self.model(xb), yb)
                self.loss_for_backward = self.loss
                self._cb("before_backward")
                self.loss_for_backward.backward()
                self._cb("after_backward")
                self.epoch_losses.append(self.loss.item())
            self._cb("after_epoch")


def main():
    X, y = load_wine(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    t = lambda a: torch.tensor((a - mu) / sd, dtype=torch.float32)
    xtr, xva = t(Xtr), t(Xva)
    ytr_t, yva_t = torch.tensor(ytr), torch.tensor(yva)
    g = torch.Generator().manual_seed(SEED)
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr_t),
                                     batch_size=CONFIG["micro_bs"], shuffle=True, drop_last=True,
                                     generator=g)
    h = CONFIG["hidden"]
    model = nn.Sequential(nn.Linear(13, h), nn.GELU(), nn.Linear(h, h), nn.GELU(), nn.Linear(h, 3))
    opt = torch.optim.AdamW(model.parameters(), lr=CONFIG["peak_lr"], weight_decay=CONFIG["wd"])
    cbs = [GradAccum(CONFIG["accum"], CONFIG["clip"]),
           WarmupCosine(CONFIG["peak_lr"], CONFIG["warmup_steps"], CONFIG["final_lr"]),
           Logger(xva, yva_t)]
    trainer = Trainer(model, opt, dl, cbs)
    trainer.fit(CONFIG["epochs"], CONFIG["accum"])

    model.eval()
    with torch.no_grad():
        logits = model(xva)
        acc = (logits.argmax(1) == yva_t).float().mean().item()
        nll = F.cross_entropy(logits, yva_t).item()
    print(f"val_nll {nll:.4f}  optimizer steps {trainer.n_steps}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
