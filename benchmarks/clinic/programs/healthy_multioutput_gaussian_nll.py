"""Three-target sensor regression with a heteroscedastic Gaussian NLL whose loss goes negative.

expect: healthy
trap: the training objective (Gaussian negative log-likelihood with a learned per-output variance) crosses zero in the first epochs and keeps falling to about -1.17, so a negative, still-decreasing loss is the sign of a good fit, not non-finite/divergence; MultiStepLR drops the LR 10x twice, after which the loss flattens; the variance head passes through softplus.

Seeded synthetic "soft sensor" data: 8 standardized process readings predict three outputs
(a smooth nonlinear response each) with input-dependent noise whose std ranges from ~0.03 to
~0.3. A shared trunk with a mean head and a variance head (softplus + 1e-4) is trained with
nn.GaussianNLLLoss over all three outputs, batch 64 from a DataLoader, AdamW
(weight_decay=1e-2) with MultiStepLR (x0.1 at epochs 28 and 38), 45 epochs = 1440 steps.
Validation NLL falls with the training NLL throughout (-1.08 at the end vs -1.17 train). Validation reports the mean R^2 of the
three outputs and the calibration of the predicted std (z-score std ~1 means calibrated).

Measured (OMP_NUM_THREADS=1): val_mean_r2 = 0.9177 (per output 0.940 / 0.935 / 0.878), predicted
std well calibrated (validation z-score std 1.08).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

rng = np.random.default_rng(0)
N, D = 2500, 8
X = rng.normal(size=(N, D))
mean = np.column_stack([
    np.sin(1.5 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2],
    np.tanh(X[:, 3] - X[:, 4]) + 0.3 * X[:, 5] ** 2,
    0.8 * X[:, 0] * X[:, 6] - 0.4 * np.cos(2 * X[:, 7]),
])
noise_sd = 0.03 + 0.27 / (1 + np.exp(-2 * X[:, [1, 3, 6]]))
Y = mean + noise_sd * rng.normal(size=mean.shape)

X_tr, X_va, Y_tr, Y_va = X[:2000], X[2000:], Y[:2000], Y[2000:]
train_dl = DataLoader(TensorDataset(torch.tensor(X_tr, dtype=torch.float32),
                                    torch.tensor(Y_tr, dtype=torch.float32)),
                      batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
Xv = torch.tensor(X_va, dtype=torch.float32)
Yv = torch.tensor(Y_va, dtype=torch.float32)


class HeteroMLP(nn.Module):
    def __init__(self, d_in, d_out, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(),
                                   nn.Linear(hidden, hidden), nn.GELU())
        self.mean = nn.Linear(hidden, d_out)
        self.var = nn.Linear(hidden, d_out)

    def forward(self, x):
        h = self.trunk(x)
        return self.mean(h), F.softplus(self.var(h)) + 1e-4


model = HeteroMLP(D, 3)
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[28, 38], gamma=0.1)
nll = nn.GaussianNLLLoss()

for epoch in range(45):
    model.train()
    total = 0.0
    for xb, yb in train_dl:
        mu, var = model(xb)
        loss = nll(mu, yb, var)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    sched.step()
    if epoch % 5 == 0 or epoch == 44:
        model.eval()
        with torch.no_grad():
            mu, var = model(Xv)
            vl = nll(mu, Yv, var).item()
            r2 = 1 - ((mu - Yv) ** 2).sum(0) / ((Yv - Yv.mean(0)) ** 2).sum(0)
            z = ((Yv - mu) / var.sqrt()).std().item()
        print(f"epoch {epoch:2d} train_nll {total / len(X_tr):+.4f} val_nll {vl:+.4f} "
              f"val_r2 {[round(v, 3) for v in r2.tolist()]} z_std {z:.3f}")

print(f"NNDOCTOR_METRIC val_mean_r2={r2.mean().item():.4f} higher")
