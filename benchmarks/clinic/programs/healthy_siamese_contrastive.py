"""Siamese network on digits: one shared encoder embeds both images of a pair, trained with a contrastive loss.

expect: healthy
trap: shared weights -- the same encoder module is called twice per step (its gradient is the sum over both branches); a pair Dataset sampled with a shuffled DataLoader; a margin loss that is exactly zero for easy negative pairs; the loss does not go to 0 (it is a margin loss on random pairs); evaluation by nearest-centroid accuracy in embedding space under no_grad()
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class PairDataset(Dataset):
    """Each item is (x1, x2, same) with ~50% same-class pairs."""

    def __init__(self, X, y, n_pairs, seed=0):
        g = torch.Generator().manual_seed(seed)
        by_class = [torch.nonzero(y == c).squeeze(1) for c in range(10)]
        i1 = torch.randint(0, len(X), (n_pairs,), generator=g)
        same = torch.rand(n_pairs, generator=g) < 0.5
        i2 = torch.randint(0, len(X), (n_pairs,), generator=g)
        for k in torch.nonzero(same).squeeze(1).tolist():
            pool = by_class[int(y[i1[k]])]
            i2[k] = pool[torch.randint(0, len(pool), (1,), generator=g)]
        self.X, self.i1, self.i2 = X, i1, i2
        self.same = (y[i1] == y[i2]).float()

    def __len__(self):
        return len(self.i1)

    def __getitem__(self, k):
        return self.X[self.i1[k]], self.X[self.i2[k]], self.same[k]


class Encoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, dim))

    def forward(self, x):
        return self.net(x)


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()

    def forward(self, a, b):
        return self.encoder(a), self.encoder(b)


def contrastive_loss(za, zb, same, margin=2.0):
    d = F.pairwise_distance(za, zb)
    return (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2)).mean()


@torch.no_grad()
def centroid_accuracy(encoder, X_ref, y_ref, X, y):
    encoder.eval()
    z_ref = encoder(X_ref)
    cents = torch.stack([z_ref[y_ref == c].mean(0) for c in range(10)])
    pred = torch.cdist(encoder(X), cents).argmin(1)
    encoder.train()
    return (pred == y).float().mean().item()


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_te, y_te = X[:1400], y[:1400], X[1400:], y[1400:]

loader = DataLoader(PairDataset(X_tr, y_tr, n_pairs=4000), batch_size=64, shuffle=True)
model = Siamese()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(5):
    total, n = 0.0, 0
    for a, b, same in loader:
        za, zb = model(a, b)
        loss = contrastive_loss(za, zb, same)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(a)
        n += len(a)
    acc = centroid_accuracy(model.encoder, X_tr, y_tr, X_te, y_te)
    print(f"epoch {epoch}  contrastive loss {total / n:.4f}  nearest-centroid test acc {acc:.3f}")
