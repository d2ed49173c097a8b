"""Breast-cancer MLP trained with Adadelta, but given an Adam-style lr=1e-3 instead of Adadelta's ~1.0.
expect: learning-rate-too-low
allow: loss-not-decreasing

Adadelta already scales its step by the ratio RMS(past updates)/RMS(gradient),
and its `lr` is a multiplier on that step whose intended value is 1.0. Copying
the `lr=1e-3` habit from Adam makes every update ~1000x smaller than intended:
the largest per-layer update/weight ratio per step is ~4e-5 (vs ~6e-3..2e-2
with lr=1.0), the train BCE only creeps from 0.70 to 0.67 over 520 steps and
the classifier stays close to its initialisation. Fixed version: Adadelta(lr=1.0).
Measured: faulty val_bce=0.6794 vs fixed val_bce=0.1207 (seed 1: 0.6544 vs 0.1720, seed 2: 0.6298 vs 0.1976)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva_np = yva

model = nn.Sequential(
    nn.Linear(30, 32), nn.ELU(),
    nn.Linear(32, 32), nn.ELU(),
    nn.Linear(32, 1),
)
optimizer = torch.optim.Adadelta(model.parameters(), lr=1e-3, rho=0.9, weight_decay=1e-4)

BATCH = 32
EPOCHS = 40
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        optimizer.zero_grad()
        logits = model(Xtr[idx]).squeeze(-1)
        loss = F.binary_cross_entropy_with_logits(logits, ytr[idx])
        loss.backward()
        optimizer.step()
        tot += loss.item() * len(idx)
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            p = torch.sigmoid(model(Xva).squeeze(-1)).numpy()
        print(f"epoch {epoch:2d} train_bce {tot / len(Xtr):.4f} val_auc {roc_auc_score(yva_np, p):.4f}")

model.eval()
with torch.no_grad():
    logits = model(Xva).squeeze(-1)
    val_bce = F.binary_cross_entropy_with_logits(logits, torch.tensor(yva_np, dtype=torch.float32)).item()
print(f"final val_bce {val_bce:.4f}")
print(f"NNDOCTOR_METRIC val_bce={val_bce:.4f} lower")
