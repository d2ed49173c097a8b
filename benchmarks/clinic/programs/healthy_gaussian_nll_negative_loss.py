"""Heteroscedastic regression on synthetic data: the network predicts a mean and a variance and is trained with nn.GaussianNLLLoss, whose value goes negative as the predicted variance shrinks below 1/(2 pi e).

expect: healthy
trap: a loss that crosses zero and keeps falling below it (-1.5 at the end), a softplus variance head, target noise that depends on x

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: test NLL -1.79, mean RMSE 0.122 against noise std 0.02-0.2.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N = 4000
x = torch.rand(N, 1) * 2 - 1
noise_sd = 0.02 + 0.18 * (x + 1) / 2
y = torch.sin(3 * x) + noise_sd * torch.randn(N, 1)
xtr, ytr, xte, yte = x[:3000], y[:3000], x[3000:], y[3000:]


class MeanVar(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh())
        self.mean = nn.Linear(64, 1)
        self.var = nn.Linear(64, 1)

    def forward(self, inp):
        h = self.body(inp)
        return self.mean(h), F.softplus(self.var(h)) + 1e-6


model = MeanVar()
nll = nn.GaussianNLLLoss()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(1500):
    idx = torch.randint(0, len(xtr), (128,))
    mu, var = model(xtr[idx])
    loss = nll(mu, ytr[idx], var)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 250 == 0:
        print(f"step {step} nll {loss.item():.3f}")
with torch.no_grad():
    mu, var = model(xte)
    test_nll = nll(mu, yte, var).item()
    rmse = math.sqrt(F.mse_loss(mu, yte).item())
print(f"test nll {test_nll:.3f} rmse {rmse:.3f}")
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
