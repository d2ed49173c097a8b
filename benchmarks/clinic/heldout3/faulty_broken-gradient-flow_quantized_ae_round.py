"""Autoencoder on digits with a 4-bit quantized bottleneck made with torch.round, which has zero gradient, so the encoder never learns.

expect: broken-gradient-flow
allow: vanishing-gradient, loss-not-decreasing

A learned-compression style autoencoder: encoder MLP -> sigmoid -> 16 levels
(codes = round(15 * sigmoid(h)) / 15) -> decoder MLP, trained with MSE
reconstruction plus a small L1 rate proxy on the codes (two losses summed),
Adam, cosine LR. torch.round is piecewise constant: autograd defines its
derivative as 0 everywhere, so every encoder parameter gets an all-zero
gradient from both loss terms. Only the decoder trains, on the fixed random
codes of an untrained encoder. The author meant a straight-through estimator
(round in the forward pass, identity in the backward pass).
Fix (fixed/f4_quantized_ae_round_fixed.py): the same quantizer written as a
custom torch.autograd.Function whose backward passes the gradient straight
through.
Measured: test reconstruction MSE (standardized pixels) faulty 0.4770 vs
fixed 0.1559 (same seed, 40 epochs).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, _ = load_digits(return_X_y=True)
Xtr, Xte = train_test_split(X.astype(np.float32), test_size=0.25, random_state=4)
mu, sd = Xtr.mean(0), Xtr.std(0) + 1.0
Xtr, Xte = torch.tensor((Xtr - mu) / sd), torch.tensor((Xte - mu) / sd)

LEVELS = 15


def quantize(h):
    return torch.round(LEVELS * torch.sigmoid(h)) / LEVELS


class QAE(nn.Module):
    def __init__(self, d=64, k=10):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, k))
        self.dec = nn.Sequential(nn.Linear(k, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, d))

    def forward(self, x):
        codes = quantize(self.enc(x))
        return self.dec(codes), codes


model = QAE()
epochs, bs = 40, 64
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * ((len(Xtr) + bs - 1) // bs))
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(perm), bs):
        xb = Xtr[perm[i:i + bs]]
        recon, codes = model(xb)
        loss = F.mse_loss(recon, xb) + 1e-3 * codes.abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    mse = F.mse_loss(model(Xte)[0], Xte).item()
print(f"NNDOCTOR_METRIC recon_mse={mse:.4f} lower")
