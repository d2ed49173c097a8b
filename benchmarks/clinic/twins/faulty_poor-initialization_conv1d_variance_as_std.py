"""Healthy twin of faulty_poor-initialization_conv1d_variance_as_std.py: std = sqrt(2 / fan_in).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)

SIGNAL_LEN = 64
CLASSES = ("sine", "square", "sawtooth", "triangle")


def make_waveforms(n):
    t = np.linspace(0, 1, SIGNAL_LEN, endpoint=False)
    labels = rng.integers(0, len(CLASSES), size=n)
    freq = rng.uniform(2, 6, size=(n, 1))
    phase = rng.uniform(0, 1, size=(n, 1))
    u = (freq * t + phase) % 1.0
    waves = np.stack([
        np.sin(2 * np.pi * u),
        np.sign(np.sin(2 * np.pi * u)),
        2 * u - 1,
        1 - 4 * np.abs(u - 0.5),
    ])  # (4, n, T)
    x = waves[labels, np.arange(n)] + 0.3 * rng.standard_normal((n, SIGNAL_LEN))
    return torch.tensor(x, dtype=torch.float32).unsqueeze(1), torch.tensor(labels)


class WaveNet1D(nn.Module):
    def __init__(self, channels=32, n_layers=5, n_classes=4):
        super().__init__()
        convs, c_in = [], 1
        for _ in range(n_layers):
            convs.append(nn.Conv1d(c_in, channels, kernel_size=5, padding=2))
            c_in = channels
        self.convs = nn.ModuleList(convs)
        self.fc = nn.Linear(channels, n_classes)
        self.reset_parameters()

    def reset_parameters(self):
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                fan_in = m.weight[0].numel()
                std = math.sqrt(2.0 / fan_in)
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return self.fc(x.mean(dim=2))


X_train, y_train = make_waveforms(2000)
X_val, y_val = make_waveforms(500)

model = WaveNet1D()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(6):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 50):
        idx = perm[i:i + 50]
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(X_val), y_val).item()
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1}: train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
