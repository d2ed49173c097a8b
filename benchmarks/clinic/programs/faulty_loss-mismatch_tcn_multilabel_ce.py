"""1D conv net tagging which tones are present in a synthetic signal (multi-label), trained with CrossEntropyLoss.

expect: loss-mismatch
allow: loss-not-decreasing

Each signal (length 96, plus noise) contains any subset of 5 tones (each present with
probability 0.4, so 0..5 labels per example).  The targets are multi-hot float vectors.  The
author used nn.CrossEntropyLoss, which since PyTorch 1.10 silently accepts float "probability"
targets, so nothing errors: the softmax couples the 5 outputs and forces them to compete for
one unit of probability mass, which is the wrong model for independent labels.  Predictions
are made the usual multi-label way, sigmoid(logit) > 0.5, and with softmax-CE the logits
carry no calibrated per-label meaning (they are only defined up to a shared offset).
Model: Conv1d(1,16,7) -> BN -> ReLU -> Conv1d(16,32,5,stride 2) -> BN -> ReLU -> Conv1d(32,32,5)
-> ReLU -> global max pool -> Linear(32,5); Adam 3e-3, 10 epochs, batch 64.
Measured (exact-match subset accuracy on the test set): faulty 0.6300 vs fixed 0.9680
(per-label accuracy 0.8864 vs 0.9936; fixed = nn.BCEWithLogitsLoss, fixed/f_tcn_multilabel_ce_fixed.py).
"""
import math

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

T, K = 96, 5
FREQS = [3.0, 7.0, 12.0, 18.0, 26.0]
rng = np.random.default_rng(0)


def make(n):
    t = np.arange(T) / T
    Y = (rng.random((n, K)) < 0.4).astype(np.float32)
    X = rng.normal(0, 0.5, size=(n, 1, T)).astype(np.float32)
    for k, f in enumerate(FREQS):
        ph = rng.uniform(0, 2 * math.pi, size=(n, 1))
        amp = rng.uniform(0.6, 1.2, size=(n, 1))
        X[:, 0] += (Y[:, k:k + 1] * amp * np.sin(2 * math.pi * f * t[None] + ph)).astype(np.float32)
    return torch.tensor(X), torch.tensor(Y)


Xtr, Ytr = make(2000)
Xte, Yte = make(500)

model = nn.Sequential(
    nn.Conv1d(1, 16, 7, padding=3), nn.BatchNorm1d(16), nn.ReLU(),
    nn.Conv1d(16, 32, 5, stride=2, padding=2), nn.BatchNorm1d(32), nn.ReLU(),
    nn.Conv1d(32, 32, 5, padding=2), nn.ReLU(),
    nn.AdaptiveMaxPool1d(1), nn.Flatten(),
    nn.Linear(32, K),
)
criterion = nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
BS = 64

for epoch in range(10):
    model.train()
    perm = torch.randperm(len(Xtr))
    for s in range(0, len(Xtr), BS):
        idx = perm[s:s + BS]
        logits = model(Xtr[idx])
        loss = criterion(logits, Ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    pred = (torch.sigmoid(model(Xte)) > 0.5).float()
    subset_acc = (pred == Yte).all(1).float().mean().item()
    label_acc = (pred == Yte).float().mean().item()
print(f"per-label acc {label_acc:.4f}")
print(f"NNDOCTOR_METRIC subset_acc={subset_acc:.4f} higher")
