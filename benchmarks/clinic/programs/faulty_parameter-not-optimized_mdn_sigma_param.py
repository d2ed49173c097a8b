"""Mixture density network on Bishop's inverse-sine problem; bug: the per-component log-sigma Parameter is in no param group.
expect: parameter-not-optimized

The optimizer is built from explicit param groups, one per submodule (trunk with weight decay, heads
without). The component widths are a bare nn.Parameter on the model, not a submodule, so they are in
none of the groups. They receive a gradient every step (the NLL depends on them), but no optimizer
ever applies it: every component keeps sigma = exp(0) = 1, far wider than the ~0.05 spread of y given a
branch, and the mixture can only model a heavily blurred density. Fix: add the parameter to a group.
Measured: faulty test_nll=0.9399 vs fixed test_nll=-0.1841 (seed 1: 0.9378 vs -0.2284, seed 2: 0.9393 vs -0.1997)
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


def inverse_sine(n, rng):
    # forward map x = y + 0.3 sin(2 pi y) + noise; we learn the (multi-valued) inverse p(y | x)
    y = rng.uniform(0.0, 1.0, n)
    x = y + 0.3 * np.sin(2 * np.pi * y) + rng.uniform(-0.1, 0.1, n)
    return (torch.tensor(x, dtype=torch.float32).unsqueeze(1),
            torch.tensor(y, dtype=torch.float32).unsqueeze(1))


rng = np.random.default_rng(SEED)
x_tr, y_tr = inverse_sine(3000, rng)
x_te, y_te = inverse_sine(1000, rng)
x_mean, x_std = x_tr.mean(), x_tr.std()


class MDN(nn.Module):
    def __init__(self, n_comp=6, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.pi_head = nn.Linear(hidden, n_comp)
        self.mu_head = nn.Linear(hidden, n_comp)
        self.log_sigma = nn.Parameter(torch.zeros(n_comp))  # one width per component

    def forward(self, x):
        h = self.trunk((x - x_mean) / x_std)
        log_pi = F.log_softmax(self.pi_head(h), dim=-1)
        mu = self.mu_head(h)
        log_sigma = self.log_sigma.clamp(-7.0, 5.0).expand_as(mu)
        return log_pi, mu, log_sigma


def mdn_nll(log_pi, mu, log_sigma, y):
    z = (y - mu) * torch.exp(-log_sigma)
    log_n = -0.5 * z * z - log_sigma - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(log_pi + log_n, dim=-1).mean()


mdn = MDN()
opt = torch.optim.Adam([
    {"params": mdn.trunk.parameters(), "weight_decay": 1e-4},
    {"params": mdn.pi_head.parameters()},
    {"params": mdn.mu_head.parameters()},
], lr=3e-3)

n_steps, bs = 1500, 128
for step in range(n_steps):
    idx = torch.randint(0, len(x_tr), (bs,))
    loss = mdn_nll(*mdn(x_tr[idx]), y_tr[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 250 == 0 or step == n_steps - 1:
        print(f"step {step:4d} nll {loss.item():+.4f}")

with torch.no_grad():
    log_pi, mu, log_sigma = mdn(x_te)
    test_nll = mdn_nll(log_pi, mu, log_sigma, y_te).item()
    print(f"mean sigma {log_sigma.exp().mean().item():.4f}")
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
