"""Set regression with variable-size inputs; predictions are collected with .item() and re-wrapped.

expect: broken-gradient-flow
allow: loss-not-decreasing, optimizer-step-missing

The sets have different sizes, so the loop scores them one at a time and collects the
scores in a Python list with `.item()`. backward() then failed with "element 0 of tensors
does not require grad", and the user "fixed" it with
`torch.tensor(preds, requires_grad=True)`. That creates a new leaf: the loss is
differentiable again, but the graph to the model is gone. None of the model's parameters
ever gets a gradient, Adam skips them, and the model never changes.
(torch.stack(preds) on the un-item()'d outputs keeps the graph.)
"""
import torch
import torch.nn as nn

torch.manual_seed(0)


def make_set():
    n = int(torch.randint(3, 12, ()))
    points = torch.randn(n, 2)
    return points, points.norm(dim=1).max()       # target: radius of the set


class DeepSet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.rho = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, points):
        return self.rho(self.phi(points).sum(dim=0))


train_sets = [make_set() for _ in range(512)]
model = DeepSet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for step in range(100):
    batch = [train_sets[int(i)] for i in torch.randint(0, len(train_sets), (32,))]
    preds = []
    for points, _ in batch:
        preds.append(model(points).item())
    preds = torch.tensor(preds, requires_grad=True)
    targets = torch.stack([t for _, t in batch])
    loss = nn.functional.mse_loss(preds, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 25 == 0 or step == 99:
        print(f"step {step:3d}  mse {loss.item():.4f}")
