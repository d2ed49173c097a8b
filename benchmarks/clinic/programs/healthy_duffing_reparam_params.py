"""Hybrid physics + MLP model of a damped Duffing oscillator, trained by multiple shooting through a hand-written differentiable RK4; physical constants kept positive by softplus.
expect: healthy
trap: raw parameters behind softplus get small gradients (the damping c ends near 0.04, deep in softplus' flat tail, so dc/draw_c ~ 0.04); all gradients are ~1e-4..1e-5 at the end because the fit has converged; gradients flow back through 10 RK4 steps (40 MLP calls); a separate param group for the physical constants; k and the MLP's linear part trade off (k is not exactly identifiable) without harming the fit

Model: x'' = -k x - c x' - g(x), with k = softplus(raw_k), c = softplus(raw_c) and the
unknown nonlinear restoring force g given by a small tanh MLP (g(0) = 0 enforced). Four
noisy observed trajectories (position and velocity) are cut into 304 overlapping 10-step
windows; each window is integrated from its observed start state with a hand-written RK4
and compared with the observations (multiple shooting keeps the problem well-posed). The
metric is the error of a 100-step free-running rollout from a new initial condition. The
true damping is small (0.03), so raw_c lives where softplus is almost flat and its gradient
is ~25x smaller than the gradient with respect to c itself; with Adam this is harmless: c
goes from 0.21 to 0.044 and the training loss from 0.28 to 3e-4.
Measured: val_mse=0.0026 (seed 1: 0.0011; seed 2: 0.0007)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

DT, T_OBS, WIN, T_VAL = 0.1, 160, 10, 100
K_TRUE, C_TRUE, BETA_TRUE = 2.0, 0.03, 0.8


def rk4_step(accel, x, v):
    k1x, k1v = v, accel(x, v)
    k2x, k2v = v + 0.5 * DT * k1v, accel(x + 0.5 * DT * k1x, v + 0.5 * DT * k1v)
    k3x, k3v = v + 0.5 * DT * k2v, accel(x + 0.5 * DT * k2x, v + 0.5 * DT * k2v)
    k4x, k4v = v + DT * k3v, accel(x + DT * k3x, v + DT * k3v)
    return (x + DT / 6 * (k1x + 2 * k2x + 2 * k3x + k4x),
            v + DT / 6 * (k1v + 2 * k2v + 2 * k3v + k4v))


def rollout(accel, x, v, n_steps):
    xs, vs = [], []
    for _ in range(n_steps):
        x, v = rk4_step(accel, x, v)
        xs.append(x)
        vs.append(v)
    return torch.stack(xs, 1), torch.stack(vs, 1)          # (B, n_steps) each


def true_acc(x, v):
    return -K_TRUE * x - C_TRUE * v - BETA_TRUE * x ** 3


# ------------------------------------------------------------------ observations
with torch.no_grad():
    x0 = torch.tensor([1.5, -1.0, 0.6, 2.0])
    v0 = torch.tensor([0.0, 1.0, -1.5, 0.5])
    xs, vs = rollout(true_acc, x0, v0, T_OBS)
    x_obs = torch.cat([x0[:, None], xs], 1) + 0.01 * torch.randn(4, T_OBS + 1)
    v_obs = torch.cat([v0[:, None], vs], 1) + 0.01 * torch.randn(4, T_OBS + 1)
    starts = torch.arange(0, T_OBS - WIN + 1, 2)
    win_x0 = x_obs[:, starts].reshape(-1)                 # (W,)
    win_v0 = v_obs[:, starts].reshape(-1)
    tgt_idx = starts[:, None] + torch.arange(1, WIN + 1)   # (S, WIN)
    win_tgt = x_obs[:, tgt_idx].reshape(-1, WIN)            # (W, WIN)
    # held-out initial condition, free-running
    xv0, vv0 = torch.tensor([1.2]), torch.tensor([-0.8])
    x_val, _ = rollout(true_acc, xv0, vv0, T_VAL)
print(f"{len(win_x0)} shooting windows of {WIN} steps")


class HybridOscillator(nn.Module):
    def __init__(self):
        super().__init__()
        self.raw_k = nn.Parameter(torch.tensor(0.5))          # k = softplus(.) ~ 0.97 to start
        self.raw_c = nn.Parameter(torch.tensor(-1.5))         # c ~ 0.20 to start
        self.g = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))

    @property
    def k(self):
        return F.softplus(self.raw_k)

    @property
    def c(self):
        return F.softplus(self.raw_c)

    def accel(self, x, v):
        g = self.g(x.unsqueeze(-1)).squeeze(-1) - self._g0
        return -self.k * x - self.c * v - g

    def forward(self, x, v, n_steps):
        self._g0 = self.g(torch.zeros(1, 1)).squeeze()       # enforce g(0) = 0
        return rollout(self.accel, x, v, n_steps)[0]


model = HybridOscillator()
phys = [model.raw_k, model.raw_c]
opt = torch.optim.Adam([{"params": phys, "lr": 5e-2},
                        {"params": model.g.parameters(), "lr": 5e-2}])
ITERS = 200
for it in range(ITERS):
    pred = model(win_x0, win_v0, WIN)
    loss = F.mse_loss(pred, win_tgt)
    opt.zero_grad()
    loss.backward()
    if it in (0, ITERS - 1):
        print(f"  |grad raw_c| {model.raw_c.grad.abs().item():.2e}  "
              f"|grad raw_k| {model.raw_k.grad.abs().item():.2e}  "
              f"|grad g.0.weight| {model.g[0].weight.grad.norm().item():.2e}")
    opt.step()
    if it % 50 == 0 or it == ITERS - 1:
        print(f"iter {it:3d} loss {loss.item():.6f} k {model.k.item():.3f} c {model.c.item():.4f}")

with torch.no_grad():
    val_mse = F.mse_loss(model(xv0, vv0, T_VAL), x_val).item()
print(f"true k {K_TRUE} (g absorbs part of it) c {C_TRUE}")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
