"""VQ-VAE (straight-through, codebook + commitment loss) on 8x8 digits; bug: decoder already ends in Sigmoid but the loss is BCEWithLogits.
expect: loss-mismatch

The decoder was given a final nn.Sigmoid so that model(x) returns images ready to display, while the
reconstruction loss stayed F.binary_cross_entropy_with_logits, which applies a second sigmoid. The
loss now sees sigmoid(sigmoid(z)) in (0.5, 0.73): it can never predict a dark pixel, and its minimizer
pushes every grey pixel to 0 or 1, so reconstructions are binarized and blurry. Fix: drop the
Sigmoid from the decoder and apply torch.sigmoid only when producing images.
Measured: faulty test_mse=0.0885 vs fixed test_mse=0.0206 (seed 1: 0.0795 vs 0.0184, seed 2: 0.0821 vs 0.0181)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

digits = load_digits()
X = (digits.data / 16.0).astype(np.float32)
X_train, X_test = train_test_split(X, test_size=0.2, random_state=SEED)
X_train, X_test = torch.from_numpy(X_train), torch.from_numpy(X_test)

N_SLOTS, CODE_DIM, N_CODES = 4, 8, 32


class VectorQuantizer(nn.Module):
    def __init__(self, n_codes, dim, beta=0.25):
        super().__init__()
        self.codebook = nn.Embedding(n_codes, dim)
        self.codebook.weight.data.uniform_(-1.0 / n_codes, 1.0 / n_codes)
        self.beta = beta

    def forward(self, z_e):                       # z_e: (B, slots, dim)
        flat = z_e.reshape(-1, z_e.shape[-1])
        d = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.codebook.weight.t()
             + self.codebook.weight.pow(2).sum(1)[None, :])
        idx = d.argmin(1)
        z_q = self.codebook(idx).view_as(z_e)
        codebook_loss = F.mse_loss(z_q, z_e.detach())
        commit_loss = F.mse_loss(z_e, z_q.detach())
        z_q = z_e + (z_q - z_e).detach()          # straight-through estimator
        return z_q, codebook_loss + self.beta * commit_loss, idx


class VQVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, N_SLOTS * CODE_DIM))
        self.vq = VectorQuantizer(N_CODES, CODE_DIM)
        self.decoder = nn.Sequential(nn.Linear(N_SLOTS * CODE_DIM, 128), nn.ReLU(), nn.Linear(128, 64))

    def forward(self, x):
        z_e = self.encoder(x).view(-1, N_SLOTS, CODE_DIM)
        z_q, vq_loss, idx = self.vq(z_e)
        return self.decoder(z_q.flatten(1)), vq_loss, idx


model = VQVAE()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

for step in range(1000):
    xb = X_train[torch.randint(0, len(X_train), (128,))]
    recon, vq_loss, idx = model(xb)
    rec_loss = F.binary_cross_entropy_with_logits(recon, xb)
    loss = rec_loss + vq_loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 200 == 0 or step == 999:
        used = idx.unique().numel()
        print(f"step {step:4d} rec {rec_loss.item():.4f} vq {vq_loss.item():.4f} codes used {used}/{N_CODES}")

model.eval()
with torch.no_grad():
    logits, _, _ = model(X_test)
    images = torch.sigmoid(logits)
    test_mse = F.mse_loss(images, X_test).item()
print(f"NNDOCTOR_METRIC test_mse={test_mse:.4f} lower")
