"""Diabetes progression regression from a CSV export that has a few empty cells.

expect: non-finite
allow: loss-not-decreasing

The CSV round-trip (as it comes from a spreadsheet) leaves a handful of blank cells, which
numpy reads as NaN. The script standardizes with nanmean/nanstd, so the statistics look fine,
but the NaN cells themselves are never imputed: the first mini-batch that contains one of
those rows gives a NaN loss, NaN gradients, and Adam writes NaN into every weight.
"""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes

torch.manual_seed(0)
rng = np.random.default_rng(0)

# --- the "export": a CSV with a few empty cells, as produced by a spreadsheet ------------
raw = load_diabetes(scaled=False)
table = np.column_stack([raw.data, raw.target])
csv_path = os.path.join(tempfile.mkdtemp(), "diabetes.csv")
with open(csv_path, "w") as fh:
    fh.write(",".join(raw.feature_names + ["progression"]) + "\n")
    for row in table:
        cells = [f"{v:g}" for v in row]
        if rng.random() < 0.006:                      # a missing measurement
            cells[int(rng.integers(0, 10))] = ""
        fh.write(",".join(cells) + "\n")

# --- the training script -------------------------------------------------------------------
data = np.genfromtxt(csv_path, delimiter=",", skip_header=1)
features, target = data[:, :-1], data[:, -1]
features = (features - np.nanmean(features, axis=0)) / np.nanstd(features, axis=0)
target = (target - target.mean()) / target.std()

X = torch.tensor(features, dtype=torch.float32)
y = torch.tensor(target, dtype=torch.float32).unsqueeze(1)
dataset = torch.utils.data.TensorDataset(X, y)
loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)

model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()

for epoch in range(8):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    print(f"epoch {epoch}: mse {total / len(dataset):.4f}")
    print(f"NNDOCTOR_METRIC mse={loss_fn(model(X[torch.isfinite(X).all(1)]), y[torch.isfinite(X).all(1)]).item():.4f} lower")
