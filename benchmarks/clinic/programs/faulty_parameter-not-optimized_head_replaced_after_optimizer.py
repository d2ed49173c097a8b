"""Digits classifier: the output layer is replaced after the optimizer was created.

expect: parameter-not-optimized
allow: loss-not-decreasing, broken-gradient-flow, gradient-not-zeroed

A generic `build(config)` returns the model and its optimizer with a default binary
head. The script then swaps in a 10-class head for the digits -- but the optimizer was
already built from the old parameters. The new `model.head` receives gradients on every
step yet is in no optimizer, so it keeps its random weights; the optimizer updates the
body and still holds the discarded 2-class head (which no longer gets any gradient).
The body partly compensates, but accuracy after 5 epochs is ~0.65 where building the
optimizer after the swap gives ~0.82. (optimizer.zero_grad() does not clear the new head's
.grad either, so it accumulates.)
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits


class Net(nn.Module):
    def __init__(self, n_in, n_classes=2, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.head(self.body(x))


def build(config):
    model = Net(config["n_in"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    return model, optimizer


torch.manual_seed(0)
digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)

model, optimizer = build({"n_in": X.shape[1], "lr": 1e-3})
model.head = nn.Linear(32, 10)         # ten digit classes

for epoch in range(5):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    print(f"epoch {epoch + 1}: loss {loss.item():.3f}  acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC acc={acc:.4f} higher")
