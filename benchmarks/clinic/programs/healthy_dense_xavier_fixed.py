"""Diabetes regression with hand-written Dense layers (W stored (in, out), x @ W + b) Xavier-initialized, a tanh MLP, Adagrad.

expect: healthy
trap: layers written by hand (a module of no known type with a weight matrix of its own, its layout (in, out) and not nn.Linear's (out, in)), a functional torch.tanh applied in a loop (one call site for every layer), a small standardized regression target

The fixed version of faulty_poor-initialization_dense_unit_std.py (fifth held-out audit): the draw scaled by the
Xavier std sqrt(2/(fan_in+fan_out)). Trains well: val_mse 0.57 on a standardized target (seeds 1, 2: 0.52, 0.56).
"""
import math

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class Dense(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.W = nn.Parameter(torch.randn(n_in, n_out) * math.sqrt(2.0 / (n_in + n_out)))
        self.b = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.W + self.b


class TanhMLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(Dense(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return self.layers[-1](x)


X, y = load_diabetes(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED)
xm, xs = Xtr.mean(0), Xtr.std(0)
ym, ys = ytr.mean(), ytr.std()
Xtr = torch.tensor((Xtr - xm) / xs, dtype=torch.float32)
Xva = torch.tensor((Xva - xm) / xs, dtype=torch.float32)
ytr = torch.tensor((ytr - ym) / ys, dtype=torch.float32)
yva = torch.tensor((yva - ym) / ys, dtype=torch.float32)

model = TanhMLP([10, 64, 64, 64, 1])
opt = torch.optim.Adagrad(model.parameters(), lr=0.01)
mse = nn.MSELoss()

BATCH = 32
for epoch in range(30):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad()
        loss = mse(model(Xtr[idx]).squeeze(1), ytr[idx])
        loss.backward()
        opt.step()
    if epoch % 5 == 0 or epoch == 29:
        model.eval()
        with torch.no_grad():
            v = mse(model(Xva).squeeze(1), yva).item()
        print(f"epoch {epoch:2d} train_mse {loss.item():.4f} val_mse {v:.4f}")

model.eval()
with torch.no_grad():
    val_mse = mse(model(Xva).squeeze(1), yva).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
