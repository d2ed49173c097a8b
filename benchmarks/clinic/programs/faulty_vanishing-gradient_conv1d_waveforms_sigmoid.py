"""A 6-layer 1-D CNN that classifies noisy synthetic waveforms (sine/square/sawtooth/triangle) uses sigmoid activations after every conv, so gradients vanish toward the input.
expect: vanishing-gradient
allow: poor-initialization, loss-not-decreasing
Every Conv1d is followed by nn.Sigmoid (the convs still carry the He init from an earlier ReLU
version). The sigmoid derivative is at most 0.25 and its outputs are all positive, so each layer
shrinks the backward signal several-fold: the first conv's gradient norm is ~3e-3 of the last
one's. The early filters, which have to detect the wave shape, effectively never learn, and the
network stays at chance level (loss ~ln 4). Using ReLU, which the He init was chosen for, lets
the gradient reach the first layers and the same net, optimizer and budget reach >90% accuracy.
Measured: faulty val_acc=0.2533 vs fixed val_acc=0.9217
"""
import math
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader

torch.manual_seed(0)
torch.set_num_threads(1)

L = 64


def make_waves(n):
    y = torch.randint(0, 4, (n,))
    freq = 2 + 4 * torch.rand(n, 1)
    phase = torch.rand(n, 1)
    t = torch.linspace(0, 1, L)[None]
    u = (freq * t + phase) % 1.0
    waves = torch.stack([
        torch.sin(2 * math.pi * u),               # sine
        torch.sign(torch.sin(2 * math.pi * u)),   # square
        2 * u - 1,                                # sawtooth
        1 - 4 * (u - 0.5).abs(),                  # triangle
    ], dim=1)
    x = waves[torch.arange(n), y] + 0.3 * torch.randn(n, L)
    return x[:, None, :], y


Xtr, ytr = make_waves(2000)
Xva, yva = make_waves(600)
loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, num_workers=0)

Act = nn.Sigmoid

layers, c_in = [], 1
for i in range(6):
    layers += [nn.Conv1d(c_in, 16, 5, padding=2), Act()]
    c_in = 16
    if i in (1, 3):
        layers.append(nn.MaxPool1d(2))
model = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 4))
for m in model:
    if isinstance(m, nn.Conv1d):
        nn.init.kaiming_normal_(m.weight)
        nn.init.zeros_(m.bias)

opt = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(5):
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
    print(f"epoch {epoch} train {loss.item():.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
