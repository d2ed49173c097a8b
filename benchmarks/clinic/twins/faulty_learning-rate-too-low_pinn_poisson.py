"""Physics-informed network for the 1-D Poisson problem -u'' = f on [0, 1] with Dirichlet boundaries, trained with Adam at lr=1e-5.
expect: learning-rate-too-low
allow: loss-not-decreasing

The PINN residual is computed with autograd (u_xx via two torch.autograd.grad calls) at 64 random
collocation points per step plus a boundary penalty.  The learning rate was copied from a fine-tuning
recipe ("PINNs are stiff, keep the LR small"): at 1e-5 Adam moves each weight by ~1e-5 per step, so in
1200 steps only the boundary penalty gets fitted (it is cheap: a bias shift), the PDE residual loss
stays at ~0.5 and the solution error stays near the error of the zero function.  With lr=3e-3 the same loop reaches a relative L2 error below 0.1.
Measured: faulty rel_l2=0.9975 vs fixed rel_l2=0.0693 (seed 0); seeds 1/2: 0.9888 vs 0.0785, 0.9982 vs 0.0317
"""
import math
import time
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

# exact solution u(x) = sin(2 pi x) + x(1-x);  -u'' = 4 pi^2 sin(2 pi x) + 2
def u_exact(x):
    return torch.sin(2 * math.pi * x) + x * (1 - x)


def forcing(x):
    return 4 * math.pi ** 2 * torch.sin(2 * math.pi * x) + 2.0


net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                    nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
opt = torch.optim.Adam(net.parameters(), lr=3e-3)

xb = torch.tensor([[0.0], [1.0]])
ub = u_exact(xb)
for step in range(1200):
    x = torch.rand(64, 1, requires_grad=True)
    u = net(x)
    du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    d2u = torch.autograd.grad(du.sum(), x, create_graph=True)[0]
    res = -d2u - forcing(x)
    loss_pde = (res ** 2).mean() / (4 * math.pi ** 2) ** 2   # scale residual to O(1)
    loss_bc = ((net(xb) - ub) ** 2).mean()
    loss = loss_pde + 10.0 * loss_bc
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 300 == 0 or step == 1199:
        print(f"step {step:4d} loss={loss.item():.5f} pde={loss_pde.item():.5f} bc={loss_bc.item():.5f}")

xt = torch.linspace(0, 1, 401).unsqueeze(1)
with torch.no_grad():
    err = torch.linalg.norm(net(xt) - u_exact(xt)) / torch.linalg.norm(u_exact(xt))
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC rel_l2={err.item():.4f} lower")
