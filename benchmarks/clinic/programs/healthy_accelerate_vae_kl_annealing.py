"""A VAE on the digits trained with an accelerate.Accelerator loop and KL annealing: the KL weight ramps from 0 to 1, so the total loss rises for the first epochs while the model is fine.

expect: healthy
trap: the loss rises for a while (the KL term is switched on gradually), accelerator.backward instead of loss.backward, the model returns a tuple (recon logits, mu, logvar)

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: held-out reconstruction BCE 22.1 and KL 2.5 nats per image (ELBO 24.6); the total
loss rises while beta ramps up over the first 8 epochs.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from accelerate import Accelerator
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class VAE(nn.Module):
    def __init__(self, d=64, h=128, z=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 2 * z))
        self.dec = nn.Sequential(nn.Linear(z, h), nn.ReLU(), nn.Linear(h, d))

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        zs = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.dec(zs), mu, logvar


def losses(x, out):
    recon, mu, logvar = out
    rec = F.binary_cross_entropy_with_logits(recon, x, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
    return rec, kl


X = torch.tensor(load_digits().data / 16.0, dtype=torch.float32)
train, test = X[:1500], X[1500:]
accelerator = Accelerator(cpu=True)
model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
loader = DataLoader(TensorDataset(train), batch_size=64, shuffle=True)
model, optimizer, loader = accelerator.prepare(model, optimizer, loader)

epochs, anneal = 16, 8
for epoch in range(epochs):
    beta = min(1.0, epoch / anneal)
    model.train()
    for (xb,) in loader:
        rec, kl = losses(xb, model(xb))
        loss = rec + beta * kl
        optimizer.zero_grad()
        accelerator.backward(loss)
        optimizer.step()
    if epoch % 4 == 0 or epoch == epochs - 1:
        print(f"epoch {epoch:2d} beta {beta:.2f} loss {loss.item():.2f} rec {rec.item():.2f} kl {kl.item():.2f}")

model.eval()
with torch.no_grad():
    rec, kl = losses(test, model(test))
print(f"test recon {rec.item():.2f} kl {kl.item():.2f}")
print(f"NNDOCTOR_METRIC test_elbo={rec.item() + kl.item():.3f} lower")
