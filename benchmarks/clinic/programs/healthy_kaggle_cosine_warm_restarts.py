"""Kaggle-notebook style wine classifier (globals, cells, no functions) with SGD and CosineAnnealingWarmRestarts stepped per batch: the LR jumps back to its peak at every restart.

expect: healthy
trap: LR restarts (the LR jumps from ~0 to the peak three times, the loss bumps after each), fractional-epoch scheduler steps, a notebook cell that evaluates in eval() then switches back

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: val acc 0.978 on the 45 held-out wines (train loss ~1e-4).
"""
# %% [code]
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 42
torch.manual_seed(SEED); np.random.seed(SEED)
BATCH_SIZE = 16
EPOCHS = 40
LR = 0.05

# %% [code]
data = load_wine()
X_train, X_val, y_train, y_val = train_test_split(data.data, data.target, test_size=0.25,
                                                  random_state=SEED, stratify=data.target)
scaler = StandardScaler().fit(X_train)
X_train = torch.tensor(scaler.transform(X_train), dtype=torch.float32)
X_val = torch.tensor(scaler.transform(X_val), dtype=torch.float32)
y_train = torch.tensor(y_train); y_val = torch.tensor(y_val)

# %% [code]
model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=10, T_mult=2, eta_min=1e-4)
iters = int(np.ceil(len(X_train) / BATCH_SIZE))

# %% [code]
history = []
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(iters):
        idx = perm[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        scheduler.step(epoch + i / iters)
    model.eval()
    with torch.no_grad():
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    history.append((epoch, loss.item(), val_acc, optimizer.param_groups[0]["lr"]))
    if epoch % 10 == 0:
        print(history[-1])

# %% [code]
print("final", history[-1])
print(f"NNDOCTOR_METRIC val_acc={history[-1][2]:.4f} higher")
