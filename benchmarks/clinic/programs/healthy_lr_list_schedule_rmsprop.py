"""Friedman #1 regression MLP trained with RMSprop and a hand-written per-epoch LR list that goes up and down.

expect: healthy
trap: the LR is read from a list each epoch and repeatedly jumps UP (1e-4 -> 1e-3 -> 3e-3, and again 3e-4 -> 2e-3 mid-run) before being annealed; right after each rise the loss wobbles, and in the low-LR epochs progress is slow -- comparing loss only "since the LR last changed" can make either epoch look like a learning-rate problem.

Notebook-style: the LR list was tuned by hand ("warm up, explore, re-heat once, anneal").
make_friedman1 (n=5000, noise=0.5, so the irreducible val MSE is ~0.25; target variance ~24),
inputs standardised, 3-layer tanh/ReLU MLP, RMSprop(alpha=0.9).
Measured: val_mse=0.4892.
"""
import time
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(15)
np.random.seed(15)

LR_PER_EPOCH = [1e-4, 1e-3, 3e-3, 3e-3, 3e-3, 1e-3, 1e-3, 3e-4, 2e-3, 2e-3, 1e-3, 1e-3,
                3e-4, 3e-4, 3e-4, 1e-4, 1e-4, 3e-5, 1e-5, 1e-5]
CFG = dict(batch_size=64, hidden=64, alpha=0.9)

X, y = make_friedman1(n_samples=5000, n_features=10, noise=0.5, random_state=15)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=15)
sx = StandardScaler().fit(Xtr)
y_mu, y_sd = ytr.mean(), ytr.std()
Xtr = torch.tensor(sx.transform(Xtr), dtype=torch.float32)
Xva = torch.tensor(sx.transform(Xva), dtype=torch.float32)
ytr_n = torch.tensor((ytr - y_mu) / y_sd, dtype=torch.float32)
yva_t = torch.tensor(yva, dtype=torch.float32)

model = nn.Sequential(
    nn.Linear(10, CFG["hidden"]), nn.Tanh(),
    nn.Linear(CFG["hidden"], CFG["hidden"]), nn.ReLU(),
    nn.Linear(CFG["hidden"], 1),
)
opt = torch.optim.RMSprop(model.parameters(), lr=LR_PER_EPOCH[0], alpha=CFG["alpha"])
mse = nn.MSELoss()


def val_mse():
    with torch.no_grad():
        pred = model(Xva).squeeze(1) * y_sd + y_mu
        return mse(pred, yva_t).item()


t0 = time.time()
for epoch, lr in enumerate(LR_PER_EPOCH):
    for g in opt.param_groups:
        g["lr"] = lr
    perm = torch.randperm(len(Xtr))
    run = 0.0
    for i in range(0, len(Xtr), CFG["batch_size"]):
        idx = perm[i:i + CFG["batch_size"]]
        loss = mse(model(Xtr[idx]).squeeze(1), ytr_n[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        run += loss.item() * len(idx)
    print(f"epoch {epoch:2d} lr {lr:.0e} train {run / len(Xtr):.4f} val_mse {val_mse():.4f}")

v = val_mse()
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mse={v:.4f} lower")
