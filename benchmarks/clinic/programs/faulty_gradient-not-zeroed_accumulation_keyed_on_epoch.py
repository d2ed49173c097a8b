"""Digits CNN with gradient accumulation (4 micro-batches per step) whose zero_grad() condition tests the epoch counter instead of the micro-batch counter: `if (epoch + 1) % ACCUM == 0`, so within an epoch the gradients are never reset and most epochs never reset them at all.

expect: gradient-not-zeroed
allow: learning-rate-too-high, exploding-gradient, loss-not-decreasing

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

Steps 2, 3, ... of an epoch apply the sum of every micro-batch gradient since the last reset.
Fixed (`if (i + 1) % ACCUM == 0:` for the zero_grad as for the step): test acc 0.933; here 0.075 (the loss grows to ~12).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
ACCUM = 4
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X.reshape(-1, 1, 8, 8) / 16.0, y, test_size=0.2, random_state=0)
train_dl = DataLoader(TensorDataset(torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr)), batch_size=16, shuffle=True)
Xte, yte = torch.tensor(Xte, dtype=torch.float32), torch.tensor(yte)
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 16, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(8):
    model.train()
    for i, (xb, yb) in enumerate(train_dl):
        loss = criterion(model(xb), yb) / ACCUM
        loss.backward()
        if (i + 1) % ACCUM == 0:
            optimizer.step()
            if (epoch + 1) % ACCUM == 0:
                optimizer.zero_grad()
    model.eval()
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch} loss {loss.item() * ACCUM:.4f} test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
