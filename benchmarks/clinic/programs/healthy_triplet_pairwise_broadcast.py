"""Metric learning on digits with a batch-hard triplet loss built from a broadcast pairwise-distance matrix.

expect: healthy
trap: deliberate broadcasting -- emb[:, None, :] - emb[None, :, :] gives an (N, N, D) tensor and labels[:, None] == labels[None, :] an (N, N) mask; the loss is a reduction over an N x N matrix by design, not an (N, 1) vs (N,) shape accident; a margin loss that is legitimately 0 for easy batches; no classifier head (evaluation by nearest class centroid)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)
MARGIN = 0.5

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(X))
X_tr, y_tr, X_te, y_te = X[perm[:1300]], y[perm[:1300]], X[perm[1300:]], y[perm[1300:]]

encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 16))


def embed(x):
    return F.normalize(encoder(x), dim=1)


def batch_hard_triplet_loss(emb, labels, margin=MARGIN):
    diff = emb[:, None, :] - emb[None, :, :]                  # (N, N, D)
    dist = (diff.pow(2).sum(-1) + 1e-9).sqrt()                 # (N, N)
    same = labels[:, None] == labels[None, :]                 # (N, N)
    eye = torch.eye(len(labels), dtype=torch.bool)
    hardest_pos = dist.masked_fill(~same | eye, 0.0).max(1).values
    hardest_neg = dist.masked_fill(same, float("inf")).min(1).values
    return F.relu(hardest_pos - hardest_neg + margin).mean()


def sample_pk_batch(labels, p=8, k=8):
    """P classes x K examples per class, so every anchor has positives."""
    classes = torch.randperm(10)[:p]
    idx = [torch.nonzero(labels == c).flatten()[torch.randperm(int((labels == c).sum()))[:k]] for c in classes]
    return torch.cat(idx)


optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)
for step in range(250):
    idx = sample_pk_batch(y_tr)
    loss = batch_hard_triplet_loss(embed(X_tr[idx]), y_tr[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 249:
        with torch.no_grad():
            e_tr, e_te = embed(X_tr), embed(X_te)
            centroids = torch.stack([e_tr[y_tr == c].mean(0) for c in range(10)])
            acc = (torch.cdist(e_te, centroids).argmin(1) == y_te).float().mean().item()
        print(f"step {step:3d}  triplet loss {loss.item():.4f}  nearest-centroid test acc {acc:.3f}")
