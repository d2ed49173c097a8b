"""Inverse physics-informed network for a 1-D steady diffusion problem (learn u(x) and the diffusivity kappa); zero_grad sits above the loop, so gradients pile up.
expect: gradient-not-zeroed
allow: learning-rate-too-high, loss-not-decreasing

Problem: -kappa * u''(x) = f(x) on [0, 1] with u(0) = u(1) = 0, f known, kappa > 0 unknown
(kappa = softplus(raw_kappa)). The loss has three weighted terms: the PDE residual at 128
collocation points (u'' from torch.autograd.grad with create_graph=True), the boundary
condition, and 16 noisy measurements of u. The script was refactored from a closure-style
LBFGS loop to Adam and opt.zero_grad() ended up once before the training loop instead of
inside it. Every backward() now adds to the sum of all previous gradients: Adam follows a
running sum whose direction lags far behind the current gradient (momentum with beta = 1),
so u and kappa overshoot again and again: the loss climbs into the hundreds, kappa collapses
towards 0 (0.0033 at the end, true 0.7) and u is fitted badly. The fixed loop recovers
kappa = 0.687 and u to ~4e-3 RMSE.
Measured: faulty val_rmse=2.7487 vs fixed val_rmse=0.0044 (seed 1: 4.2354 vs 0.0074; seed 2: 4.6473 vs 0.0135)
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

KAPPA_TRUE = 0.7


def u_exact(x):
    return torch.sin(math.pi * x) + 0.3 * torch.sin(3 * math.pi * x)


def source(x):
    # f = -kappa * u''
    return KAPPA_TRUE * (math.pi ** 2 * torch.sin(math.pi * x)
                         + 0.3 * 9 * math.pi ** 2 * torch.sin(3 * math.pi * x))


rng = np.random.default_rng(SEED)
x_col = torch.linspace(0, 1, 128).unsqueeze(1)
x_obs = torch.from_numpy(rng.uniform(0.05, 0.95, size=(16, 1)).astype(np.float32))
u_obs = u_exact(x_obs) + 0.01 * torch.randn(16, 1)
x_bc = torch.tensor([[0.0], [1.0]])
x_val = torch.linspace(0, 1, 401).unsqueeze(1)
u_val = u_exact(x_val)

net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
raw_kappa = nn.Parameter(torch.tensor(math.log(math.expm1(0.2))))   # initial guess kappa = 0.2

W_PDE, W_BC, W_DATA = 1e-2, 10.0, 1.0


def pde_residual(x):
    x = x.clone().requires_grad_(True)
    u = net(x)
    du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    d2u = torch.autograd.grad(du.sum(), x, create_graph=True)[0]
    kappa = F.softplus(raw_kappa)
    return -kappa * d2u - source(x)


params = list(net.parameters()) + [raw_kappa]
opt = torch.optim.Adam(params, lr=3e-3)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[700], gamma=0.2)

opt.zero_grad()
for step in range(1200):
    r = pde_residual(x_col)
    loss_pde = (r ** 2).mean()
    loss_bc = (net(x_bc) ** 2).mean()
    loss_data = ((net(x_obs) - u_obs) ** 2).mean()
    loss = W_PDE * loss_pde + W_BC * loss_bc + W_DATA * loss_data
    loss.backward()
    opt.step()
    sched.step()
    if step % 200 == 0 or step == 1199:
        with torch.no_grad():
            vm = ((net(x_val) - u_val) ** 2).mean().item()
        print(f"step {step:4d} loss {loss.item():.5f} pde {loss_pde.item():.4f} "
              f"bc {loss_bc.item():.2e} data {loss_data.item():.2e} "
              f"kappa {F.softplus(raw_kappa).item():.4f} val_mse {vm:.2e}")

with torch.no_grad():
    val_rmse = ((net(x_val) - u_val) ** 2).mean().sqrt().item()
print(f"recovered kappa {F.softplus(raw_kappa).item():.4f} (true {KAPPA_TRUE})")
print(f"NNDOCTOR_METRIC val_rmse={val_rmse:.4f} lower")
