"""Engineering surrogate for the convective heat-transfer coefficient of a cylinder in cross-flow, fed raw SI-unit inputs.
expect: unnormalized-input
allow: dead-relu, loss-not-decreasing

Script-style fit of a neural surrogate to the Churchill-Bernstein correlation for a cylinder in air
cross-flow. Design variables are sampled in SI units: free-stream velocity U in [0.5, 30] m/s, diameter
D in [0.005, 0.1] m, film temperature T in [280, 450] K and absolute pressure p in [0.8e5, 3e5] Pa; air
properties (density from the ideal-gas law, Sutherland viscosity, conductivity) give Re, Pr, Nu and the
heat-transfer coefficient h. The author log-transformed and standardized the target (h spans two decades)
but fed the four inputs to the MLP as they are: feature means 15, 0.053, 365 and 1.9e5, stds 8.6, 0.027,
49 and 6.3e4, so scales differ by ~7 orders of magnitude and the first layer is dominated by pressure. The
first forward pass outputs values in the thousands (loss 1.2e8), Adam's first updates wreck the ReLU layers
and the model settles on predicting the mean. When run (Adam lr 1e-3, 1000 mini-batch steps): val MSE on
standardized log h 0.972 (64% mean error in h), vs the twin (inputs standardized with training-set
mean/std, the one change) at 0.0044 (2.9% error).
"""
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)

R_AIR = 287.05


def air_properties(T, p):
    rho = p / (R_AIR * T)
    mu = 1.458e-6 * T ** 1.5 / (T + 110.4)              # Sutherland's law
    k = 0.0241 * (T / 273.15) ** 0.81                   # conductivity, power-law fit
    cp = 1005.0
    return rho, mu, k, cp


def churchill_bernstein_h(U, D, T, p):
    rho, mu, k, cp = air_properties(T, p)
    Re = rho * U * D / mu
    Pr = mu * cp / k
    Nu = 0.3 + (0.62 * Re ** 0.5 * Pr ** (1 / 3)) / (1 + (0.4 / Pr) ** (2 / 3)) ** 0.25 \
        * (1 + (Re / 282000.0) ** (5 / 8)) ** 0.8
    return Nu * k / D


rng = np.random.default_rng(0)
n = 3000
U = rng.uniform(0.5, 30.0, n)
D = rng.uniform(0.005, 0.1, n)
T = rng.uniform(280.0, 450.0, n)
p = rng.uniform(0.8e5, 3.0e5, n)
X = np.stack([U, D, T, p], axis=1)
y = np.log(churchill_bernstein_h(U, D, T, p))

n_tr = 2400
X_tr, X_va = X[:n_tr], X[n_tr:]
y_mu, y_sd = y[:n_tr].mean(), y[:n_tr].std()
y_tr, y_va = (y[:n_tr] - y_mu) / y_sd, (y[n_tr:] - y_mu) / y_sd
print("raw input means:", np.array2string(X_tr.mean(0), precision=3))
print("raw input stds: ", np.array2string(X_tr.std(0), precision=3))

Xtr_t = torch.tensor(X_tr, dtype=torch.float32)
Xva_t = torch.tensor(X_va, dtype=torch.float32)
ytr_t = torch.tensor(y_tr, dtype=torch.float32)
yva_t = torch.tensor(y_va, dtype=torch.float32)

model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()
g = torch.Generator().manual_seed(0)
steps, batch = 1000, 64
for step in range(steps):
    model.train()
    idx = torch.randint(0, n_tr, (batch,), generator=g)
    opt.zero_grad()
    loss = loss_fn(model(Xtr_t[idx]).squeeze(-1), ytr_t[idx])
    loss.backward()
    opt.step()
    if step % 200 == 0 or step == steps - 1:
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(Xva_t).squeeze(-1), yva_t).item()
        print(f"step {step:4d} train {loss.item():.4f} val {val:.4f}")

model.eval()
with torch.no_grad():
    pred = model(Xva_t).squeeze(-1)
    val_mse = loss_fn(pred, yva_t).item()
h_err = np.mean(np.abs(np.exp(pred.numpy() * y_sd + y_mu) / np.exp(y[n_tr:]) - 1.0))
print(f"val MSE (standardized log h) {val_mse:.5f}, mean relative error in h {h_err:.1%}")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.5f} lower")
