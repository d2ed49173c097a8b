"""Digits MLP regularized with heavy dropout (0.2 on the input, 0.5 on both hidden layers), Adam 2e-3, batch 32.

expect: healthy
trap: a noisy training loss -- dropout makes every forward pass a different random sub-network, so the per-batch training loss is jagged (it jumps by ~0.16-0.2 on average between consecutive batches, 30-40% of its level, late in training) and stays at 2-2.6x the eval-mode loss; the curve looks like an LR that is too high or a batch that is too small, but the eval-mode loss falls steadily (0.85 -> 0.20) and val accuracy reaches ~0.94.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)


def build_model():
    return nn.Sequential(
        nn.Dropout(0.2),
        nn.Linear(64, 192), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(192, 192), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(192, 10),
    )


digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(X))
X_train, y_train, X_val, y_val = X[perm[:1400]], y[perm[:1400]], X[perm[1400:]], y[perm[1400:]]

model = build_model()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.CrossEntropyLoss()

recent = []
for step in range(1, 301):
    model.train()
    idx = torch.randint(0, len(X_train), (32,))
    loss = criterion(model(X_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    recent.append(loss.item())
    if step % 50 == 0:
        model.eval()
        with torch.no_grad():
            val_out = model(X_val)
            val_loss = criterion(val_out, y_val).item()
            val_acc = (val_out.argmax(1) == y_val).float().mean().item()
        jumps = sum(abs(a - b) for a, b in zip(recent[1:], recent[:-1])) / (len(recent) - 1)
        print(f"step {step:3d}  train loss {sum(recent) / len(recent):.3f} (mean |jump| {jumps:.3f})"
              f"  val loss {val_loss:.3f}  val acc {val_acc:.3f}")
        recent = []
