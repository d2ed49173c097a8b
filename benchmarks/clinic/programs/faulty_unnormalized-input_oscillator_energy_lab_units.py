"""MLP regressing the energy decay of a damped spring-mass oscillator from lab-logged parameters; inputs are fed in raw lab units.
expect: unnormalized-input

The synthetic "lab log" records time in milliseconds (0..3000), mass in grams (200..2000), spring
constant in N/m (5..50) and damping in kg/s (0.05..0.8).  The target is the remaining energy fraction
E(t)/E0 = exp(-c t / m) plus measurement noise.  The notebook converts the columns straight to a
tensor, so the first layer sees features whose scales differ by four orders of magnitude and whose
means are far from zero: the ReLU MLP's first-layer pre-activations are dominated by t and m, and Adam
at a normal learning rate fits the curve poorly.  Fix: standardise the features with training-set
mean/std.
Measured: faulty val_mse=0.0985 vs fixed val_mse=0.0010 (seed 1: 0.1018 vs 0.0009; seed 2: 0.1114 vs 0.0008)
"""
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)
torch.set_num_threads(1)

N = 3000
t_ms = rng.uniform(0, 3000, N)
m_g = rng.uniform(200, 2000, N)
k = rng.uniform(5, 50, N)
c = rng.uniform(0.05, 0.8, N)
energy = np.exp(-c * (t_ms / 1000.0) / (m_g / 1000.0))
energy = energy + 0.01 * rng.standard_normal(N)

X = np.stack([t_ms, m_g, k, c], axis=1).astype(np.float32)
y = energy.astype(np.float32)[:, None]
n_tr = 2400
Xtr, Xva = torch.tensor(X[:n_tr]), torch.tensor(X[n_tr:])
ytr, yva = torch.tensor(y[:n_tr]), torch.tensor(y[n_tr:])

net = nn.Sequential(
    nn.Linear(4, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 1),
)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
mse = nn.MSELoss()

BS = 64
EPOCHS = 20
for epoch in range(EPOCHS):
    perm = torch.randperm(n_tr)
    for i in range(0, n_tr, BS):
        idx = perm[i:i + BS]
        opt.zero_grad()
        loss = mse(net(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        with torch.no_grad():
            print(f"epoch {epoch:2d} train_mse {mse(net(Xtr), ytr).item():.5f} val_mse {mse(net(Xva), yva).item():.5f}")

with torch.no_grad():
    val_mse = mse(net(Xva), yva).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
