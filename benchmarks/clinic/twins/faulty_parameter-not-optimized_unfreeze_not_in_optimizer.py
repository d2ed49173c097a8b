"""Two-stage head warm-up then unfreeze; the optimizer is rebuilt over all parameters at the unfreeze.

expect: healthy
trap: reference fix of ../f_unfreeze_not_in_optimizer.py; only the bug is changed, see that file for both metrics.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
mu, sd = X_tr.mean(0), X_tr.std(0) + 1e-3
X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd

train_dl = DataLoader(TensorDataset(torch.tensor(X_tr, dtype=torch.float32), torch.tensor(y_tr)),
                      batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
val_dl = DataLoader(TensorDataset(torch.tensor(X_va, dtype=torch.float32), torch.tensor(y_va)),
                    batch_size=256)


class DigitNet(nn.Module):
    def __init__(self, hidden=24):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.head(self.trunk(x))


class Trainer:
    def __init__(self, model, lr=3e-3, weight_decay=1e-4):
        self.model = model
        # stage 1: only the head is trainable
        for p in model.trunk.parameters():
            p.requires_grad_(False)
        self.opt = torch.optim.Adam(model.head.parameters(), lr=lr, weight_decay=weight_decay)

    def unfreeze(self):
        for p in self.model.trunk.parameters():
            p.requires_grad_(True)
        lr = self.opt.param_groups[0]["lr"]
        wd = self.opt.param_groups[0]["weight_decay"]
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, weight_decay=wd)

    def train_epoch(self, dl):
        self.model.train()
        total = 0.0
        for xb, yb in dl:
            loss = F.cross_entropy(self.model(xb), yb)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            total += loss.item() * len(xb)
        return total / len(dl.dataset)

    @torch.no_grad()
    def evaluate(self, dl):
        self.model.eval()
        correct, loss_sum = 0, 0.0
        for xb, yb in dl:
            logits = self.model(xb)
            loss_sum += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
        return loss_sum / len(dl.dataset), correct / len(dl.dataset)

    def fit(self, dl, val_dl, epochs, tag):
        for ep in range(epochs):
            tr = self.train_epoch(dl)
            vl, va = self.evaluate(val_dl)
            if ep % 5 == 4 or ep == epochs - 1:
                print(f"[{tag}] epoch {ep:2d} train_loss {tr:.4f} val_loss {vl:.4f} val_acc {va:.4f}")
        return va


model = DigitNet()
trainer = Trainer(model)
trainer.fit(train_dl, val_dl, epochs=3, tag="head-only")
trainer.unfreeze()
val_acc = trainer.fit(train_dl, val_dl, epochs=40, tag="full")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
