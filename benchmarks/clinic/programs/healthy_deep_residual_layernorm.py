"""A 16-block pre-LayerNorm residual MLP on digits: deep, but gradients reach the input layer.

expect: healthy
trap: deep network (34 linear layers) that is healthy thanks to residual connections and LayerNorm -- early-layer gradients are within ~1 order of magnitude of the last layer's
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


class ResidualBlock(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class DeepResNet(nn.Module):
    def __init__(self, depth=16, dim=64, hidden=128, n_classes=10):
        super().__init__()
        self.stem = nn.Linear(64, dim)
        self.blocks = nn.Sequential(*[ResidualBlock(dim, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        return self.head(self.norm(self.blocks(self.stem(x))))


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_train, y_train, X_val, y_val = X[:1500], y[:1500], X[1500:], y[1500:]

model = DeepResNet()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

for step in range(150):
    model.train()
    idx = torch.randint(0, len(X_train), (64,))
    loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 30 == 0 or step == 149:
        model.eval()
        with torch.no_grad():
            acc = (model(X_val).argmax(1) == y_val).float().mean().item()
        print(f"step {step:3d}  loss {loss.item():.3f}  val acc {acc:.3f}")
