"""Digits "classifier" with a single output trained by MSE on the class index.

expect: loss-mismatch

The 10 digit classes are treated as a number 0..9: one output unit, nn.MSELoss against the label
cast to float, and the prediction is the rounded output. This imposes an order and a distance
on the classes that do not exist (a "1" confused with a "7" costs 36 times more than with a
"2"), so the model regresses toward class averages; the MSE falls but accuracy stays low.
Fixed (10 outputs, nn.CrossEntropyLoss on the long labels, argmax): val acc 0.902 vs 0.316 here.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target, dtype=torch.float32)
train_ds = TensorDataset(X[:1500], y[:1500])
X_val, y_val = X[1500:], y[1500:]
train_loader = DataLoader(train_ds, batch_size=50, shuffle=True)

model = nn.Sequential(
    nn.Linear(64, 128), nn.ReLU(),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 1),
)
loss_fn = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def predict(x):
    # nearest class index to the regressed value
    return model(x).squeeze(1).round().clamp(0, 9)


for epoch in range(12):
    for xb, yb in train_loader:
        optimizer.zero_grad()
        out = model(xb).squeeze(1)
        loss = loss_fn(out, yb)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        val_acc = (predict(X_val) == y_val).float().mean().item()
    print(f"epoch {epoch:2d}  loss {loss.item():.4f}  val acc {val_acc:.3f}")
