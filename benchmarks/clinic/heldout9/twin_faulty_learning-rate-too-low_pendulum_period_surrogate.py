"""Physics surrogate: an MLP learns the large-amplitude pendulum period T(L, theta0) with SGD + momentum.
expect: healthy
trap: tanh hidden layers and a smooth target: from step ~400 the loss is below 1e-3 and improves only slowly (1e-4 scale by the end), which is a nearly converged fit, not a vanishing gradient or a too-low learning rate.

Engineering-style script. The exact period of a simple pendulum is T = 4 sqrt(L/g) K(sin(theta0/2)) with K
the complete elliptic integral of the first kind; it is sampled for L in [0.1, 2] m and amplitudes
theta0 in [0.05, 2.8] rad, inputs and target are standardized, and a 2x32 tanh MLP is fitted with
mini-batch SGD + momentum 0.9 at lr = 5e-2 (the fix: the faulty version kept Adam's 1e-4). When run (1200
steps): val MSE (standardized target) 0.00017, mean relative period error 0.43%.
"""
import numpy as np
import torch
import torch.nn as nn
from scipy.special import ellipk

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)

G = 9.81


def pendulum_period(L, theta0):
    k = np.sin(theta0 / 2.0)
    return 4.0 * np.sqrt(L / G) * ellipk(k ** 2)  # scipy's ellipk takes m = k^2


rng = np.random.default_rng(0)
n_train, n_val = 1024, 400
L = rng.uniform(0.1, 2.0, n_train + n_val)
theta0 = rng.uniform(0.05, 2.8, n_train + n_val)
X = np.stack([L, theta0], axis=1)
y = pendulum_period(L, theta0)

x_mu, x_sd = X[:n_train].mean(0), X[:n_train].std(0)
y_mu, y_sd = y[:n_train].mean(), y[:n_train].std()
Xs = torch.tensor((X - x_mu) / x_sd, dtype=torch.float32)
ys = torch.tensor((y - y_mu) / y_sd, dtype=torch.float32)
Xtr, ytr, Xva, yva = Xs[:n_train], ys[:n_train], Xs[n_train:], ys[n_train:]

model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
lr = 5e-2
opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
loss_fn = nn.MSELoss()

batch, steps = 64, 1200
g = torch.Generator().manual_seed(0)
step = 0
while step < steps:
    perm = torch.randperm(n_train, generator=g)
    for i in range(0, n_train, batch):
        idx = perm[i:i + batch]
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(Xtr[idx]).squeeze(-1), ytr[idx])
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0:
            model.eval()
            with torch.no_grad():
                val = loss_fn(model(Xva).squeeze(-1), yva).item()
            print(f"step {step:5d} train {loss.item():.4f} val {val:.4f}")
        if step >= steps:
            break

model.eval()
with torch.no_grad():
    pred = model(Xva).squeeze(-1)
    val_mse = loss_fn(pred, yva).item()
    rel_err = ((pred * y_sd + y_mu - torch.tensor(y[n_train:])).abs() / torch.tensor(y[n_train:])).mean().item()
print(f"val MSE (standardized) {val_mse:.5f}, mean relative period error {rel_err:.2%}")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.6f} lower")
