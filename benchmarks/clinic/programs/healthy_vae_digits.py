"""A variational autoencoder on digits (Bernoulli decoder, Gaussian latent with log-variance head).

expect: healthy
trap: VAE -- stochastic reparameterised sampling (the loss is noisy step to step); an exp() of a predicted log-variance (finite because it is a log-variance, not a variance); a KL term whose gradient pulls latents to the prior; KL annealing (the KL weight ramps from 0 to 1 over the first 150 steps, so the loss can rise while beta grows); the decoder's output is logits for BCEWithLogits
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)

LATENT = 8


class VAE(nn.Module):
    def __init__(self, n_in=64, hidden=128, latent=LATENT):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_in))

    def encode(self, x):
        h = self.enc(x)
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar):
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.dec(self.reparameterize(mu, logvar)), mu, logvar


def elbo_terms(x, logits, mu, logvar):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
    return recon, kl


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
X_tr, X_te = X[:1500], X[1500:]

model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)

for step in range(600):
    xb = X_tr[torch.randint(0, len(X_tr), (64,))]
    logits, mu, logvar = model(xb)
    recon, kl = elbo_terms(xb, logits, mu, logvar)
    beta = min(1.0, step / 150)
    loss = recon + beta * kl
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 100 == 0 or step == 599:
        model.eval()
        with torch.no_grad():
            r, k = elbo_terms(X_te, *model(X_te))
        model.train()
        print(f"step {step:3d}  loss {loss.item():7.2f}  (recon {recon.item():6.2f}, kl {kl.item():5.2f}, "
              f"beta {beta:.2f})  test -ELBO {(r + k).item():6.2f}")
