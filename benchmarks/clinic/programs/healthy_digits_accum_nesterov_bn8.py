"""Digits classifier with micro-batches of 8, gradient accumulation x4, SGD-nesterov and a cosine schedule to zero.

expect: healthy
trap: gradient accumulation (zero_grad and step only every 4th backward, so gradients legitimately add up across backward passes, not gradient-not-zeroed nor optimizer-step-missing); micro-batches of 8 give a noisy per-backward loss (the effective batch is 32, not batch-size-too-small); cosine annealing takes the LR to ~0 in the last epochs (deliberate decay, not learning-rate-too-low); the 64 pixel features include columns that are constant 0.

A memory-constrained recipe carried over to sklearn's 8x8 digits: pixels scaled to [0, 1],
a 64-128-64-10 ReLU MLP with BatchNorm, SGD(momentum=0.9, nesterov=True, weight_decay=5e-4),
micro-batches of 8 drawn by manual index slicing, loss divided by the accumulation factor
and optimizer.step()/zero_grad() every 4 micro-batches, CosineAnnealingLR stepped per
optimizer step over the whole run (12 epochs = 2160 backward passes, 540 optimizer steps).

Measured (OMP_NUM_THREADS=1): val_acc = 0.9861 (peak 0.9917 in epochs 8-10).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X_tr, X_va, y_tr, y_va = train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=0)
Xt, yt = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(y_tr)
Xv, yv = torch.tensor(X_va, dtype=torch.float32), torch.tensor(y_va)

MICRO_BATCH = 8
ACCUM = 4
EPOCHS = 12


def build_model():
    return nn.Sequential(
        nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Linear(128, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    model.train()
    return acc


def train(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    n = len(Xt)
    micro_per_epoch = math.ceil(n / MICRO_BATCH)
    total_steps = EPOCHS * micro_per_epoch // ACCUM
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    model.train()
    opt.zero_grad()
    micro = 0
    for epoch in range(EPOCHS):
        perm = torch.randperm(n)
        for start in range(0, n, MICRO_BATCH):
            idx = perm[start:start + MICRO_BATCH]
            if len(idx) < 2:          # BatchNorm needs >1 sample
                continue
            loss = F.cross_entropy(model(Xt[idx]), yt[idx]) / ACCUM
            loss.backward()
            micro += 1
            if micro % ACCUM == 0:
                opt.step()
                opt.zero_grad()
                sched.step()
        print(f"epoch {epoch:2d} last_micro_loss {loss.item() * ACCUM:.4f} "
              f"lr {opt.param_groups[0]['lr']:.2e} val_acc {accuracy(model, Xv, yv):.4f}")
    return model


model = train(build_model())
print(f"NNDOCTOR_METRIC val_acc={accuracy(model, Xv, yv):.4f} higher")
