"""Synthetic sensor classification; the running-statistics block under no_grad() swallows the stem.

expect: broken-gradient-flow
allow: loss-not-decreasing

The model keeps running input statistics (like a hand-rolled BatchNorm on the input) and
updates them under `torch.no_grad()`, as it should. But the stem layer's call ended up
inside the same `with` block (one indentation level too deep), so the stem's output has no
graph: `stem` is in the optimizer and requires grad, but gets no gradient at any step and
stays at its random initialisation; only the layers after it learn.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N, D, C = 2000, 20, 4
centers = torch.randn(C, D) * 1.5
labels = torch.randint(0, C, (N,))
signals = centers[labels] + torch.randn(N, D) * 2.0
signals = signals * torch.linspace(0.5, 20.0, D) + 5.0      # raw sensor units


class SensorNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(D))
        self.register_buffer("running_var", torch.ones(D))
        self.stem = nn.Linear(D, 64)
        self.body = nn.Sequential(nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, C))

    def forward(self, x):
        with torch.no_grad():
            if self.training:
                self.running_mean.lerp_(x.mean(0), 0.1)
                self.running_var.lerp_(x.var(0), 0.1)
            x = (x - self.running_mean) / (self.running_var + 1e-5).sqrt()
            h = self.stem(x)
        return self.body(h)


model = SensorNet()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

for step in range(250):
    idx = torch.randint(0, N, (64,))
    logits = model(signals[idx])
    loss = F.cross_entropy(logits, labels[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0 or step == 249:
        print(f"step {step}: loss {loss.item():.3f}")

model.eval()
with torch.no_grad():
    acc = (model(signals).argmax(1) == labels).float().mean().item()
print(f"train accuracy {acc:.3f}")
