"""Digits MLP on a 120-image training subset with plain-loop early stopping (patience 4) that restores the best weights.

expect: healthy
trap: the validation loss (eval mode, no_grad) rises for the last few epochs (0.363 -> 0.371) while the training loss keeps falling, on a small training set -- early stopping ends the run after `PATIENCE` epochs without improvement and loads the best state_dict back (copy.deepcopy), so the final model is the one from the val-loss minimum; the parameters jump back to an earlier epoch's values at the end
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)
PATIENCE, MAX_EPOCHS = 4, 100

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(X))
tr, va, te = perm[:120], perm[120:620], perm[620:]

model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.1), nn.Linear(256, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

best_val, best_state, best_epoch, bad_epochs = float("inf"), None, -1, 0
for epoch in range(MAX_EPOCHS):
    model.train()
    order = tr[torch.randperm(len(tr))]
    for i in range(0, len(order), 20):
        idx = order[i:i + 20]
        loss = F.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.eval()
    with torch.no_grad():
        train_loss = F.cross_entropy(model(X[tr]), y[tr]).item()
        val_loss = F.cross_entropy(model(X[va]), y[va]).item()
    print(f"epoch {epoch:2d}  train {train_loss:.4f}  val {val_loss:.4f}")

    if val_loss < best_val:
        best_val, best_epoch, bad_epochs = val_loss, epoch, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= PATIENCE:
            print(f"early stopping: no improvement for {PATIENCE} epochs")
            break

model.load_state_dict(best_state)
model.eval()
with torch.no_grad():
    test_acc = (model(X[te]).argmax(1) == y[te]).float().mean().item()
print(f"restored epoch {best_epoch} (val loss {best_val:.4f}); test acc {test_acc:.3f}")
