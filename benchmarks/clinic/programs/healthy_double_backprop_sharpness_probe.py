"""Breast-cancer MLP classifier trained with an input-gradient (double-backprop) penalty, plus a periodic Hessian-vector-product sharpness probe.
expect: healthy
trap: torch.autograd.grad(create_graph=True) inside the loss (double backward); extra autograd.grad passes every 50 steps (power iteration on Hessian-vector products over the full training set) that compute parameter gradients without an optimizer step and without touching .grad; a penalty term as large as the CE term late in training; training CE that jumps between 0.04 and 0.14 from batch to batch while val loss is flat

Double backpropagation (Drucker & LeCun, 1992): the training loss is
CE + lambda * mean_i |d CE_i / d x_i|^2 (lambda = 1), where the input gradient is taken
with create_graph=True so the penalty can be back-propagated. It makes the classifier
smoother in input space. Every 50 steps the script estimates the top Hessian eigenvalue of
the CE loss with respect to the parameters by 5 power-iteration steps on Hessian-vector
products (torch.autograd.grad of (grad . v), with create_graph=True on the first pass);
these passes never call .backward() and never step the optimizer - they are diagnostics.
Measured: val_acc=0.9532 (seeds 1 and 2: 0.9532, 0.9532; without the penalty 0.9591)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
sc = StandardScaler().fit(Xtr)
Xtr = torch.tensor(sc.transform(Xtr), dtype=torch.float32)
Xva = torch.tensor(sc.transform(Xva), dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = nn.Sequential(nn.Linear(30, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
params = [p for p in model.parameters()]
opt = torch.optim.Adam(params, lr=1e-3)
LAMBDA = 1.0
BATCH = 64


def top_hessian_eig(xb, yb, iters=5):
    loss = F.cross_entropy(model(xb), yb)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    v = [torch.randn_like(p) for p in params]
    eig = 0.0
    for _ in range(iters):
        norm = torch.sqrt(sum((vi ** 2).sum() for vi in v))
        v = [vi / norm for vi in v]
        gv = sum((g * vi).sum() for g, vi in zip(grads, v))
        hv = torch.autograd.grad(gv, params, retain_graph=True)
        eig = sum((h * vi).sum() for h, vi in zip(hv, v)).item()
        v = [h.detach() for h in hv]
    return eig


step = 0
for epoch in range(40):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        xb = Xtr[idx].clone().requires_grad_(True)
        ce_i = F.cross_entropy(model(xb), ytr[idx], reduction="none")
        gx = torch.autograd.grad(ce_i.sum(), xb, create_graph=True)[0]
        penalty = (gx ** 2).sum(1).mean()
        ce = ce_i.mean()
        loss = ce + LAMBDA * penalty
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            lam_max = top_hessian_eig(Xtr, ytr)
            model.eval()
            with torch.no_grad():
                vl = F.cross_entropy(model(Xva), yva).item()
                acc = (model(Xva).argmax(1) == yva).float().mean().item()
            print(f"step {step:4d} ce {ce.item():.4f} penalty-term {LAMBDA * penalty.item():.5f} "
                  f"val_loss {vl:.4f} val_acc {acc:.4f} hessian_top {lam_max:.3f}")
            model.train()
        step += 1

with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
