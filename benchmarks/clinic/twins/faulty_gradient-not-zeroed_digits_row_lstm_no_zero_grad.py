"""Fixed version of f8_digits_row_lstm_no_zero_grad.py: call opt.zero_grad() at the start of every batch instead of once before training.
Measured: val_acc=0.9296
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

for epoch in range(6):
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
    print(f"epoch {epoch} train {loss.item():.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
