"""A GAN on a ring of 8 Gaussians: spectral-normalized discriminator, hinge loss, two D steps per G step, Adam(beta1=0, beta2=0.9), written as a small class with train_step().

expect: healthy
trap: two networks with opposing losses (the D loss hovers near 2 - its hinge equilibrium - and the G loss drifts), spectral_norm parametrizations (a power iteration every forward), fake.detach() for the D step, several optimizers

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: 59% of generated points fall within 0.5 of a mode after 600 iterations and all 8
modes are covered.
"""
import math

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

torch.manual_seed(0)
MODES = torch.tensor([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)])


def sample_real(n):
    return MODES[torch.randint(0, 8, (n,))] + 0.05 * torch.randn(n, 2)


class GAN:
    def __init__(self, z_dim=8):
        self.z_dim = z_dim
        self.G = nn.Sequential(nn.Linear(z_dim, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
        self.D = nn.Sequential(spectral_norm(nn.Linear(2, 128)), nn.LeakyReLU(0.2),
                               spectral_norm(nn.Linear(128, 128)), nn.LeakyReLU(0.2),
                               spectral_norm(nn.Linear(128, 1)))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-3, betas=(0.0, 0.9))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-3, betas=(0.0, 0.9))

    def train_step(self, n=128, d_steps=2):
        for _ in range(d_steps):
            fake = self.G(torch.randn(n, self.z_dim)).detach()
            d_loss = torch.relu(1 - self.D(sample_real(n))).mean() + torch.relu(1 + self.D(fake)).mean()
            self.opt_d.zero_grad(); d_loss.backward(); self.opt_d.step()
        g_loss = -self.D(self.G(torch.randn(n, self.z_dim))).mean()
        self.opt_g.zero_grad(); g_loss.backward(); self.opt_g.step()
        return d_loss.item(), g_loss.item()

    @torch.no_grad()
    def quality(self, n=2000):
        pts = self.G(torch.randn(n, self.z_dim))
        dist = torch.cdist(pts, MODES)
        near = dist.min(1).values < 0.5
        covered = len(set(dist.argmin(1)[near].tolist()))
        return near.float().mean().item(), covered


gan = GAN()
print("init quality", gan.quality())
for it in range(600):
    d, g = gan.train_step()
    if it % 150 == 0:
        print(f"it {it} d_loss {d:.3f} g_loss {g:.3f} quality {gan.quality()}")
frac, covered = gan.quality()
print(f"final near-mode fraction {frac:.3f} modes covered {covered}")
print(f"NNDOCTOR_METRIC near_mode={frac:.4f} higher")
