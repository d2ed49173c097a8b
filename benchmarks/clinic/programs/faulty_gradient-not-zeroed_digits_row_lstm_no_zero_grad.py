"""An LSTM that reads each 8x8 digit row by row (8 time steps of 8 pixels) zeroes its gradients only once before training, so gradients accumulate across all later steps.
expect: gradient-not-zeroed
allow: exploding-gradient, loss-not-decreasing
opt.zero_grad() is called a single time before the epoch loop instead of once per batch. Every
loss.backward() then adds the new batch gradient onto the running sum of all previous ones, so
.grad grows roughly linearly with the step count and increasingly points in the direction of
stale batches. Adam normalizes the magnitude, but the update direction is dominated by the
accumulated history rather than the current batch, so training stalls and oscillates and the
classifier ends up far below what the same LSTM reaches when gradients are reset every step.
Measured: faulty val_acc=0.4608 vs fixed val_acc=0.9296
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 8, 8)   # (N, rows=time, cols=features)
perm = np.random.permutation(len(X))
tr, va = perm[:1300], perm[1300:]
Xtr, Xva = torch.from_numpy(X[tr]), torch.from_numpy(X[va])
ytr, yva = torch.from_numpy(y[tr]), torch.from_numpy(y[va])
loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=32, shuffle=True, num_workers=0)


class RowLSTM(nn.Module):
    def __init__(self, hidden=48):
        super().__init__()
        self.lstm = nn.LSTM(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


model = RowLSTM()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
loss_fn = nn.CrossEntropyLoss()

opt.zero_grad()
for epoch in range(6):
    model.train()
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
    print(f"epoch {epoch} train {loss.item():.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
