"""Fixed version of faulty_broken-gradient-flow_cgan_cached_detached_fake.py: the one-line fix of its docstring.
Measured: cond_hit_rate=0.9995. From the seventh held-out audit (hand-rolled training frameworks, resumes, GANs).
"""
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_CLASSES, Z_DIM = 8, 8
CENTERS = torch.tensor([[2 * math.cos(2 * math.pi * k / N_CLASSES), 2 * math.sin(2 * math.pi * k / N_CLASSES)]
                        for k in range(N_CLASSES)], dtype=torch.float32)


def make_ring(n, rng):
    y = rng.integers(0, N_CLASSES, size=n)
    x = CENTERS.numpy()[y] + 0.1 * rng.standard_normal((n, 2))
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(N_CLASSES, 8)
        self.net = nn.Sequential(nn.Linear(Z_DIM + 8, 64), nn.LeakyReLU(0.2),
                                 nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 2))

    def forward(self, z, y):
        return self.net(torch.cat([z, self.emb(y)], 1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(N_CLASSES, 8)
        self.net = nn.Sequential(nn.Linear(2 + 8, 64), nn.LeakyReLU(0.2),
                                 nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def forward(self, x, y):
        return self.net(torch.cat([x, self.emb(y)], 1)).squeeze(1)


class ConditionalGAN(nn.Module):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.lr = lr
        self.G = Generator()
        self.D = Discriminator()
        self.history = {"d_loss": [], "g_loss": []}

    def training_step(self, batch, batch_idx, optimizer_idx):
        x, y = batch
        if optimizer_idx == 0:  # ---- discriminator
            z = torch.randn(len(x), Z_DIM)
            self.fake = self.G(z, y)
            d_real = self.D(x, y)
            d_fake = self.D(self.fake.detach(), y)
            loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
            self.history["d_loss"].append(loss.item())
            return loss
        if optimizer_idx == 1:  # ---- generator (reuse this batch's fakes)
            d_fake = self.D(self.fake, y)
            loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
            self.history["g_loss"].append(loss.item())
            return loss

    def configure_optimizers(self):
        opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.999))
        return [opt_d, opt_g]


class Trainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs

    def fit(self, module, loader):
        optimizers = module.configure_optimizers()
        module.train()
        for epoch in range(self.max_epochs):
            for batch_idx, batch in enumerate(loader):
                for opt_idx, opt in enumerate(optimizers):
                    loss = module.training_step(batch, batch_idx, opt_idx)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            if epoch % 5 == 0 or epoch == self.max_epochs - 1:
                h = module.history
                print(f"epoch {epoch:2d} d_loss {np.mean(h['d_loss'][-len(loader):]):.3f} "
                      f"g_loss {np.mean(h['g_loss'][-len(loader):]):.3f}")


@torch.no_grad()
def cond_hit_rate(G, n_per_class=500):
    """share of generated points that land within 0.4 of the centre of the class they were asked for"""
    y = torch.arange(N_CLASSES).repeat_interleave(n_per_class)
    x = G(torch.randn(len(y), Z_DIM), y)
    return ((x - CENTERS[y]).norm(dim=1) < 0.4).float().mean().item()


def main():
    t0 = time.time()
    rng = np.random.default_rng(SEED)
    x, y = make_ring(4096, rng)
    loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True,
                        generator=torch.Generator().manual_seed(SEED))
    gan = ConditionalGAN()
    Trainer(max_epochs=15).fit(gan, loader)
    gan.eval()
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC cond_hit_rate={cond_hit_rate(gan.G):.4f} higher")


if __name__ == "__main__":
    main()
