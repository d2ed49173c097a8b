"""Diabetes regression with optimizer parameter groups: different LRs, no weight decay on biases/norms.

expect: healthy
trap: multiple param groups with different learning rates (body 1e-3, head 1e-2) and weight decay 0 for biases and LayerNorm; an update/weight ratio that differs per group by design
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes

torch.manual_seed(0)

data = load_diabetes()
X = torch.tensor(data.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(data.target, dtype=torch.float32).unsqueeze(1)
y_mean, y_std = y.mean(), y.std()
y = (y - y_mean) / y_std


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(10, 64), nn.LayerNorm(64), nn.ReLU(),
            nn.Linear(64, 64), nn.LayerNorm(64), nn.ReLU(),
        )
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        return self.head(self.body(x))


model = Regressor()
decay, no_decay = [], []
for name, p in model.body.named_parameters():
    (no_decay if p.ndim == 1 else decay).append(p)
optimizer = torch.optim.AdamW(
    [
        {"params": decay, "lr": 1e-3, "weight_decay": 1e-2},
        {"params": no_decay, "lr": 1e-3, "weight_decay": 0.0},
        {"params": model.head.parameters(), "lr": 1e-2, "weight_decay": 0.0},
    ]
)
criterion = nn.MSELoss()

for epoch in range(15):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    if epoch % 3 == 2:
        with torch.no_grad():
            mse = criterion(model(X), y).item()
        print(f"epoch {epoch + 1}: train mse (standardised) {mse:.3f}  rmse {mse ** 0.5 * y_std.item():.1f}")
