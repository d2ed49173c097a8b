"""Digits classifier whose forward() goes through a features() helper that detaches.

expect: broken-gradient-flow
allow: loss-not-decreasing

`features()` was written for exporting embeddings (hence `.detach()`), and forward()
reuses it. The classifier head still trains, but the graph is cut between the backbone
and the head: the backbone's parameters are in the optimizer and require grad, yet their
.grad stays None for the whole run, so the network is a linear classifier on top of a
random projection.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
        )
        self.classifier = nn.Linear(64, 10)

    def features(self, x):
        return self.backbone(x).detach()

    def forward(self, x):
        return self.classifier(self.features(x))


digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
X_train, y_train, X_val, y_val = X[:1500], y[:1500], X[1500:], y[1500:]

model = DigitNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(8):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch}: loss {loss.item():.3f}  val acc {val_acc:.3f}")
