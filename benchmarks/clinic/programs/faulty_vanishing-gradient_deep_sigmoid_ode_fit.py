"""Deep sigmoid MLP fitting the solution x(t) of a damped driven oscillator ODE; gradients vanish through ten sigmoid layers.
expect: vanishing-gradient
allow: saturated-activation

The "neural surrogate" cell fits x(t) (integrated with RK4 from x'' + 0.3 x' + 4 x = cos(1.5 t)) with a
deep, narrow MLP whose hidden layers all use nn.Sigmoid, copied from an old logistic-regression
notebook.  The sigmoid's derivative is at most 0.25, so the backpropagated signal shrinks by roughly
that factor per layer: the first layers' gradients are orders of magnitude smaller than the last
layer's, the net barely moves from predicting the mean curve, and the fit stays poor.  Fix: use
nn.Tanh (zero-centred, derivative up to 1) in the hidden layers.
Measured: faulty val_mse=0.1765 vs fixed val_mse=0.0008 (seed 1: 0.1768 vs 0.0013; seed 2: 0.1765 vs 0.0010)
"""
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)
torch.set_num_threads(1)


def rhs(t, s):
    x, v = s
    return np.array([v, np.cos(1.5 * t) - 0.3 * v - 4.0 * x])


# RK4 integration of the ODE on a fine grid
dt, T = 0.01, 12.0
ts = np.arange(0, T, dt)
state = np.array([1.0, 0.0])
xs = []
for t in ts:
    xs.append(state[0])
    k1 = rhs(t, state)
    k2 = rhs(t + dt / 2, state + dt / 2 * k1)
    k3 = rhs(t + dt / 2, state + dt / 2 * k2)
    k4 = rhs(t + dt, state + dt * k3)
    state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
xs = np.array(xs)

# noisy observations; every 5th grid point is held out
t_in = ((ts - ts.mean()) / ts.std()).astype(np.float32)[:, None]
x_obs = (xs + 0.02 * rng.standard_normal(len(xs))).astype(np.float32)[:, None]
val_mask = np.arange(len(ts)) % 5 == 0
Ttr, Xtr = torch.tensor(t_in[~val_mask]), torch.tensor(x_obs[~val_mask])
Tva, Xva = torch.tensor(t_in[val_mask]), torch.tensor(xs.astype(np.float32)[val_mask][:, None])

DEPTH, WIDTH = 10, 32
layers = [nn.Linear(1, WIDTH), nn.Sigmoid()]
for _ in range(DEPTH - 1):
    layers += [nn.Linear(WIDTH, WIDTH), nn.Sigmoid()]
layers.append(nn.Linear(WIDTH, 1))
surrogate = nn.Sequential(*layers)

opt = torch.optim.Adam(surrogate.parameters(), lr=3e-3)
loss_fn = nn.MSELoss()
BS = 128
STEPS = 1000
for step in range(STEPS):
    idx = torch.randint(0, len(Ttr), (BS,))
    opt.zero_grad()
    loss = loss_fn(surrogate(Ttr[idx]), Xtr[idx])
    loss.backward()
    opt.step()
    if step % 200 == 0 or step == STEPS - 1:
        with torch.no_grad():
            print(f"step {step:4d} loss {loss.item():.5f} val_mse {loss_fn(surrogate(Tva), Xva).item():.5f}")

with torch.no_grad():
    val_mse = loss_fn(surrogate(Tva), Xva).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
