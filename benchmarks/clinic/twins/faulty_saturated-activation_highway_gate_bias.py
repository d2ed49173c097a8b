"""Healthy twin of faulty_saturated-activation_highway_gate_bias.py: gate bias -2.
"""
import math

import torch
import torch.nn as nn

torch.manual_seed(0)

N_FEATURES, WIDTH, N_BLOCKS = 10, 64, 4
GATE_BIAS = -2.0


class HighwayBlock(nn.Module):
    def __init__(self, width, gate_bias):
        super().__init__()
        self.transform = nn.Linear(width, width)
        self.gate = nn.Linear(width, width)
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x):
        h = torch.relu(self.transform(x))
        t = torch.sigmoid(self.gate(x))
        return h * t + x * (1.0 - t)


class HighwayNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(N_FEATURES, WIDTH)
        self.blocks = nn.Sequential(*[HighwayBlock(WIDTH, GATE_BIAS) for _ in range(N_BLOCKS)])
        self.head = nn.Linear(WIDTH, 2)

    def forward(self, x):
        return self.head(self.blocks(self.embed(x)))


def make_sphere_data(n, generator):
    x = torch.randn(n, N_FEATURES, generator=generator)
    radius = x.norm(dim=1)
    y = (radius > math.sqrt(N_FEATURES - 2 / 3)).long()  # ~median radius of a 10-d Gaussian
    return x, y


g = torch.Generator().manual_seed(1)
X_train, y_train = make_sphere_data(3000, g)
X_val, y_val = make_sphere_data(1000, g)
print(f"class balance: {y_train.float().mean().item():.2f}")

model = HighwayNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

step = 0
for epoch in range(8):
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = loss_fn(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        step += 1
    with torch.no_grad():
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1} step {step}: train loss {loss.item():.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
