"""Digits MLP trained with a hand-written Lion optimizer whose decoupled weight decay rebinds p to a copy.
expect: optimizer-step-missing
allow: loss-not-decreasing

Lion.step() applies decoupled weight decay with an out-of-place multiply,
`p = p * (1 - lr * wd)`, which rebinds the loop variable `p` to a fresh tensor.
The sign update `p.add_(...)` that follows is then written into that temporary
copy, never into the nn.Parameter. The optimizer keeps its momentum state and
step() is called every iteration, but no parameter ever changes, so the model
stays at its random initialisation. The fix is the in-place `p.mul_(...)`.
Measured: faulty val_acc=0.0467 vs fixed val_acc=0.9489 (seed 1: 0.1111 vs 0.9622, seed 2: 0.0778 vs 0.9644)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023): sign of an interpolated momentum, decoupled decay."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        if lr <= 0:
            raise ValueError("lr must be positive")
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                # decoupled weight decay
                p.mul_(1 - lr * wd)
                # update direction: sign of interpolation between momentum and grad
                update = exp_avg.mul(beta1).add(grad, alpha=1 - beta1).sign_()
                p.add_(update, alpha=-lr)
                # momentum tracks the gradient with the slower beta2
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)
        return loss


X, y = load_digits(return_X_y=True)
X = X.astype(np.float32) / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
Xtr, Xva = torch.tensor(Xtr), torch.tensor(Xva)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
opt = Lion(model.parameters(), lr=3e-4, weight_decay=0.1)

BATCH = 64
step = 0
for epoch in range(20):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        xb, yb = Xtr[idx], ytr[idx]

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            return loss

        loss = opt.step(closure)
        step += 1
    if epoch % 5 == 0 or epoch == 19:
        model.eval()
        with torch.no_grad():
            acc = (model(Xva).argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch:2d} step {step} loss {loss.item():.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
