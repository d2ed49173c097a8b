"""``nndoctor demo``: train a deliberately broken net on sklearn's digits, show the diagnosis, then
train the net the diagnosis recommends and show the difference."""
from __future__ import annotations

import time

import torch
from rich.console import Console
from torch import nn

import nndoctor


def _data():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover
        raise SystemExit("nndoctor demo needs scikit-learn (pip install scikit-learn)") from e
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X, dtype=torch.float32) / 16.0
    y = torch.tensor(y)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(X), generator=g)
    X, y = X[perm], y[perm]
    n = int(0.8 * len(X))
    return (X[:n], y[:n]), (X[n:], y[n:])


def broken_net() -> nn.Module:
    """Ten sigmoid layers: the textbook vanishing-gradient net (the guide's FAQ 1)."""
    layers, width = [], 64
    for _ in range(10):
        layers += [nn.Linear(width, 64), nn.Sigmoid()]
        width = 64
    return nn.Sequential(*layers, nn.Linear(64, 10))


def fixed_net() -> nn.Module:
    """Same depth, the diagnosis's first two remedies: ReLU family + normalization (and He init)."""
    layers, width = [], 64
    for _ in range(10):
        lin = nn.Linear(width, 64)
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.BatchNorm1d(64), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 10))


def train(model: nn.Module, steps: int, watch: bool):
    (Xtr, ytr), (Xte, yte) = _data()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    doctor = nndoctor.watch(model, opt) if watch else None
    t0 = time.perf_counter()
    losses = []
    for step in range(steps):
        idx = torch.randint(0, len(Xtr), (64,), generator=g)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            losses.append(loss.item())
    report = doctor.close() if doctor else None
    model.eval()
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    return report, losses, acc, time.perf_counter() - t0


def main(steps: int = 300) -> int:
    console = Console()
    torch.manual_seed(0)
    console.rule("[bold]1. A 10-layer sigmoid MLP on digits (broken)")
    report, losses_b, acc_b, _ = train(broken_net(), steps, watch=True)
    report.render(console)
    console.rule("[bold]2. The same depth with the remedies: ReLU + BatchNorm + He init")
    torch.manual_seed(0)
    report_f, losses_f, acc_f, _ = train(fixed_net(), steps, watch=True)
    report_f.render(console, verbose=False)
    console.rule("[bold]Before / after")
    console.print(f"broken : loss {losses_b[0]:.3f} -> {losses_b[-1]:.3f}   test accuracy {acc_b:.1%}   "
                  f"findings: {', '.join(f.code for f in report.problems()) or 'none'}")
    console.print(f"fixed  : loss {losses_f[0]:.3f} -> {losses_f[-1]:.3f}   test accuracy {acc_f:.1%}   "
                  f"findings: {', '.join(f.code for f in report_f.problems()) or 'none'}")
    return 0
