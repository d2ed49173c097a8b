"""DeepSets classifier on variable-size 2-D point sets padded to a fixed length; a gradient hook meant to silence padded points uses the inverted mask and zeroes the gradient of every real point.
expect: broken-gradient-flow
allow: vanishing-gradient

Sets have 12..48 points and are zero-padded to 48. The batch carries pad_mask (True where a
slot is padding, the nn.MultiheadAttention key_padding_mask convention). The pooling is
masked correctly, but the author also added a tensor hook on the per-point features "so
padded slots can never leak gradient into the encoder" and wrote it as
g * pad_mask.unsqueeze(-1) - i.e. keep the gradient only where the slot IS padding. Padded
slots receive zero gradient from the masked pooling anyway, so the product is exactly zero
everywhere: the per-point encoder (phi.*) gets all-zero gradients on every step and stays at
its random initialisation, and only the pooling head (rho.*) learns, on random features.
Measured: faulty val_acc=0.6650 vs fixed val_acc=0.9875 (seed 1: 0.6475 vs 0.9975; seed 2: 0.6500 vs 0.9925)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_MAX, N_CLS = 48, 4


def make_set(kind, n, rng):
    t = rng.uniform(0, 2 * np.pi, n)
    if kind == 0:                                   # circle
        p = np.stack([np.cos(t), np.sin(t)], 1)
    elif kind == 1:                                 # ellipse 2:1
        p = np.stack([np.cos(t), 0.5 * np.sin(t)], 1)
    elif kind == 2:                                 # filled disc
        r = np.sqrt(rng.uniform(0, 1, n))
        p = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    else:                                           # spiral arm
        s = rng.uniform(0.2, 1.0, n)
        p = np.stack([s * np.cos(4 * s), s * np.sin(4 * s)], 1)
    a = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return p @ R.T * rng.uniform(0.8, 1.2) + rng.normal(scale=0.04, size=p.shape)


def make_batch(m, rng):
    X = np.zeros((m, N_MAX, 2), np.float32)
    pad = np.ones((m, N_MAX), bool)
    y = rng.integers(0, N_CLS, m)
    for i in range(m):
        n = rng.integers(12, N_MAX + 1)
        X[i, :n] = make_set(y[i], n, rng)
        pad[i, :n] = False
    return torch.from_numpy(X), torch.from_numpy(pad), torch.from_numpy(y)


rng = np.random.default_rng(SEED)
Xtr, Ptr, ytr = make_batch(1000, rng)
Xva, Pva, yva = make_batch(400, rng)


class DeepSets(nn.Module):
    def __init__(self, hid=32):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(2, hid), nn.ReLU(), nn.Linear(hid, hid), nn.ReLU(),
                                 nn.Linear(hid, hid))
        self.rho = nn.Sequential(nn.Linear(2 * hid, 64), nn.ReLU(), nn.Linear(64, N_CLS))

    def forward(self, x, pad_mask):
        h = self.phi(x)                                             # (B, N, H)
        if h.requires_grad:
            # padded slots must never send gradient into phi
            h.register_hook(lambda g: g * pad_mask.unsqueeze(-1))
        valid = (~pad_mask).unsqueeze(-1).float()
        mean = (h * valid).sum(1) / valid.sum(1)
        mx = h.masked_fill(pad_mask.unsqueeze(-1), float("-inf")).max(1).values
        return self.rho(torch.cat([mean, mx], 1))


model = DeepSets()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
BATCH = 50
for epoch in range(25):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        loss = F.cross_entropy(model(Xtr[idx], Ptr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 5 == 0 or epoch == 24:
        model.eval()
        with torch.no_grad():
            acc = (model(Xva, Pva).argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch:2d} loss {loss.item():.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva, Pva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
