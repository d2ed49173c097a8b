"""Residual MLP on three interleaved spirals with zero-initialised residual branches and head.

expect: healthy
trap: weights that are exactly zero at initialisation -- the last Linear of every residual branch and the classifier head are nn.init.zeros_ (the "zero-init residual" / Fixup / ReZero trick), so at step 0 every branch outputs 0 and the head's output is constant

Zero-initialising the last layer of each residual branch makes every block start as the
identity, which is a standard trick for training deep residual nets without normalisation
(Goyal et al. 2017, Fixup, T-Fixup); zero-initialising the classifier head starts the model
at uniform predictions.  The zero layers receive gradients from the first step, the branches
switch on within a few steps and the network fits the spirals (~99% validation accuracy).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def make_spirals(n_per_class, n_classes=3, noise=0.15, generator=None):
    xs, ys = [], []
    for c in range(n_classes):
        r = torch.linspace(0.1, 1.0, n_per_class)
        theta = r * 3.5 * math.pi + 2 * math.pi * c / n_classes
        theta = theta + noise * torch.randn(n_per_class, generator=generator)
        xs.append(torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1))
        ys.append(torch.full((n_per_class,), c))
    return torch.cat(xs) * 2.0, torch.cat(ys)


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
        nn.init.zeros_(self.fc2.weight)  # block starts as the identity
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(x)))


class ResMLP(nn.Module):
    def __init__(self, n_in=2, width=64, n_blocks=6, n_classes=3):
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(n_blocks)])
        self.head = nn.Linear(width, n_classes)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


g = torch.Generator().manual_seed(0)
X, y = make_spirals(600, generator=g)
perm = torch.randperm(len(X), generator=g)
X, y = X[perm], y[perm]
X_train, y_train, X_val, y_val = X[:1500], y[:1500], X[1500:], y[1500:]

model = ResMLP()
EPOCHS = 12
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)

for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 50):
        idx = order[i:i + 50]
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()
    if epoch % 3 == 2:
        model.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(model(X_val), y_val).item()
            val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
        print(f"epoch {epoch + 1:2d}  train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
