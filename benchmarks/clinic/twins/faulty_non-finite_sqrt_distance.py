"""Healthy twin of faulty_non-finite_sqrt_distance.py: the distance as sqrt(u + 1e-12) (finite gradient at 0).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)

digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)


class EmbeddingNet(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, dim))

    def forward(self, x):
        return self.body(x)


def pairwise_distances(z):
    diff = z.unsqueeze(1) - z.unsqueeze(0)
    return torch.sqrt((diff ** 2).sum(-1) + 1e-12)


def contrastive_loss(z, labels, margin=2.0):
    d = pairwise_distances(z)
    same = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
    off_diag = 1.0 - torch.eye(len(labels))
    pos = same * off_diag * d.pow(2)
    neg = (1.0 - same) * torch.relu(margin - d).pow(2)
    return (pos + neg).sum() / off_diag.sum()


net = EmbeddingNet()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

for step in range(150):
    idx = torch.randint(0, len(X), (64,))
    z = net(X[idx])
    loss = contrastive_loss(z, y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"step {step}: loss {loss.item():.4f}")
print(f"final loss {loss.item():.4f}")

# leave-one-out 1-nearest-neighbour accuracy of the embeddings of all digits (the same evaluation as
# twins/*.metric.py)
with torch.no_grad():
    z = net(X)
    d = torch.cdist(z, z)
    d.fill_diagonal_(float("inf"))
    knn_acc = (y[d.argmin(1)] == y).float().mean().item()
print(f"NNDOCTOR_METRIC knn_acc={knn_acc:.4f} higher")
