"""Fixed version of f4_wine_raw_features.py: standardize each feature with the training-set mean/std before training.

Measured: val_acc=1.0000
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

p = argparse.ArgumentParser(description="MLP on the UCI wine data")
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--wd", type=float, default=1e-2)
p.add_argument("--bs", type=int, default=16)
p.add_argument("--epochs", type=int, default=40)
args = p.parse_args()

X, y = load_wine(return_X_y=True)
X, y = X.astype(np.float32), y.astype(np.int64)
perm = np.random.permutation(len(X))
n_val = 54
va, tr = perm[:n_val], perm[n_val:]
X = (X - X[tr].mean(0)) / X[tr].std(0)

X_tr, y_tr = torch.tensor(X[tr]), torch.tensor(y[tr])
X_va, y_va = torch.tensor(X[va]), torch.tensor(y[va])

model = nn.Sequential(
    nn.Linear(13, 64),
    nn.ReLU(),
    nn.Linear(64, 32),
    nn.ReLU(),
    nn.Linear(32, 3),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
steps_per_epoch = (len(X_tr) + args.bs - 1) // args.bs
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch)

for epoch in range(args.epochs):
    model.train()
    order = torch.randperm(len(X_tr))
    epoch_loss = 0.0
    for s in range(0, len(X_tr), args.bs):
        idx = order[s:s + args.bs]
        loss = criterion(model(X_tr[idx]), y_tr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        epoch_loss += loss.item() * len(idx)
    if epoch % 8 == 0 or epoch == args.epochs - 1:
        print(f"epoch {epoch:2d} ce {epoch_loss / len(X_tr):.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_va).argmax(1) == y_va).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
