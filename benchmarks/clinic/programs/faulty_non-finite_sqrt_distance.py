"""Metric learning on digits: an embedding net trained with a pairwise contrastive loss.

expect: non-finite
allow: loss-not-decreasing

The pairwise Euclidean distance matrix is computed by hand as sqrt(sum((a - b)**2)). Its
diagonal (each sample with itself) is exactly 0, and d sqrt(u)/du = 1/(2 sqrt(u)) is inf
there. The forward pass is finite (sqrt(0) = 0, and the diagonal is even masked out of the
loss), but the backward pass multiplies inf by 0 and the embedding gets NaN gradients on the
very first step; after optimizer.step() the weights are NaN too.
(torch.cdist, or sqrt(u + 1e-12), avoids it.)
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
    return torch.sqrt((diff ** 2).sum(-1))


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
