"""Physics surrogate: a tanh MLP learns the log steady-state amplitude of a damped driven oscillator, cosine LR decay.
expect: healthy
trap: tanh hidden layers everywhere (a naive monitor may expect vanishing gradients or saturation), and the cosine schedule drives the LR to ~1e-6 at the end, so the last ~150 updates are tiny by design, on an already-converged fit.

Engineering-style script: the analytic frequency response of a mass-spring-damper,
    A(r, zeta) = 1 / sqrt((1 - r^2)^2 + (2 zeta r)^2),  r = omega/omega_n in [0.2, 3], zeta in [0.05, 1],
is sampled on 1000 random design points and a 3x48 tanh MLP is fitted to log A (a smooth surface with a
resonance ridge near r = 1). Inputs and the target are standardized with training-set statistics, Xavier
init matches tanh, Adam + CosineAnnealingLR over 800 full-batch steps. When run, the validation MSE on the
standardized target fell from ~0.5 to 4.2e-4 (R^2 ~ 0.9996); anything below 1e-2 is a good surrogate here.
"""
import math

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


def log_amplitude(r, zeta):
    return -0.5 * np.log((1.0 - r ** 2) ** 2 + (2.0 * zeta * r) ** 2)


def sample_design(n, rng):
    r = rng.uniform(0.2, 3.0, n)
    zeta = np.exp(rng.uniform(math.log(0.05), math.log(1.0), n))  # log-uniform damping
    X = np.stack([r, np.log(zeta)], axis=1)
    return X, log_amplitude(r, zeta)


class Surrogate(nn.Module):
    def __init__(self, n_in=2, width=48, depth=3):
        super().__init__()
        layers, prev = [], n_in
        for _ in range(depth):
            lin = nn.Linear(prev, width)
            nn.init.xavier_uniform_(lin.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.Tanh()]
            prev = width
        layers.append(nn.Linear(prev, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(-1)


rng = np.random.default_rng(0)
X_tr, y_tr = sample_design(1000, rng)
X_va, y_va = sample_design(500, rng)

x_mu, x_sd = X_tr.mean(0), X_tr.std(0)
y_mu, y_sd = y_tr.mean(), y_tr.std()
to_t = lambda a: torch.tensor(a, dtype=torch.float32)
Xt, yt = to_t((X_tr - x_mu) / x_sd), to_t((y_tr - y_mu) / y_sd)
Xv, yv = to_t((X_va - x_mu) / x_sd), to_t((y_va - y_mu) / y_sd)

model = Surrogate()
steps = 800
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-6)
mse = nn.MSELoss()

for step in range(steps):
    model.train()
    opt.zero_grad()
    loss = mse(model(Xt), yt)
    loss.backward()
    opt.step()
    sched.step()
    if step % 200 == 0 or step == steps - 1:
        model.eval()
        with torch.no_grad():
            val = mse(model(Xv), yv).item()
        print(f"step {step:4d} lr {sched.get_last_lr()[0]:.2e} train {loss.item():.5f} val {val:.5f}")

model.eval()
with torch.no_grad():
    val_mse = mse(model(Xv), yv).item()
r2 = 1.0 - val_mse  # target is standardized, so var(y) ~ 1
print(f"val MSE {val_mse:.5f} (standardized), R^2 ~ {r2:.4f}")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.6f} lower")
