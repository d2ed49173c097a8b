"""Breast-cancer MLP classifier (sklearn-style estimator) under CyclicLR "triangular2".

expect: healthy
trap: the LR climbs UP from 1e-3 to 0.2 (then 0.1, 0.05, ... -- triangular2 halves the peak)
every 6 epochs, stepped per batch with cycled momentum 0.8-0.9, so the LR is increasing for
half of training; the epoch loss rises during each upswing (0.025 -> 0.029, 0.020 -> 0.024)
and the low-LR troughs (1e-3 with SGD) look like "LR too low" in isolation.

Measured: val_acc = 0.9825 on load_breast_cancer (30% held out); epoch loss 0.095 -> 0.010;
~3.6 s wall including imports.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(6)
np.random.seed(6)


@dataclass
class CyclicConfig:
    base_lr: float = 1e-3
    max_lr: float = 0.2
    step_size_up_epochs: int = 3
    mode: str = "triangular2"
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 36
    hidden: int = 64
    dropout: float = 0.2


class MLPBinary(nn.Module):
    def __init__(self, d_in, hidden, dropout):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)


class CyclicMLPClassifier:
    def __init__(self, cfg: CyclicConfig):
        self.cfg = cfg

    def _configure(self, n_batches):
        c = self.cfg
        opt = torch.optim.SGD(self.net_.parameters(), lr=c.base_lr, momentum=c.momentum)
        sched = torch.optim.lr_scheduler.CyclicLR(
            opt, base_lr=c.base_lr, max_lr=c.max_lr, step_size_up=c.step_size_up_epochs * n_batches,
            mode=c.mode, cycle_momentum=True, base_momentum=0.8, max_momentum=0.9)
        return opt, sched

    def fit(self, X, y):
        c = self.cfg
        X = torch.as_tensor(X, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.float32)
        self.net_ = MLPBinary(X.shape[1], c.hidden, c.dropout)
        n_batches = (len(X) + c.batch_size - 1) // c.batch_size
        opt, sched = self._configure(n_batches)
        crit = nn.BCEWithLogitsLoss()
        self.history_ = []
        for epoch in range(c.epochs):
            self.net_.train()
            perm = torch.randperm(len(X))
            tot = 0.0
            for s in range(0, len(X), c.batch_size):
                idx = perm[s:s + c.batch_size]
                opt.zero_grad()
                loss = crit(self.net_(X[idx]), y[idx])
                loss.backward()
                opt.step()
                sched.step()
                tot += loss.item() * len(idx)
            self.history_.append((opt.param_groups[0]["lr"], tot / len(X)))
            if epoch % 3 == 2:
                print(f"epoch {epoch:2d} lr={self.history_[-1][0]:.4f} loss={self.history_[-1][1]:.4f}")
        return self

    @torch.no_grad()
    def predict_proba(self, X):
        self.net_.eval()
        return torch.sigmoid(self.net_(torch.as_tensor(X, dtype=torch.float32))).numpy()

    def predict(self, X):
        return (self.predict_proba(X) > 0.5).astype(int)


def main():
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=6, stratify=y)
    sc = StandardScaler().fit(Xtr)
    clf = CyclicMLPClassifier(CyclicConfig()).fit(sc.transform(Xtr), ytr)
    v = float((clf.predict(sc.transform(Xva)) == yva).mean())
    print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")


if __name__ == "__main__":
    main()
