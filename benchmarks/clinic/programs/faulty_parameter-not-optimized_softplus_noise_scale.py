"""Gaussian-likelihood MLP regression (Friedman #1) with a learned noise scale sigma = softplus(raw); raw is left out of the optimizer.
expect: parameter-not-optimized

The model predicts the mean and the observation noise is one learned positive scalar,
reparametrised as sigma = softplus(raw_sigma) + 1e-3 so it stays positive. raw_sigma is
created next to the likelihood function as a free nn.Parameter, but the optimizer is built
from net.parameters() only. raw_sigma requires grad and receives a gradient at every
backward (the NLL pushes hard to shrink sigma), yet it never moves: sigma stays at its
initial softplus(0.5) = 0.975 while the residual std is below 0.1. The mean network still
trains (a fixed sigma only rescales its loss; test RMSE ~0.08 in both versions), so the loss
curve looks plausible (it plateaus at ~0.90), but the held-out negative log-likelihood is
far worse than with a calibrated sigma (fixed run: sigma falls to 0.088).
Measured: faulty test_nll=0.8973 vs fixed test_nll=-1.1146 (seed 1: 0.8968 vs -1.0183; seed 2: 0.8970 vs -1.0057)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = make_friedman1(n_samples=1500, n_features=8, noise=0.3, random_state=SEED)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=SEED)
xs, ys = StandardScaler().fit(Xtr), StandardScaler().fit(ytr[:, None])
Xtr = torch.tensor(xs.transform(Xtr), dtype=torch.float32)
Xte = torch.tensor(xs.transform(Xte), dtype=torch.float32)
ytr = torch.tensor(ys.transform(ytr[:, None]), dtype=torch.float32)
yte = torch.tensor(ys.transform(yte[:, None]), dtype=torch.float32)

net = nn.Sequential(nn.Linear(8, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))

# homoscedastic observation noise, kept positive by a softplus reparametrisation
raw_sigma = nn.Parameter(torch.tensor(0.5))


def sigma():
    return F.softplus(raw_sigma) + 1e-3


def gaussian_nll(mu, target):
    s = sigma()
    return (torch.log(s) + 0.5 * ((target - mu) / s) ** 2).mean() + 0.5 * np.log(2 * np.pi)


opt = torch.optim.Adam(net.parameters(), lr=3e-3)

BATCH = 64
for epoch in range(60):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        loss = gaussian_nll(net(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 10 == 0 or epoch == 59:
        with torch.no_grad():
            te = gaussian_nll(net(Xte), yte).item()
            rmse = ((net(Xte) - yte) ** 2).mean().sqrt().item()
        print(f"epoch {epoch:3d} train_nll {loss.item():.4f} test_nll {te:.4f} "
              f"test_rmse {rmse:.4f} sigma {sigma().item():.4f}")

with torch.no_grad():
    test_nll = gaussian_nll(net(Xte), yte).item()
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
