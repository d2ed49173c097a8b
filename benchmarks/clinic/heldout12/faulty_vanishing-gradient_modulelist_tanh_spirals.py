"""Sixteen-layer nn.ModuleList MLP applies a module-level `act = torch.tanh` after each layer, with PyTorch's default init.
expect: vanishing-gradient

The 16 Linear layers in the ModuleList are each passed through act = torch.tanh. PyTorch's
default init scales activations (and gradients) by ~0.6 per layer, so after 16 layers the
first layer's weight gradient is ~2000-5000x smaller than the output layer's, the signal
reaching the head is nearly input-independent, and plain SGD cannot fit the spirals: the
model predicts a single class.
Fix: act = F.relu plus nn.init.kaiming_normal_ (zero biases) on the stacked layers.
Measured: faulty test_acc=0.2833 vs fixed test_acc=0.8722
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

act = torch.tanh


def make_spirals(n_per_class=300, n_classes=3, noise=0.15):
    xs, ys = [], []
    for c in range(n_classes):
        t = np.linspace(0.2, 1.0, n_per_class)
        theta = 2.0 * math.pi * t + 2 * math.pi * c / n_classes
        pts = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1)
        pts += noise * t[:, None] * np.random.randn(n_per_class, 2)
        xs.append(pts)
        ys.append(np.full(n_per_class, c))
    X = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys)
    perm = np.random.permutation(len(X))
    return torch.from_numpy(X[perm] * 2.0), torch.from_numpy(y[perm]).long()


class DeepMLP(nn.Module):
    def __init__(self, d_in=2, width=64, depth=16, n_out=3):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        for layer in self.layers:
            x = act(layer(x))
        return self.out(x)


X, y = make_spirals()
n_tr = int(0.8 * len(X))
X_tr, y_tr, X_te, y_te = X[:n_tr], y[:n_tr], X[n_tr:], y[n_tr:]

model = DeepMLP()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

step = 0
for epoch in range(30):
    perm = torch.randperm(n_tr)
    for i in range(0, n_tr, 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    if epoch % 10 == 0:
        print(f"epoch {epoch} step {step} loss {loss.item():.4f}")

with torch.no_grad():
    test_acc = (model(X_te).argmax(1) == y_te).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={test_acc:.4f} higher")
