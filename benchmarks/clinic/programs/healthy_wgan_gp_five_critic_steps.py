"""WGAN-GP on a 4-mode 2-D Gaussian mixture, Lightning manual-optimisation style: 5 critic steps per generator step, gradient penalty via torch.autograd.grad(create_graph=True).
expect: healthy
trap: critic loss is negative and drifts; generator loss (-E[D(G(z))]) rises while samples improve; generator params get a gradient only on every 5th batch; fake.detach() in the critic step; double-backward through the penalty; Adam with beta1=0

Standard WGAN-GP recipe (Gulrajani et al. 2017): lambda=10, n_critic=5, Adam(lr, betas=(0.0, 0.9)).
The module sets automatic_optimization=False and drives both optimizers itself, as in the Lightning
WGAN examples. Traps for a monitor: the critic loss is a negated Wasserstein estimate, so it is negative
and does not go to zero; the generator loss is an unnormalised critic score that keeps rising as the
critic's output shifts, even though the sample quality keeps improving; on 4 of 5 steps the generator
gets no backward pass at all, and its optimizer steps only every 5th batch (not a missing step); the
critic's fake.detach() is deliberate; the penalty is a gradient-of-gradient term, so the critic's
gradients come from a double backward. Quality is measured by the sliced Wasserstein distance to fresh
real samples.
Measured: test_swd=0.2339 (untrained generator 1.2018; seeds 1,2: 0.2326/0.3953)
"""
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

Z_DIM = 2


def ring(n, rng, modes=4, radius=2.0, std=0.1):
    k = rng.integers(0, modes, size=n)
    ang = 2 * np.pi * k / modes
    x = np.stack([radius * np.cos(ang), radius * np.sin(ang)], 1) + std * rng.standard_normal((n, 2))
    return torch.tensor(x, dtype=torch.float32)


class WGANGP(nn.Module):
    def __init__(self, lr=1e-3, n_critic=5, gp_lambda=10.0):
        super().__init__()
        self.automatic_optimization = False
        self.lr, self.n_critic, self.gp_lambda = lr, n_critic, gp_lambda
        self.generator = nn.Sequential(nn.Linear(Z_DIM, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                       nn.Linear(64, 2))
        self.critic = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                    nn.Linear(64, 1))
        self.log_dict = {"d_loss": [], "g_loss": [], "gp": [], "w_dist": []}

    def gradient_penalty(self, real, fake):
        alpha = torch.rand(len(real), 1)
        interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        out = self.critic(interp)
        grad, = torch.autograd.grad(out, interp, grad_outputs=torch.ones_like(out), create_graph=True)
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()

    def training_step(self, batch, batch_idx):
        opt_d, opt_g = self.optimizers
        (real,) = batch
        # -------- critic
        z = torch.randn(len(real), Z_DIM)
        fake = self.generator(z).detach()
        d_real, d_fake = self.critic(real).mean(), self.critic(fake).mean()
        gp = self.gradient_penalty(real, fake)
        d_loss = d_fake - d_real + self.gp_lambda * gp
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        self.log_dict["d_loss"].append(d_loss.item())
        self.log_dict["gp"].append(gp.item())
        self.log_dict["w_dist"].append((d_real - d_fake).item())
        # -------- generator, every n_critic batches
        if (batch_idx + 1) % self.n_critic == 0:
            z = torch.randn(len(real), Z_DIM)
            g_loss = -self.critic(self.generator(z)).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            self.log_dict["g_loss"].append(g_loss.item())

    def configure_optimizers(self):
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=self.lr, betas=(0.0, 0.9))
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.0, 0.9))
        return opt_d, opt_g


class Trainer:
    def __init__(self, max_steps):
        self.max_steps = max_steps

    def fit(self, module, loader):
        module.optimizers = module.configure_optimizers()
        module.train()
        step = 0
        while step < self.max_steps:
            for batch in loader:
                module.training_step(batch, step)  # manual optimisation: the module steps itself
                step += 1
                if step % 300 == 0:
                    L = module.log_dict
                    print(f"step {step:5d} d_loss {np.mean(L['d_loss'][-100:]):8.4f} "
                          f"W {np.mean(L['w_dist'][-100:]):.4f} gp {np.mean(L['gp'][-100:]):.4f} "
                          f"g_loss {np.mean(L['g_loss'][-20:]):8.4f}")
                if step >= self.max_steps:
                    break


def sliced_wasserstein(a, b, n_proj=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    proj = torch.randn(2, n_proj, generator=g)
    proj = proj / proj.norm(dim=0, keepdim=True)
    pa, _ = torch.sort(a @ proj, dim=0)
    pb, _ = torch.sort(b @ proj, dim=0)
    return (pa - pb).abs().mean().item()


def main():
    t0 = time.time()
    rng = np.random.default_rng(SEED)
    data = ring(8192, rng)
    ds = TensorDataset(data)
    # batch_size=None + BatchSampler: the dataset is indexed with a whole list of ids at once (fast)
    sampler = BatchSampler(RandomSampler(ds, generator=torch.Generator().manual_seed(SEED)), 128, drop_last=True)
    loader = DataLoader(ds, batch_size=None, sampler=sampler)
    gan = WGANGP()
    with torch.no_grad():
        init_swd = sliced_wasserstein(gan.generator(torch.randn(4000, Z_DIM)), ring(4000, np.random.default_rng(SEED + 100)))
    print(f"untrained generator swd {init_swd:.4f}")
    Trainer(max_steps=1500).fit(gan, loader)
    with torch.no_grad():
        gen = gan.generator(torch.randn(4000, Z_DIM))
    swd = sliced_wasserstein(gen, ring(4000, np.random.default_rng(SEED + 100)))
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC test_swd={swd:.4f} lower")


if __name__ == "__main__":
    main()
