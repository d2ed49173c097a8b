"""Healthy twin of faulty_parameter-not-optimized_head_replaced_after_optimizer.py: the optimizer rebuilt after the head is replaced.
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
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

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
