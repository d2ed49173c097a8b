"""Fixed version of faulty_gradient-not-zeroed_inverse_pinn.py: the one-line fix of its docstring.
Measured: val_rmse=0.0044. From the seventh held-out audit (graph, scientific and custom-autograd code).
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

for step in range(1200):
    opt.zero_grad()
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
