"""Healthy twin of faulty_parameter-not-optimized_head_only_optimizer.py: the optimizer built from model.parameters().
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def make_images(n):
    """12x12 images: a bright horizontal bar, vertical bar, diagonal or a square, plus noise."""
    imgs = torch.randn(n, 1, 12, 12) * 0.5
    labels = torch.randint(0, 4, (n,))
    for i, c in enumerate(labels.tolist()):
        r, s = torch.randint(2, 9, (2,)).tolist()
        if c == 0:
            imgs[i, 0, r, 1:11] += 1.5
        elif c == 1:
            imgs[i, 0, 1:11, s] += 1.5
        elif c == 2:
            imgs[i, 0].diagonal().add_(1.5)
        else:
            imgs[i, 0, r - 2:r + 2, s - 2:s + 2] += 1.0
    return imgs, labels


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 3 * 3, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


X, y = make_images(1024)
model = SmallCNN()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(5):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    print(f"epoch {epoch}: loss {loss.item():.3f}  train acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC train_acc={acc:.4f} higher")
