"""Breast-cancer MLP with batch_size=8 and RMSprop at a matching LR (1e-3, 10x below the default).

expect: healthy
trap: small batches -- with 8 samples per step the per-batch loss jumps between ~0.001 and ~0.5-1.0 and the gradient estimate is noisy from step to step, but the LR is scaled down to suit the batch, so the run converges smoothly when measured on the full set: full train loss 0.12 after the first epoch -> 0.061 after 4 (228 steps), validation accuracy 0.975-0.983.
"""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)

data = load_breast_cancer()
X = torch.tensor(data.data, dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32)
perm = torch.randperm(len(X))
train_idx, val_idx = perm[:450], perm[450:]
mean, std = X[train_idx].mean(0), X[train_idx].std(0)
X = (X - mean) / std

train_loader = DataLoader(TensorDataset(X[train_idx], y[train_idx]), batch_size=8, shuffle=True)


class Net(nn.Module):
    def __init__(self, d_in):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.layers(x).squeeze(-1)


model = Net(X.shape[1])
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
criterion = nn.BCEWithLogitsLoss()

for epoch in range(4):
    batch_losses = []
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    with torch.no_grad():
        train_loss = criterion(model(X[train_idx]), y[train_idx]).item()
        val_acc = ((model(X[val_idx]) > 0).float() == y[val_idx]).float().mean().item()
    print(f"epoch {epoch + 1}: batch loss range {min(batch_losses):.3f}-{max(batch_losses):.3f}"
          f"  full train loss {train_loss:.4f}  val acc {val_acc:.3f}")
