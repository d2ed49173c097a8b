"""Synthetic-regression trainer with a multi-head ensemble whose hand-written inverse-sqrt LR schedule uses max() instead of min(), so the LR keeps growing after warmup.
expect: learning-rate-too-high
allow: exploding-gradient, loss-not-decreasing

The LRWarmupInvSqrt hook sets every param_group's lr by hand before each step with the usual
"Noam" rule lr = peak * min(step / warmup, sqrt(warmup / step)). Here it was written with
max(), so the schedule is inverted: it starts at 5x the peak (sqrt branch), touches the peak
at the end of warmup, and from then on the linear branch wins and the LR keeps rising, ending
about 11x above the intended peak (0.11 for AdamW). The training loss stops improving and
jumps around after the first ~100 steps and the validation MSE drifts back up.
Measured: faulty val_mse=0.1285 vs fixed val_mse=0.0299
"""
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)

CONFIG = {
    "arch": "ensemble_mlp",
    "hidden": 64,
    "n_heads": 4,
    "peak_lr": 0.01,
    "weight_decay": 1e-4,
    "warmup_steps": 25,
    "batch_size": 32,
    "accum_steps": 2,
    "epochs": 12,
    "clip_norm": 5.0,
}


class SensorDataset(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        return {"features": self.x[idx], "target": self.y[idx]}


def make_splits(n=2000, n_features=8):
    # seeded synthetic "sensor" regression task: smooth nonlinear response plus noise
    x = torch.randn(n, n_features) * torch.linspace(0.5, 3.0, n_features) + torch.linspace(-2.0, 5.0, n_features)
    z = (x - torch.linspace(-2.0, 5.0, n_features)) / torch.linspace(0.5, 3.0, n_features)
    y = 3.0 * torch.sin(z[:, 0]) * z[:, 1] + 1.5 * z[:, 2] ** 2 - 2.0 * z[:, 3] + torch.tanh(z[:, 4] * z[:, 5]) + 20.0
    y = y + 0.3 * torch.randn(n)
    tr, va = torch.arange(0, 1500), torch.arange(1500, n)
    xm, xs = x[tr].mean(0), x[tr].std(0)
    ym, ys = y[tr].mean(), y[tr].std()
    norm_x = lambda t: (t - xm) / xs
    norm_y = lambda t: (t - ym) / ys
    return SensorDataset(norm_x(x[tr]), norm_y(y[tr])), SensorDataset(norm_x(x[va]), norm_y(y[va]))


ARCHS = {}


def arch(name):
    def deco(fn):
        ARCHS[name] = fn
        return fn
    return deco


class EnsembleRegressor(nn.Module):
    def __init__(self, n_in, hidden, n_heads):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU())
        self.heads = nn.ModuleList([nn.Linear(hidden, 1) for _ in range(n_heads)])

    def forward(self, x):
        h = self.trunk(x)
        preds = torch.stack([head(h).squeeze(-1) for head in self.heads], dim=0)
        return preds  # [n_heads, batch]


@arch("ensemble_mlp")
def build_ensemble(cfg, n_in):
    return EnsembleRegressor(n_in, cfg["hidden"], cfg["n_heads"])


class Hook:
    def before_step(self, trainer): pass
    def after_step(self, trainer): pass


class LRWarmupInvSqrt(Hook):
    def __init__(self, peak_lr, warmup):
        self.peak_lr, self.warmup = peak_lr, warmup

    def lr_at(self, step):
        step = max(step, 1)
        return self.peak_lr * max(step / self.warmup, math.sqrt(self.warmup / step))

    def before_step(self, trainer):
        lr = self.lr_at(trainer.step + 1)
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr


class LossLogger(Hook):
    def __init__(self, every):
        self.every, self.history = every, []

    def after_step(self, trainer):
        if trainer.step % self.every == 0:
            self.history.append((trainer.step, trainer.last_loss))


def clip_grad(model, max_norm):
    return nn.utils.clip_grad_norm_(model.parameters(), max_norm)


class Trainer:
    def __init__(self, model, optimizer, cfg, hooks=()):
        self.model, self.optimizer, self.cfg = model, optimizer, cfg
        self.hooks = list(hooks)
        self.step = 0

    def loss_fn(self, preds, target):
        # every head is trained on the target; the ensemble prediction is their mean
        return F.smooth_l1_loss(preds, target.expand_as(preds), beta=1.0)

    def train_step(self, micro_batches):
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for mb in micro_batches:
            loss = self.loss_fn(self.model(mb["features"]), mb["target"]) / len(micro_batches)
            loss.backward()
            total += loss.item()
        for h in self.hooks:
            h.before_step(self)
        clip_grad(self.model, self.cfg["clip_norm"])
        self.optimizer.step()
        self.step += 1
        self.last_loss = total
        for h in self.hooks:
            h.after_step(self)
        return total

    @torch.no_grad()
    def validate(self, loader, model=None):
        model = model or self.model
        was_training = model.training
        model.eval()
        se, n = 0.0, 0
        for b in loader:
            pred = model(b["features"]).mean(0)
            se += ((pred - b["target"]) ** 2).sum().item()
            n += len(pred)
        model.train(was_training)
        return se / n

    def fit(self, train_loader, val_loader):
        self.model.train()
        history = []
        for epoch in range(self.cfg["epochs"]):
            buf = []
            for mb in train_loader:
                buf.append(mb)
                if len(buf) == self.cfg["accum_steps"]:
                    self.train_step(buf)
                    buf = []
            history.append(self.validate(val_loader))
        return history


def main():
    cfg = CONFIG
    train_ds, val_ds = make_splits()
    g = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_ds, sampler=BatchSampler(RandomSampler(train_ds, generator=g), cfg["batch_size"], True),
                              batch_size=None, num_workers=0)
    val_loader = DataLoader(val_ds, sampler=BatchSampler(SequentialSampler(val_ds), 128, False),
                            batch_size=None, num_workers=0)
    model = ARCHS[cfg["arch"]](cfg, n_in=8)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["peak_lr"], weight_decay=cfg["weight_decay"])
    hooks = [LRWarmupInvSqrt(cfg["peak_lr"], cfg["warmup_steps"]), LossLogger(every=20)]
    trainer = Trainer(model, optimizer, cfg, hooks=hooks)
    trainer.fit(train_loader, val_loader)

    # export through an in-memory checkpoint and evaluate the restored model
    export = ARCHS[cfg["arch"]](cfg, n_in=8)
    blob = io.BytesIO()
    torch.save({"model": model.state_dict(), "step": trainer.step}, blob)
    blob.seek(0)
    export.load_state_dict(torch.load(blob)["model"])
    val_mse = trainer.validate(val_loader, model=export)
    print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")


if __name__ == "__main__":
    main()
