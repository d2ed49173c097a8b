"""Healthy twin of faulty_non-finite_heteroscedastic_relu_variance.py: the variance through softplus plus a small floor (1e-6) instead of ReLU.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class GaussianRegressor(nn.Module):
    def __init__(self, n_in, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mean_head = nn.Linear(hidden, 1)
        self.var_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.var_head.weight)
        nn.init.ones_(self.var_head.bias)

    def forward(self, x):
        h = self.body(x)
        mu = self.mean_head(h).squeeze(-1)
        var = F.softplus(self.var_head(h)).squeeze(-1) + 1e-6
        return mu, var


def gaussian_nll(mu, var, y):
    return (0.5 * torch.log(var) + 0.5 * (y - mu) ** 2 / var).mean()


data = load_diabetes()
X = torch.tensor(data.data, dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = (y - y.mean()) / y.std()

loader = DataLoader(TensorDataset(X[:380], y[:380]), batch_size=32, shuffle=True)
model = GaussianRegressor(X.shape[1])
opt = torch.optim.Adam(model.parameters(), lr=3e-3)

step = 0
for epoch in range(30):
    for xb, yb in loader:
        mu, var = model(xb)
        loss = gaussian_nll(mu, var, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    with torch.no_grad():
        mu, var = model(X[380:])
        val_nll = gaussian_nll(mu, var, y[380:]).item()
        val_mse = F.mse_loss(mu, y[380:]).item()
    print(f"epoch {epoch:2d}  step {step:3d}  train nll {loss.item():.4f}  val nll {val_nll:.4f}  "
          f"val mse {val_mse:.4f}  min var {var.min().item():.2e}")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
