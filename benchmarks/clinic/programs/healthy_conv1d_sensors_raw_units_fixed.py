"""Fixed version of f5_conv1d_sensors_raw_units.py: standardize each channel with the training set's per-channel mean/std.

expect: healthy

Measured: val_acc=0.9620
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

L = 48
CLASSES = ["normal", "pressure-oscillation", "temperature-step", "vibration-burst"]


def make_windows(n, rng=np.random):
    y = rng.randint(0, 4, n)
    t = np.arange(L) / L
    steps = np.arange(L)[None]
    pressure_pa = 101325 + 400 * rng.randn(n, 1) + np.cumsum(10 * rng.randn(n, L), 1)
    pressure_pa += (y == 1)[:, None] * 250 * np.sin(2 * np.pi * (6 * t[None] + rng.rand(n, 1)))
    temp_k = 288 + 5 * rng.rand(n, 1) + 0.3 * rng.randn(n, L)
    step_at = rng.randint(8, L - 8, n)
    temp_k += (y == 2)[:, None] * 5.0 * (steps >= step_at[:, None])
    vib_g = 0.02 * rng.randn(n, L)
    start = rng.randint(0, L - 12, n)
    burst = (steps >= start[:, None]) & (steps < start[:, None] + 12)
    vib_g += (y == 3)[:, None] * burst * 0.06 * rng.randn(n, L)
    # channels in the units the logger writes: kPa, degC, g
    x = np.stack([pressure_pa / 1000.0, temp_k - 273.15, vib_g], 1).astype(np.float32)
    return x, y


Xtr, ytr = make_windows(1500)
Xva, yva = make_windows(500)
mu = Xtr.mean(axis=(0, 2), keepdims=True)
sd = Xtr.std(axis=(0, 2), keepdims=True)
Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd

Xtr, Xva = torch.from_numpy(Xtr), torch.from_numpy(Xva)
ytr, yva = torch.from_numpy(ytr).long(), torch.from_numpy(yva).long()
loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=48, shuffle=True, num_workers=0)

model = nn.Sequential(
    nn.Conv1d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
    nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(),
    nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, 4),
)
opt = torch.optim.RMSprop(model.parameters(), lr=2e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(6):
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
