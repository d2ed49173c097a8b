"""Conditional GAN (label-embedding MLPs) on 8x8 sklearn digits with a hand-rolled Lightning-style Trainer; generator loss rises throughout while class-conditional sample quality improves.
expect: healthy
trap: generator loss climbs from ~1.0 (first steps) to 2-2.5 and ends ~2x above its start while samples improve; discriminator loss falls well below log(4); fake.detach() in the discriminator step; the generator step back-propagates into D's parameters, whose grads are then discarded; two optimizers with different LRs (TTUR)

Non-saturating cGAN: D sees (image, label embedding), G sees (noise, label embedding). TTUR: D learns
4x faster than G. Early on G's samples are blobs that D cannot yet tell apart; as D sharpens, the
non-saturating generator loss -log D(G(z)) climbs from ~1.0 (first steps) to 2-2.5 and stays far above
its start, and D's loss sinks below log 4, which a naive monitor may call "generator diverging" or
"loss increasing". Meanwhile the samples get better:
a logistic-regression classifier fitted on the real digits recognises the requested class in a rising
share of generated images. G's backward pass also fills D.grad; those grads are zeroed by the
discriminator optimizer before its next backward (normal GAN training, not a gradient-not-zeroed case).
Measured: cond_acc=0.8960 (untrained G: 0.100; seeds 1,2: 0.8820/0.8010; g_loss first/last 20 steps 1.01 -> 1.63)
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

Z_DIM, N_CLASSES = 16, 10


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_emb = nn.Embedding(N_CLASSES, 10)
        self.net = nn.Sequential(nn.Linear(Z_DIM + 10, 128), nn.LeakyReLU(0.2),
                                 nn.Linear(128, 128), nn.LeakyReLU(0.2),
                                 nn.Linear(128, 64), nn.Tanh())

    def forward(self, z, y):
        return self.net(torch.cat([z, self.label_emb(y)], dim=1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_emb = nn.Embedding(N_CLASSES, 10)
        self.net = nn.Sequential(nn.Linear(64 + 10, 128), nn.LeakyReLU(0.2),
                                 nn.Linear(128, 64), nn.LeakyReLU(0.2),
                                 nn.Linear(64, 1))

    def forward(self, x, y):
        return self.net(torch.cat([x, self.label_emb(y)], dim=1)).squeeze(1)


class CGAN(nn.Module):
    def __init__(self, lr_g=5e-4, lr_d=2e-3):
        super().__init__()
        self.G, self.D = Generator(), Discriminator()
        self.lr_g, self.lr_d = lr_g, lr_d
        self.logs = {"d_loss": [], "g_loss": []}

    def discriminator_step(self, x, y):
        z = torch.randn(len(x), Z_DIM)
        fake = self.G(z, y)
        real_logit, fake_logit = self.D(x, y), self.D(fake.detach(), y)
        loss = F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)) + \
            F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
        self.logs["d_loss"].append(loss.item())
        return loss

    def generator_step(self, x, y):
        z = torch.randn(len(x), Z_DIM)
        y_fake = torch.randint(0, N_CLASSES, (len(x),))
        logit = self.D(self.G(z, y_fake), y_fake)
        loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
        self.logs["g_loss"].append(loss.item())
        return loss

    def training_step(self, batch, batch_idx, optimizer_idx):
        x, y = batch
        return self.discriminator_step(x, y) if optimizer_idx == 0 else self.generator_step(x, y)

    def configure_optimizers(self):
        return [torch.optim.Adam(self.D.parameters(), lr=self.lr_d, betas=(0.5, 0.999)),
                torch.optim.Adam(self.G.parameters(), lr=self.lr_g, betas=(0.5, 0.999))]


class Trainer:
    def __init__(self, max_epochs, callbacks=()):
        self.max_epochs = max_epochs
        self.callbacks = callbacks

    def fit(self, module, loader):
        opts = module.configure_optimizers()
        module.train()
        for epoch in range(self.max_epochs):
            for batch_idx, batch in enumerate(loader):
                for opt_idx, opt in enumerate(opts):
                    loss = module.training_step(batch, batch_idx, opt_idx)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
            for cb in self.callbacks:
                cb(epoch, module)


class SampleQuality:
    """callback: how often a classifier trained on real digits recognises the requested class"""

    def __init__(self, clf, every=5):
        self.clf, self.every, self.history = clf, every, []

    @torch.no_grad()
    def score(self, G, n_per_class=100):
        y = torch.arange(N_CLASSES).repeat_interleave(n_per_class)
        imgs = (G(torch.randn(len(y), Z_DIM), y) + 1) * 8.0  # back to the 0..16 pixel range
        return float((self.clf.predict(imgs.numpy()) == y.numpy()).mean())

    def __call__(self, epoch, module):
        if epoch == 0 or epoch % self.every == self.every - 1:
            module.G.eval()
            acc = self.score(module.G)
            module.G.train()
            self.history.append(acc)
            L = module.logs
            print(f"epoch {epoch:3d} d_loss {np.mean(L['d_loss'][-28:]):.3f} g_loss {np.mean(L['g_loss'][-28:]):.3f} "
                  f"cond_acc {acc:.3f}")


def main():
    t0 = time.time()
    X, y = load_digits(return_X_y=True)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    x = torch.tensor(X / 8.0 - 1.0, dtype=torch.float32)   # [-1, 1] to match the Tanh output
    ds = TensorDataset(x, torch.tensor(y))
    sampler = BatchSampler(RandomSampler(ds, generator=torch.Generator().manual_seed(SEED)), 64, drop_last=True)
    loader = DataLoader(ds, batch_size=None, sampler=sampler)  # whole-batch indexing, no per-sample collate
    gan = CGAN()
    quality = SampleQuality(clf, every=3)
    print(f"untrained generator cond_acc {quality.score(gan.G):.3f}")
    Trainer(max_epochs=30, callbacks=[quality]).fit(gan, loader)
    g = gan.logs["g_loss"]
    print(f"g_loss first 20 steps {np.mean(g[:20]):.3f}  last 20 steps {np.mean(g[-20:]):.3f}")
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC cond_acc={quality.history[-1]:.4f} higher")


if __name__ == "__main__":
    main()
