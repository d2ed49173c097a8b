"""WGAN-GP on a 2-D ring of 8 Gaussians: gradient penalty via create_graph=True double backward, 5 critic steps per generator step.

expect: healthy
trap: the generator optimizer steps only once every 5 iterations, the critic sees fake.detach(), the critic loss is a signed Wasserstein estimate that is negative and not monotone, and the gradient penalty needs a double backward (create_graph=True)

Critic loss = E[D(fake)] - E[D(real)] + 10 * GP, where GP = E[(||grad_x D(x_hat)||
- 1)^2] on random interpolates, computed with torch.autograd.grad(...,
create_graph=True) so the penalty itself is differentiated (double backward).
During critic steps the generator output is detached, so the generator gets no
gradient then; the generator is updated every 5th iteration (n_critic=5,
Adam(1e-3, betas=(0.5, 0.9)) as in the WGAN-GP paper's toy setup). The critic
loss goes negative and wanders as the two players chase each other; that is how
a WGAN critic loss looks when training works.
Quality metric: mean distance from a generated sample to the nearest of the 8
mode centres (radius 2, std 0.05 per mode; a perfect generator gives ~0.06,
the initial generator gives ~1.9).
Measured (plain run): mode distance 1.79 at init -> 0.36 after 3000 critic
iterations (600 generator steps), all 8 modes covered.
"""
import math

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

centers = torch.tensor([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)]
                        for k in range(8)], dtype=torch.float32)


def sample_real(n):
    k = torch.randint(0, 8, (n,))
    return centers[k] + 0.05 * torch.randn(n, 2)


G = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
D = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
n_critic, lam, bs = 5, 10.0, 256


def gradient_penalty(real, fake):
    eps = torch.rand(real.shape[0], 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = D(x_hat)
    (g,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((g.norm(2, dim=1) - 1) ** 2).mean()


def mode_distance(n=2000):
    with torch.no_grad():
        s = G(torch.randn(n, 4))
    d = torch.cdist(s, centers)
    return d.min(1).values.mean().item(), len(torch.unique(d.argmin(1)[d.min(1).values < 0.3]))


print(f"init mode distance {mode_distance()[0]:.4f}")
iters = 3000
for it in range(iters):
    real = sample_real(bs)
    fake = G(torch.randn(bs, 4)).detach()
    d_loss = D(fake).mean() - D(real).mean() + lam * gradient_penalty(real, fake)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()

    if it % n_critic == n_critic - 1:
        g_loss = -D(G(torch.randn(bs, 4))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    if it % 1000 == 999:
        md, cov = mode_distance()
        print(f"iter {it + 1} d_loss {d_loss.item():.4f} g_loss {g_loss.item():.4f} mode_dist {md:.4f} modes {cov}")

md, cov = mode_distance(5000)
print(f"modes covered {cov}/8")
print(f"NNDOCTOR_METRIC mode_distance={md:.4f} lower")
