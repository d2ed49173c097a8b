"""Breast-cancer MLP trained with a hand-written Lion optimizer (closure API) and an LR decayed by hand to zero.
expect: healthy
trap: custom torch.optim.Optimizer subclass; sign-based updates whose size is exactly lr for every weight regardless of gradient size (update/weight ratio unrelated to grad norm); decoupled weight decay shrinking weights every step; step(closure) does forward/backward inside the optimizer; LR written into param_groups by hand each step and linearly decayed to 0 at the end (tiny updates at the end are on purpose)

Lion keeps one momentum buffer and moves every parameter by +-lr (the sign
of an interpolation between momentum and the current gradient), plus a
decoupled weight decay. The update magnitude therefore does not shrink as the
gradient shrinks and does not follow the usual 1e-3 update/weight heuristic;
the LR schedule (short warmup, then linear decay to 0) is computed by hand and
written into param_groups. Training is correct: the loss falls steadily and
the classifier generalises well.
Measured: val_acc=0.9357 (seeds 1, 2: 0.9532, 0.9532); val_bce falls monotonically 0.67 -> 0.13
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class Lion(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                p.mul_(1.0 - lr * wd)
                p.add_(torch.sign(m * b1 + p.grad * (1.0 - b1)), alpha=-lr)
                m.lerp_(p.grad, 1.0 - b2)
        return loss


X, y = load_breast_cancer(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva = torch.tensor(yva, dtype=torch.float32)

model = nn.Sequential(nn.Linear(30, 64), nn.GELU(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 1))
PEAK_LR, WD = 5e-4, 1.0
opt = Lion(model.parameters(), lr=PEAK_LR, weight_decay=WD)

BATCH, EPOCHS = 32, 25
steps_per_epoch = (len(Xtr) + BATCH - 1) // BATCH
TOTAL, WARMUP = EPOCHS * steps_per_epoch, 20


def lr_at(step):
    if step < WARMUP:
        return PEAK_LR * (step + 1) / WARMUP
    return PEAK_LR * max(0.0, (TOTAL - step) / (TOTAL - WARMUP))


step = 0
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    run = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(Xtr[idx]).squeeze(-1), ytr[idx])
            loss.backward()
            return loss

        loss = opt.step(closure)
        run += loss.item() * len(idx)
        step += 1
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            logits = model(Xva).squeeze(-1)
            vloss = F.binary_cross_entropy_with_logits(logits, yva).item()
            acc = ((logits > 0).float() == yva).float().mean().item()
        print(f"epoch {epoch:2d} lr {lr_at(step):.2e} train_bce {run / len(Xtr):.4f} val_bce {vloss:.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = ((model(Xva).squeeze(-1) > 0).float() == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
