"""Fixed version of faulty_non-finite_pairdist_backward.py: the one-line fix of its docstring.
Measured: val_acc=0.8967. From the seventh held-out audit (graph, scientific and custom-autograd code).
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_PTS = 24
ROTATE = False


def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def sample_shape(kind, rng):
    if kind == 0:  # sphere surface
        p = rng.normal(size=(N_PTS, 3))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    elif kind == 1:  # cube surface
        p = rng.uniform(-1, 1, size=(N_PTS, 3))
        ax = rng.integers(0, 3, size=N_PTS)
        p[np.arange(N_PTS), ax] = rng.choice([-1.0, 1.0], size=N_PTS)
        p *= 0.8
    else:  # cylinder side, height 2
        t = rng.uniform(0, 2 * np.pi, size=N_PTS)
        p = np.stack([np.cos(t), np.sin(t), rng.uniform(-1, 1, size=N_PTS)], 1)
    p = p * rng.uniform(0.8, 1.2) + rng.normal(scale=0.03, size=p.shape)
    return p @ random_rotation(rng).T if ROTATE else p


def make_set(n, rng):
    y = rng.integers(0, 3, size=n)
    X = np.stack([sample_shape(k, rng) for k in y]).astype(np.float32)
    return torch.from_numpy(X), torch.from_numpy(y).long()


rng = np.random.default_rng(SEED)
Xtr, ytr = make_set(600, rng)
Xva, yva = make_set(300, rng)


class PairDist(torch.autograd.Function):
    """d_ij = sqrt(|h_i - h_j|^2 + eps) for h of shape (B, N, F)."""
    EPS = 1e-8

    @staticmethod
    def forward(ctx, h):
        diff = h.unsqueeze(2) - h.unsqueeze(1)          # (B, N, N, F)
        d = torch.sqrt((diff * diff).sum(-1) + PairDist.EPS)
        ctx.save_for_backward(diff)                     # recompute d in backward
        return d

    @staticmethod
    def backward(ctx, G):
        (diff,) = ctx.saved_tensors
        d = torch.sqrt((diff * diff).sum(-1) + PairDist.EPS)  # same eps as forward
        W = (G + G.transpose(1, 2)) / d
        grad_h = (W.unsqueeze(-1) * diff).sum(2)
        return grad_h


class DistHistNet(nn.Module):
    def __init__(self, feat=32, bins=16, n_cls=3):
        super().__init__()
        self.point_mlp = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, feat))
        self.centers = nn.Parameter(torch.linspace(0.0, 4.0, bins))
        self.log_width = nn.Parameter(torch.full((bins,), math.log(0.3)))
        self.head = nn.Sequential(nn.Linear(bins + feat, 64), nn.ReLU(), nn.Linear(64, n_cls))

    def forward(self, x):
        x = x - x.mean(1, keepdim=True)
        h = self.point_mlp(x)
        d = PairDist.apply(h)                            # (B, N, N)
        w = self.log_width.exp()
        rbf = torch.exp(-0.5 * ((d.unsqueeze(-1) - self.centers) / w) ** 2)
        hist = rbf.mean(dim=(1, 2))                      # (B, bins)
        pooled = h.max(1).values                         # DeepSets-style max pool
        return self.head(torch.cat([hist * 4.0, pooled], 1))


model = DistHistNet()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)

BATCH = 50
EPOCHS = 20
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        logits = model(Xtr[idx])
        loss = F.cross_entropy(logits, ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item() * len(idx)
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            acc = (model(Xva).argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch:3d} train_loss {tot / len(Xtr):.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
