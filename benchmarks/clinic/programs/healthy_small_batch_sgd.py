"""Iris with plain SGD and a batch size of 4.

expect: healthy
trap: small batches -- per-step loss and gradients are noisy by nature (batch size 4), but the run converges
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_iris

torch.manual_seed(0)

iris = load_iris()
X = torch.tensor(iris.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(iris.target)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=4, shuffle=True)


class IrisNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


model = IrisNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()

for epoch in range(6):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        full_loss = criterion(model(X), y).item()
        acc = (model(X).argmax(1) == y).float().mean().item()
    print(f"epoch {epoch}: loss {full_loss:.4f}  acc {acc:.3f}")
