"""Healthy twin of faulty_gradient-not-zeroed_zero_grad_outside_loop.py: zero_grad() inside the batch loop.
"""
import math

import torch
from torch import nn

torch.manual_seed(0)


def make_data(n=512):
    x = torch.rand(n, 1) * 4 * math.pi - 2 * math.pi
    y = torch.sin(x) + 0.3 * torch.cos(3 * x) + 0.05 * torch.randn(n, 1)
    return x, y


class CurveNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x / math.pi)


x, y = make_data()
model = CurveNet()
optimizer = torch.optim.RMSprop(model.parameters(), lr=3e-3)
criterion = nn.MSELoss()

for epoch in range(20):
    perm = torch.randperm(len(x))
    epoch_loss = 0.0
    for i in range(0, len(x), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(idx)
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1}: mse {epoch_loss / len(x):.4f}")
        print(f"NNDOCTOR_METRIC epoch_mse={epoch_loss / len(x):.4f} lower")
