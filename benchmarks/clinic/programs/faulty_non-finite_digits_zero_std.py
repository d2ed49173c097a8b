"""Digits MLP classifier whose hand-rolled standardization divides constant pixel columns by a zero std.

expect: non-finite
allow: loss-not-decreasing

Several pixels of the 8x8 digits (e.g. the image corners) are zero in every training image, so
their per-feature std is exactly 0. The script standardizes with `(X - mean) / std` and no
epsilon, which turns those columns into 0/0 = NaN. The NaN enters the very first forward pass,
the loss is NaN from step 0 and after the first optimizer step every weight is NaN, so the model
predicts a constant class and validation accuracy sits at chance level.
Measured: faulty val_acc=0.0861 vs fixed val_acc=0.9694
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=12)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--weight-decay", type=float, default=1e-4)
args = parser.parse_args()

digits = load_digits()
X, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
perm = np.random.permutation(len(X))
n_train = int(0.8 * len(X))
tr, va = perm[:n_train], perm[n_train:]

mean = X[tr].mean(axis=0)
std = X[tr].std(axis=0)
X = (X - mean) / std

X_tr, y_tr = torch.from_numpy(X[tr]), torch.from_numpy(y[tr])
X_va, y_va = torch.from_numpy(X[va]), torch.from_numpy(y[va])


class MLP(nn.Module):
    def __init__(self, d_in, d_hidden, n_classes):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.out = nn.Linear(d_hidden, n_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.out(x)


model = MLP(64, 128, 10)
opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
steps_per_epoch = (len(X_tr) + args.batch_size - 1) // args.batch_size
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)

for epoch in range(args.epochs):
    model.train()
    order = torch.randperm(len(X_tr))
    total = 0.0
    for i in range(0, len(X_tr), args.batch_size):
        idx = order[i:i + args.batch_size]
        logits = model(X_tr[idx])
        loss = F.cross_entropy(logits, y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += loss.item() * len(idx)
    print(f"epoch {epoch:2d} train_loss {total / len(X_tr):.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_va).argmax(dim=1) == y_va).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
