"""Heteroscedastic regression on diabetes with a hand-written Gaussian NLL whose variance comes from a ReLU.

expect: non-finite
allow: loss-not-decreasing, exploding-gradient, learning-rate-too-high

The network predicts a mean and a variance per patient and is trained with the Gaussian
negative log-likelihood written out by hand, `0.5 * log(var) + 0.5 * (y - mu)**2 / var`.
To keep the variance positive the author used `F.relu(...)` and started the variance head
at exactly 1 (zero weights, bias 1). The NLL keeps pushing the variance down for patients
the mean fits well (the smallest variance in a batch falls from 1 to ~0.03 by step 81);
at step 82 (epoch 6) two pre-activations cross zero, those variances are exactly 0,
log(0) = -inf and r^2/0 = inf make the loss NaN, the backward pass fills the gradients
of the body and the mean head with NaN (the variance head's are finite at that step: the
ReLU passes no gradient at 0) and Adam writes NaN into those parameters; from step 83 on
everything is NaN. (softplus plus a small floor, or predicting log-variance, avoids it.)
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
        var = F.relu(self.var_head(h)).squeeze(-1)
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
