"""Heteroscedastic MLP regressor (predicts mean and log-variance) trained with a hand-written Gaussian negative log-likelihood on synthetic sensor-calibration data whose inputs are mostly one-hot / binary.
expect: healthy
trap: the training and validation loss go negative (Gaussian NLL of a well-fit low-noise target is below zero) and keep decreasing past zero; 14 of the 17 input columns are raw one-hot or 0/1 flags with means 0.1-0.6 and stds ~0.3-0.5 (correctly left unscaled); validation loss is computed in eval mode every epoch and tracks the training loss

Each sample comes from one of 8 instrument types (one-hot), has 6 binary configuration flags and three
standardised continuous readings.  The target's noise level depends on the instrument type and
spans 0.02..0.3, so a well-calibrated model reaches a negative mean NLL.  Negative loss is the sign of
success here, not of a bug; the log-variance is clamped to [-10, 5] for safety.
Measured: test_nll=-0.7438 (seeds 1/2: -0.6010, -0.5804; val_nll falls monotonically-ish from 1.38 to -0.75)
"""
import time
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

rng = np.random.default_rng(SEED)
n = 8000
inst = rng.integers(0, 8, n)
flags = (rng.random((n, 6)) < rng.uniform(0.1, 0.6, 6)).astype(np.float32)
cont = rng.normal(size=(n, 3)).astype(np.float32)
offset = rng.normal(0, 1, 8)
noise_sd = np.geomspace(0.02, 0.3, 8)[rng.permutation(8)]
mean = (offset[inst] + np.sin(1.5 * cont[:, 0]) + 0.5 * cont[:, 1] * flags[:, 0]
        - 0.7 * flags[:, 1] + 0.3 * cont[:, 2] ** 2)
y = (mean + rng.normal(size=n) * noise_sd[inst]).astype(np.float32)
X = np.concatenate([np.eye(8, dtype=np.float32)[inst], flags, cont], 1)

idx = rng.permutation(n)
tr, va, te = idx[:6000], idx[6000:7000], idx[7000:]
T = lambda a: torch.from_numpy(a)
Xtr, Xva, Xte = T(X[tr]), T(X[va]), T(X[te])
ytr, yva, yte = T(y[tr]), T(y[va]), T(y[te])


class HetNet(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.mu = nn.Linear(64, 1)
        self.logvar = nn.Linear(64, 1)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h).squeeze(-1), self.logvar(h).squeeze(-1).clamp(-10, 5)


def gauss_nll(mu, logvar, y):
    return 0.5 * (logvar + (y - mu) ** 2 / logvar.exp() + np.log(2 * np.pi)).mean()


model = HetNet(X.shape[1])
opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
bs = 256
step = 0
for epoch in range(30):
    model.train()
    p = torch.randperm(len(Xtr))
    for b in range(0, len(p), bs):
        i = p[b:b + bs]
        mu, lv = model(Xtr[i])
        loss = gauss_nll(mu, lv, ytr[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    model.eval()
    with torch.no_grad():
        val_loss = gauss_nll(*model(Xva), yva).item()
    if epoch % 3 == 0 or epoch == 29:
        print(f"epoch {epoch:2d} step {step} train_nll={loss.item():.4f} val_nll={val_loss:.4f}")

model.eval()
with torch.no_grad():
    test_nll = gauss_nll(*model(Xte), yte).item()
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
