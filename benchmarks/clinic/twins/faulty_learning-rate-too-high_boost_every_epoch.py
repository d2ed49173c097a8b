"""Residual-MLP regressor (sklearn-style estimator) with a one-time x10 LR boost after warm-up.

expect: healthy
trap: the LR jumps up 10x after epoch 1 (2e-4 -> 2e-3, AdamW); the loss curve since the LR
last changed is the whole rest of training and it decreases steadily -- not a divergence.

Twin of faulty_learning-rate-too-high_boost_every_epoch.py with the one-line fix
(`epoch == warmup_epochs - 1` instead of `>=`, so the boost fires once).
Measured: val_mse = 0.0358 (standardised targets, variance ~1); ~3.5 s wall.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(1)
np.random.seed(1)


@dataclass
class EstimatorConfig:
    width: int = 64
    n_blocks: int = 3
    base_lr: float = 2e-4
    boost: float = 10.0
    warmup_epochs: int = 2
    weight_decay: float = 1e-4
    epochs: int = 9
    batch_size: int = 32


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


class ResMLP(nn.Module):
    def __init__(self, in_dim, width, n_blocks):
        super().__init__()
        self.stem = nn.Linear(in_dim, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(n_blocks)])
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x))).squeeze(-1)


class Hook:
    def on_train_begin(self, est): ...
    def on_epoch_end(self, est, epoch, logs): ...


class LRBoostAfterWarmup(Hook):
    """Multiply every group's LR by `factor` once the warm-up phase is over."""

    def __init__(self, warmup_epochs, factor):
        self.warmup_epochs = warmup_epochs
        self.factor = factor

    def on_epoch_end(self, est, epoch, logs):
        if epoch == self.warmup_epochs - 1:
            for g in est.optimizer_.param_groups:
                g["lr"] *= self.factor


class Printer(Hook):
    def on_epoch_end(self, est, epoch, logs):
        lr = est.optimizer_.param_groups[0]["lr"]
        print(f"epoch {epoch:2d} lr={lr:.2e} train_mse={logs['train_mse']:.4f}")


class ResMLPRegressor:
    def __init__(self, cfg: EstimatorConfig, hooks=()):
        self.cfg = cfg
        self.hooks = list(hooks)

    def _iterate(self, X, y):
        perm = torch.randperm(len(X))
        for s in range(0, len(X), self.cfg.batch_size):
            idx = perm[s:s + self.cfg.batch_size]
            yield X[idx], y[idx]

    def fit(self, X, y):
        X = torch.as_tensor(X, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.float32)
        self.model_ = ResMLP(X.shape[1], self.cfg.width, self.cfg.n_blocks)
        self.optimizer_ = torch.optim.AdamW(self.model_.parameters(), lr=self.cfg.base_lr,
                                            weight_decay=self.cfg.weight_decay)
        loss_fn = nn.MSELoss()
        for h in self.hooks:
            h.on_train_begin(self)
        for epoch in range(self.cfg.epochs):
            self.model_.train()
            run, n = 0.0, 0
            for xb, yb in self._iterate(X, y):
                self.optimizer_.zero_grad(set_to_none=True)
                loss = loss_fn(self.model_(xb), yb)
                loss.backward()
                self.optimizer_.step()
                run += loss.item() * len(xb)
                n += len(xb)
            for h in self.hooks:
                h.on_epoch_end(self, epoch, {"train_mse": run / n})
        return self

    @torch.no_grad()
    def predict(self, X):
        self.model_.eval()
        return self.model_(torch.as_tensor(X, dtype=torch.float32)).numpy()


def make_data():
    X, y = make_friedman1(n_samples=1500, n_features=10, noise=0.5, random_state=1)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=1)
    xs = StandardScaler().fit(Xtr)
    ym, ysd = ytr.mean(), ytr.std()
    return xs.transform(Xtr), (ytr - ym) / ysd, xs.transform(Xva), (yva - ym) / ysd


def main():
    cfg = EstimatorConfig()
    Xtr, ytr, Xva, yva = make_data()
    est = ResMLPRegressor(cfg, hooks=[LRBoostAfterWarmup(cfg.warmup_epochs, cfg.boost), Printer()])
    est.fit(Xtr, ytr)
    pred = est.predict(Xva)
    v = float(np.mean((pred - yva) ** 2))
    if not np.isfinite(v):
        v = 1e6
    print(f"NNDOCTOR_METRIC val_mse={v:.4f} lower")


if __name__ == "__main__":
    main()
