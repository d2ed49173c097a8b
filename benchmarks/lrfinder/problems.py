"""Small training problems of the clinic's kinds, shared by the LR-finder and tuning benchmarks.

Each problem builds (model, optimizer class + kwargs, loss, train tensors, held-out tensors) from a
seed; everything is sklearn's bundled data or seeded synthetic data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn


@dataclass
class Problem:
    name: str
    make_model: Callable[[], nn.Module]
    opt_class: type
    opt_kwargs: dict
    loss_fn: Callable
    data: Callable[..., tuple]   # (split=0) -> (Xtr, ytr, Xva, yva); split: which random quarter is held out
    batch: int = 64
    steps: int = 150


def _standardize(Xtr, Xva):
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    return (Xtr - mu) / sd, (Xva - mu) / sd


def _split(X, y, seed=0, frac=0.25):
    rng = np.random.RandomState(seed)
    idx = rng.permutation(len(X))
    k = int(len(X) * frac)
    return X[idx[k:]], y[idx[k:]], X[idx[:k]], y[idx[:k]]


def _sk(loader, regression=False, scale=True, image=False, conv=False):
    def data(split=0):
        X, y = loader(return_X_y=True)
        X = X.astype(np.float32)
        Xtr, ytr, Xva, yva = _split(X, y, seed=split)
        if image:
            Xtr, Xva = Xtr / 16.0, Xva / 16.0
        elif scale:
            Xtr, Xva = _standardize(Xtr, Xva)
        if regression:
            m, s = ytr.mean(), ytr.std()
            ytr, yva = (ytr - m) / s, (yva - m) / s
            t = lambda a: torch.tensor(a, dtype=torch.float32).unsqueeze(1)  # noqa: E731
        else:
            t = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
        Xtr, Xva = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xva, dtype=torch.float32)
        if conv:
            Xtr, Xva = Xtr.view(-1, 1, 8, 8), Xva.view(-1, 1, 8, 8)
        return Xtr, t(ytr), Xva, t(yva)
    return data


def _resplit(tr_x, tr_y, va_x, va_y, split):
    """Split 0: as generated; another split holds out a different random quarter of the same examples."""
    if not split:
        return tr_x, tr_y, va_x, va_y
    x, y = torch.cat([tr_x, va_x]), torch.cat([tr_y, va_y])
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(split))
    k = len(va_x)
    return x[idx[k:]], y[idx[k:]], x[idx[:k]], y[idx[:k]]


def _seq_data(split=0):
    g = torch.Generator().manual_seed(123)
    n, T = 2048, 12
    x = torch.randn(n, T, 2, generator=g)
    mark = torch.zeros(n, T)
    for i in range(n):
        a, b = torch.randperm(T, generator=g)[:2]
        mark[i, a] = mark[i, b] = 1
    x[:, :, 1] = mark
    y = (x[:, :, 0] * mark).sum(1, keepdim=True)       # the adding problem
    return _resplit(x[:1536], y[:1536], x[1536:], y[1536:], split)


class _GRUReg(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(2, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.head(h[:, -1])


def _tokens_data(split=0):
    g = torch.Generator().manual_seed(7)
    n, T, V = 2048, 12, 16
    x = torch.randint(0, V, (n, T), generator=g)
    y = (x == 3).sum(1).clamp(max=3)            # how many 3s (0..3): needs attention over positions
    return _resplit(x[:1536], y[:1536], x[1536:], y[1536:], split)


class _TinyTransformer(nn.Module):
    def __init__(self, V=16, d=32):
        super().__init__()
        self.emb = nn.Embedding(V, d)
        self.pos = nn.Parameter(torch.randn(12, d) * 0.02)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True), 1)
        self.head = nn.Linear(d, 4)

    def forward(self, x):
        return self.head(self.enc(self.emb(x) + self.pos).mean(1))


def problems() -> list[Problem]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine

    ce, mse = nn.CrossEntropyLoss(), nn.MSELoss()
    return [
        Problem("mlp-digits-adam", lambda: nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)),
                torch.optim.Adam, {}, ce, _sk(load_digits, image=True)),
        Problem("logreg-breast_cancer-sgd", lambda: nn.Linear(30, 2), torch.optim.SGD, {}, ce,
                _sk(load_breast_cancer), batch=32),
        Problem("mlp-diabetes-sgd-momentum", lambda: nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 1)),
                torch.optim.SGD, {"momentum": 0.9}, mse, _sk(load_diabetes, regression=True), batch=32),
        Problem("cnn-digits-sgd-momentum", lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(128, 10)),
                torch.optim.SGD, {"momentum": 0.9}, ce, _sk(load_digits, image=True, conv=True)),
        Problem("gru-adding-adam", _GRUReg, torch.optim.Adam, {}, mse, _seq_data, steps=100),
        Problem("mlp-wine-sgd", lambda: nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 3)),
                torch.optim.SGD, {}, ce, _sk(load_wine), batch=16),
        # (iris was tried and dropped: its held-out cross-entropy reaches exactly 0 at absurd LRs -- RMSprop
        # at lr 10 -- so it has no best LR to compare with)
        Problem("transformer-count-adamw", _TinyTransformer, torch.optim.AdamW, {}, ce, _tokens_data, steps=100),
    ]


def loader(X, y, batch, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch, shuffle=True,
                                       generator=g, drop_last=True)


def train(p: Problem, lr: float, seed: int, steps: int | None = None, data=None) -> float:
    """Train ``steps`` steps at a constant ``lr``; the held-out loss at the end (inf if it diverged)."""
    Xtr, ytr, Xva, yva = data or p.data()
    torch.manual_seed(seed)
    model = p.make_model()
    opt = p.opt_class(model.parameters(), lr=lr, **p.opt_kwargs)
    steps = steps or p.steps
    i = 0
    while i < steps:
        for xb, yb in loader(Xtr, ytr, p.batch, seed * 1000 + i):
            opt.zero_grad()
            loss = p.loss_fn(model(xb), yb)
            if not torch.isfinite(loss):
                return float("inf")
            loss.backward()
            opt.step()
            i += 1
            if i >= steps:
                break
    model.eval()
    with torch.no_grad():
        v = float(p.loss_fn(model(Xva), yva))
    return v if np.isfinite(v) else float("inf")
