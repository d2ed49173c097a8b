"""Synthetic 1-D curve fitting with RMSprop; zero_grad() is called once, before the loop.

expect: gradient-not-zeroed
allow: loss-not-decreasing, learning-rate-too-high, exploding-gradient

`optimizer.zero_grad()` sits above `for epoch in ...` instead of inside the batch loop,
so it runs exactly once. From then on every backward() adds to the gradients of all
previous batches: .grad is the running sum (norm ~17-20 all run long, where a single
batch's gradient is ~0.5-2.5), and RMSprop keeps pushing the weights the way the earlier
batches pointed. The fit overshoots and the loss climbs back up in the second half of the
run (epoch mse 0.115 -> 0.20; the same loop with zero_grad() in place reaches 0.07).
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

optimizer.zero_grad()
for epoch in range(20):
    perm = torch.randperm(len(x))
    epoch_loss = 0.0
    for i in range(0, len(x), 32):
        idx = perm[i:i + 32]
        loss = criterion(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(idx)
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1}: mse {epoch_loss / len(x):.4f}")
        print(f"NNDOCTOR_METRIC epoch_mse={epoch_loss / len(x):.4f} lower")
