"""Breast-cancer MLP trained with SGD (lr=1e-2, momentum 0.9) on the mean-reduced BCE loss (fixed twin).

expect: healthy
trap: the loss plateaus at ~0.05 train / ~0.10 val over the last 20 epochs with a small update size; that is convergence, not a too-low LR

Fixed twin of faulty_learning-rate-too-low_lr_from_summed_loss.py: the LR is rescaled for the
mean-reduced loss (lr=1e-2, roughly the old summed-loss lr 2e-4 x batch 64).
Measured: val_loss 0.1026, val_acc 0.951 (train loss 0.67 -> 0.047).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

CONFIG = {"lr": 1e-2, "momentum": 0.9, "batch_size": 64, "epochs": 50, "hidden": 32, "seed": 0}

torch.set_num_threads(1)
torch.manual_seed(CONFIG["seed"])
np.random.seed(CONFIG["seed"])

X, y = load_breast_cancer(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=CONFIG["seed"], stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva = torch.tensor(yva, dtype=torch.float32)

net = nn.Sequential(nn.Linear(30, CONFIG["hidden"]), nn.ReLU(), nn.Linear(CONFIG["hidden"], 1))
opt = torch.optim.SGD(net.parameters(), lr=CONFIG["lr"], momentum=CONFIG["momentum"])

bs = CONFIG["batch_size"]
for epoch in range(CONFIG["epochs"]):
    net.train()
    perm = torch.randperm(len(Xtr))
    tr = []
    for i in range(0, len(Xtr), bs):
        idx = perm[i:i + bs]
        logits = net(Xtr[idx]).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tr.append(loss.item())
    net.eval()
    with torch.no_grad():
        vlog = net(Xva).squeeze(1)
        vloss = F.binary_cross_entropy_with_logits(vlog, yva).item()
        vacc = ((vlog > 0).float() == yva).float().mean().item()
    if epoch % 10 == 9 or epoch == 0:
        print(f"epoch {epoch+1:2d} train {np.mean(tr):.4f} val_loss {vloss:.4f} val_acc {vacc:.4f}")

print(f"NNDOCTOR_METRIC val_loss={vloss:.4f} lower")
