"""Digits MLP trained with Sharpness-Aware Minimization (hand-written SAM wrapper around SGD+momentum).
expect: healthy
trap: two forward/backward passes per optimizer step; gradients zeroed between the passes; parameters perturbed in place (w + e) and restored before the base step, so the weights seen by the second forward are not the ones that get updated; the first-pass gradient is overwritten and never used by the base optimizer; the base optimizer is a plain SGD held inside a custom Optimizer subclass whose own step() is split into first_step/second_step

SAM (Foret et al. 2021) computes the gradient at w, climbs to
w + rho * g/||g||, recomputes the gradient there, restores w and lets the base
optimizer (SGD with Nesterov momentum) step with the second gradient. Each
step therefore has two backward passes, an in-place perturbation and an
in-place restore. The training is correct and generalises well.
Measured: val_acc=0.9759 (seeds 1, 2: 0.9722, 0.9685)
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


class SAM(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer_cls, rho=0.05, **base_kwargs):
        defaults = dict(rho=rho, **base_kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer_cls(self.param_groups, **base_kwargs)
        self.param_groups = self.base_optimizer.param_groups

    @torch.no_grad()
    def first_step(self):
        grad_norm = torch.norm(torch.stack([
            p.grad.norm(p=2) for g in self.param_groups for p in g["params"] if p.grad is not None
        ]), p=2)
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                e_w = p.grad * scale
                p.add_(e_w)                  # climb to the local worst case
                self.state[p]["e_w"] = e_w
        self.zero_grad(set_to_none=True)

    @torch.no_grad()
    def second_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if "e_w" in self.state[p]:
                    p.sub_(self.state[p]["e_w"])   # back to w
        self.base_optimizer.step()
        self.zero_grad(set_to_none=True)

    def step(self, closure=None):
        raise RuntimeError("use first_step / second_step")


X, y = load_digits(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X / 16.0, y, test_size=0.3, random_state=SEED, stratify=y)
m, s = Xtr.mean(0), Xtr.std(0) + 0.1
Xtr = torch.tensor((Xtr - m) / s, dtype=torch.float32)
Xva = torch.tensor((Xva - m) / s, dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
opt = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.05, momentum=0.9, nesterov=True)

BATCH, EPOCHS = 64, 25
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        xb, yb = Xtr[idx], ytr[idx]
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.first_step()
        F.cross_entropy(model(xb), yb).backward()
        opt.second_step()
        tot += loss.item() * len(idx)
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            out = model(Xva)
            vl = F.cross_entropy(out, yva).item()
            acc = (out.argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch:2d} train_loss {tot / len(Xtr):.4f} val_loss {vl:.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
