"""A 1-D CNN classifying synthetic waveforms (sine / square / sawtooth / noise bursts) from a Dataset + DataLoader.

expect: healthy
trap: Conv1d stack with BatchNorm1d (bias-free convs before BN), max-pooling and global average pooling; a map-style Dataset generating seeded samples on the fly, a shuffled DataLoader; model.train() / model.eval() toggled every epoch for validation under torch.inference_mode(); AdamW with weight decay
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)

LENGTH, N_CLASSES = 128, 4


class WaveformDataset(Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, N_CLASSES, (n,), generator=g)
        self.freq = torch.rand(n, generator=g) * 0.06 + 0.02
        self.phase = torch.rand(n, generator=g) * 2 * math.pi
        self.noise = torch.randn(n, LENGTH, generator=g) * 0.3
        self.t = torch.arange(LENGTH, dtype=torch.float32)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        c = int(self.labels[i])
        arg = 2 * math.pi * self.freq[i] * self.t + self.phase[i]
        if c == 0:
            x = torch.sin(arg)
        elif c == 1:
            x = torch.sign(torch.sin(arg))
        elif c == 2:
            x = 2 * torch.frac(arg / (2 * math.pi)) - 1
        else:
            x = torch.sin(arg) * (torch.sin(arg / 7) > 0.3).float()
        return (x + self.noise[i]).unsqueeze(0), c


def conv_block(c_in, c_out):
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel_size=7, padding=3, bias=False),
                         nn.BatchNorm1d(c_out), nn.ReLU(), nn.MaxPool1d(2))


class WaveNetLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_block(1, 16), conv_block(16, 32), conv_block(32, 32))
        self.classifier = nn.Linear(32, N_CLASSES)

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=2))


train_loader = DataLoader(WaveformDataset(1200, seed=1), batch_size=32, shuffle=True)
val_loader = DataLoader(WaveformDataset(300, seed=2), batch_size=100)

model = WaveNetLite()
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)

for epoch in range(5):
    model.train()
    total, n = 0.0, 0
    for xb, yb in train_loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
        n += len(xb)
    model.eval()
    correct = 0
    with torch.inference_mode():
        for xb, yb in val_loader:
            correct += (model(xb).argmax(1) == yb).sum().item()
    print(f"epoch {epoch}  train loss {total / n:.4f}  val acc {correct / len(val_loader.dataset):.3f}")
