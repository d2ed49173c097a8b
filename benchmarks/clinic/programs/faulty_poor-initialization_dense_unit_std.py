"""Diabetes regression with a hand-written Dense layer whose weights are drawn with std 1 (no fan-in scaling), tanh MLP, Adagrad.
expect: poor-initialization
allow: saturated-activation, vanishing-gradient

The Dense layer is written by hand (weight as [in, out], x @ W + b) and
initialises W with plain torch.randn, i.e. std 1 instead of the Xavier std
sqrt(2/(fan_in+fan_out)) (~0.18 for 64 units) that tanh needs. With 64 inputs
per unit the pre-activations of hidden layers 2 and 3 have std ~8: at init
~70% of their tanh outputs are beyond |0.99| (36% in layer 1, fed by 10
standardised features), their derivative is ~0, the output has std ~8 on a
standardised target, and the network behaves like a fixed random binary
feature map with an over-scaled linear read-out that memorises the training
set; Adagrad's shrinking steps never get it out. The fix is to scale the
draw by the Xavier std.
Measured: faulty val_mse=20.2600 vs fixed val_mse=0.5715 (seed 1: 15.4992 vs 0.5183, seed 2: 23.4198 vs 0.5678)
"""

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
        self.W = nn.Parameter(torch.randn(n_in, n_out))
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
