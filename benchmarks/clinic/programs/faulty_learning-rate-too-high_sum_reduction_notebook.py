"""Digits MLP whose cross-entropy is summed over the batch while the LR was tuned for a mean loss.

expect: learning-rate-too-high
allow: exploding-gradient, non-finite, loss-not-decreasing, dead-relu

The config LR (0.05, SGD + momentum 0.9) is a perfectly ordinary value for a *mean*
cross-entropy.  But the criterion is built with reduction="sum", so every gradient is
batch_size (=64) times larger and the effective learning rate is ~3.2.  The weights blow up
within the first epoch (summed epoch-0 loss ~1e15) and the network ends stuck at chance level.
Measured: faulty val_acc=0.1000 ; twin (reduction="mean") val_acc=0.9733.
"""
import time
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)

CFG = dict(
    hidden=128,
    lr=0.05,          # standard SGD lr for this MLP
    momentum=0.9,
    batch_size=64,
    epochs=25,
    weight_decay=1e-4,
)

# ---- data -----------------------------------------------------------------
X, y = load_digits(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
scaler = StandardScaler().fit(Xtr)
Xtr = torch.tensor(scaler.transform(Xtr), dtype=torch.float32)
Xva = torch.tensor(scaler.transform(Xva), dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.long)
yva = torch.tensor(yva, dtype=torch.long)


def batches(X, y, bs):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), bs):
        idx = perm[i:i + bs]
        yield X[idx], y[idx]


def evaluate(model):
    model.eval()
    with torch.no_grad():
        logits = model(Xva)
        if not torch.isfinite(logits).all():
            return 0.0
        acc = (logits.argmax(1) == yva).float().mean().item()
    model.train()
    return acc


model = nn.Sequential(
    nn.Linear(64, CFG["hidden"]), nn.ReLU(),
    nn.Linear(CFG["hidden"], CFG["hidden"]), nn.ReLU(),
    nn.Linear(CFG["hidden"], 10),
)
criterion = nn.CrossEntropyLoss(reduction="sum")
opt = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=CFG["momentum"],
                      weight_decay=CFG["weight_decay"])

t0 = time.time()
for epoch in range(CFG["epochs"]):
    running = 0.0
    for xb, yb in batches(Xtr, ytr, CFG["batch_size"]):
        opt.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        opt.step()
        running += loss.item()
    if epoch % 5 == 0 or epoch == CFG["epochs"] - 1:
        print(f"epoch {epoch:3d} loss {running:.4f} val_acc {evaluate(model):.4f}")

v = evaluate(model)
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
