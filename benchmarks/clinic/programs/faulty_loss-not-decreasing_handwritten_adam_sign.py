"""Wine classifier trained with an Adam written by hand whose update has its sign turned over (it climbs the loss).

expect: loss-not-decreasing
allow: learning-rate-too-high, learning-rate-too-low, exploding-gradient, non-finite, dead-relu

A small research codebase keeps its own optimizer (bias-corrected Adam, decoupled weight decay) to
experiment with. Refactoring the update into `p.add_(step_dir, alpha=...)` the author wrote the step as
`+lr * m_hat / (sqrt(v_hat) + eps)` and forgot the minus sign the old `p.data -= ...` line carried. Every
update now goes along the gradient: the cross-entropy rises from 1.1 while the code, the data and the LR
look right. Fixed (alpha=-lr): val acc 0.958 vs 0.229 here.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine

torch.manual_seed(0)
torch.set_num_threads(1)


class HandAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["t"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["t"] += 1
                st["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                m_hat = st["m"] / (1 - b1 ** st["t"])
                v_hat = st["v"] / (1 - b2 ** st["t"])
                if group["weight_decay"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                step_dir = m_hat / (v_hat.sqrt() + group["eps"])
                p.add_(step_dir, alpha=group["lr"])      # BUG: the update's minus sign was lost
        return None


X, y = load_wine(return_X_y=True)
rng = np.random.default_rng(0)
idx = rng.permutation(len(X))
tr, va = idx[:130], idx[130:]
mu, sd = X[tr].mean(0), X[tr].std(0)
Xtr = torch.tensor((X[tr] - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((X[va] - mu) / sd, dtype=torch.float32)
ytr, yva = torch.tensor(y[tr]), torch.tensor(y[va])

model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
opt = HandAdam(model.parameters(), lr=1e-3, weight_decay=1e-4)

for epoch in range(60):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        b = perm[i:i + 32]
        loss = F.cross_entropy(model(Xtr[b]), ytr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 20 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f}")

with torch.no_grad():
    acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"val acc {acc:.3f}" if math.isfinite(acc) else "val acc nan")
print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
