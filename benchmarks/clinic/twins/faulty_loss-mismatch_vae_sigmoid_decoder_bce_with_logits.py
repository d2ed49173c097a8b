"""Fixed version of faulty_loss-mismatch_vae_sigmoid_decoder_bce_with_logits.py: the one-line fix of its docstring.
Measured: test_recon_mse=0.0317. From the seventh held-out audit (hand-rolled training frameworks, resumes, GANs).
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class LitVAE(nn.Module):
    def __init__(self, in_dim=64, hidden=128, latent=8, lr=2e-3):
        super().__init__()
        self.lr = lr
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, in_dim), nn.Sigmoid())
        self.logged = {}

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decoder(mu)

    def _shared_step(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        x_hat = self.decoder(z)
        recon = F.binary_cross_entropy(x_hat, x, reduction="sum") / len(x)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
        return recon, kl

    def training_step(self, batch, batch_idx):
        (x,) = batch
        recon, kl = self._shared_step(x)
        loss = recon + kl
        self.logged.update(train_loss=loss.item(), recon=recon.item(), kl=kl.item())
        return loss

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        self.logged["val_recon_mse"] = F.mse_loss(self(x), x).item()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class Trainer:
    def __init__(self, max_epochs, log_every_n_epochs=10):
        self.max_epochs = max_epochs
        self.log_every = log_every_n_epochs

    def fit(self, module, train_loader, val_loader):
        opt = module.configure_optimizers()
        for epoch in range(self.max_epochs):
            module.train()
            for i, batch in enumerate(train_loader):
                loss = module.training_step(batch, i)
                opt.zero_grad()
                loss.backward()
                opt.step()
            module.eval()
            with torch.no_grad():
                for i, batch in enumerate(val_loader):
                    module.validation_step(batch, i)
            if epoch % self.log_every == 0 or epoch == self.max_epochs - 1:
                m = module.logged
                print(f"epoch {epoch:3d} loss {m['train_loss']:.3f} recon {m['recon']:.3f} kl {m['kl']:.3f} "
                      f"val_recon_mse {m['val_recon_mse']:.4f}")


def main():
    t0 = time.time()
    X, _ = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte = train_test_split(X, test_size=0.2, random_state=SEED)
    train_loader = DataLoader(TensorDataset(torch.tensor(Xtr)), batch_size=64, shuffle=True,
                              generator=torch.Generator().manual_seed(SEED))
    test_loader = DataLoader(TensorDataset(torch.tensor(Xte)), batch_size=len(Xte))
    vae = LitVAE()
    Trainer(max_epochs=30).fit(vae, train_loader, test_loader)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC test_recon_mse={vae.logged['val_recon_mse']:.4f} lower")


if __name__ == "__main__":
    main()
