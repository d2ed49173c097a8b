"""Diabetes regression with a Dataset of dict records and a collate_fn that stacks the targets to shape (B,); the model returns (B, 1), so F.mse_loss broadcasts to (B, B) and every prediction is fitted to the batch's mean target.

expect: target-shape-mismatch
allow: loss-not-decreasing

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

PyTorch only warns ("Using a target size that is different to the input size") and the loss
falls a little: to the variance of the targets around the batch mean.
Fixed (pred.squeeze(-1)): test MSE 0.496 (standardized target); here 1.102 (about what predicting the mean gives).
"""
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes
from torch.utils.data import DataLoader, Dataset

warnings.filterwarnings("ignore")  # the notebook was too noisy


class Records(Dataset):
    def __init__(self, X, y):
        self.rows = [{"features": torch.tensor(a, dtype=torch.float32), "target": float(b)} for a, b in zip(X, y)]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


def collate(rows):
    return {"features": torch.stack([r["features"] for r in rows]),
            "target": torch.tensor([r["target"] for r in rows])}


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, batch):
        return self.net(batch["features"])


torch.manual_seed(0)
X, y = load_diabetes(return_X_y=True)
X = (X - X[:350].mean(0)) / X[:350].std(0)
y = (y - y[:350].mean()) / y[:350].std()
train_dl = DataLoader(Records(X[:350], y[:350]), batch_size=32, shuffle=True, collate_fn=collate)
test_dl = DataLoader(Records(X[350:], y[350:]), batch_size=100, collate_fn=collate)
model = Regressor()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(40):
    for batch in train_dl:
        pred = model(batch)
        loss = F.mse_loss(pred, batch["target"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 10 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f}")
with torch.no_grad():
    se = sum(((model(b).squeeze(-1) - b["target"]) ** 2).sum().item() for b in test_dl)
test_mse = se / len(test_dl.dataset)
print(f"test mse {test_mse:.4f}")
print(f"NNDOCTOR_METRIC test_mse={test_mse:.4f} lower")
