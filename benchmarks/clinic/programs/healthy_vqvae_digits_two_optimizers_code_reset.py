"""VQ-VAE on 8x8 digits: straight-through estimator, codebook + commitment loss, separate codebook optimizer, dead-code restarts.
expect: healthy
trap: argmin quantization is non-differentiable and bridged by a straight-through estimator; .detach() on both sides of the VQ loss; three-term loss whose VQ terms rise during training; two optimizers (codebook on its own Adam); codebook rows overwritten in-place under no_grad (dead-code restart); perplexity with log(p + eps)

The quantizer output z_q = z_e + (z_q - z_e).detach() passes the decoder gradient straight to the
encoder; the codebook only learns from ||sg(z_e) - e||^2 and the encoder from the commitment term
beta ||z_e - sg(e)||^2, so each side sees a stop-gradient by design. The VQ part of the loss more than
doubles over the first 500 steps while the encoder output scale grows, then plateaus. Codes that were not used
for 100 steps are re-seeded with random encoder outputs. Both optimizers are zeroed and stepped every
iteration.
Measured: test_mse=0.0136 (seeds 1, 2: 0.0132, 0.0134)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

imgs = torch.tensor(load_digits().data / 16.0, dtype=torch.float32)
perm = torch.randperm(len(imgs))
train_x, test_x = imgs[perm[:1400]], imgs[perm[1400:]]

K, D, SLOTS, BETA = 64, 6, 6, 0.25

enc = nn.Sequential(nn.Linear(64, 160), nn.ELU(), nn.Linear(160, SLOTS * D))
dec = nn.Sequential(nn.Linear(SLOTS * D, 160), nn.ELU(), nn.Linear(160, 64))
codebook = nn.Parameter(torch.randn(K, D) * 0.1)

opt_ae = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=2e-3)
opt_cb = torch.optim.Adam([codebook], lr=5e-3)
last_used = torch.zeros(K, dtype=torch.long)


def quantize(z_e):
    flat = z_e.reshape(-1, D)
    idx = torch.cdist(flat, codebook).argmin(dim=1)
    return codebook[idx].view_as(z_e), idx


for it in range(1000):
    x = train_x[torch.randint(0, len(train_x), (128,))]
    z_e = enc(x).view(-1, SLOTS, D)
    e, idx = quantize(z_e)
    loss_cb = (e - z_e.detach()).pow(2).mean()
    loss_commit = (z_e - e.detach()).pow(2).mean()
    z_q = z_e + (e - z_e).detach()
    x_hat = dec(z_q.flatten(1))
    loss_rec = F.mse_loss(x_hat, x)
    loss = loss_rec + loss_cb + BETA * loss_commit

    opt_ae.zero_grad()
    opt_cb.zero_grad()
    loss.backward()
    opt_ae.step()
    opt_cb.step()

    with torch.no_grad():
        last_used[idx.unique()] = it
        dead = (it - last_used) > 100
        if it % 100 == 99 and dead.any():
            src = z_e.reshape(-1, D)
            codebook[dead] = src[torch.randint(0, len(src), (int(dead.sum()),))]
            last_used[dead] = it
        if it % 100 == 0 or it == 999:
            p = torch.bincount(idx, minlength=K).float() / idx.numel()
            perplexity = torch.exp(-(p * torch.log(p + 1e-10)).sum())
            print(f"it {it:4d} rec {loss_rec.item():.4f} cb {loss_cb.item():.4f} "
                  f"commit {loss_commit.item():.4f} perplexity {perplexity.item():.1f}")

with torch.no_grad():
    z_e = enc(test_x).view(-1, SLOTS, D)
    e, _ = quantize(z_e)
    test_mse = F.mse_loss(dec(e.flatten(1)), test_x).item()
print(f"NNDOCTOR_METRIC test_mse={test_mse:.4f} lower")
