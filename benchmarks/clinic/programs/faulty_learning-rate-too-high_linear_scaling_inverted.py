"""Three-class MLP on sklearn wine with SGD+momentum; hand-written linear-scaling LR rule is inverted.
expect: learning-rate-too-high
allow: non-finite, exploding-gradient, dead-relu, loss-not-decreasing

The script keeps a "reference" LR tuned for batch 128 and rescales it for the
batch size actually used, writing the result into param_groups by hand each
step together with a short linear warmup and a cosine decay. The linear
scaling rule is lr = ref_lr * batch / ref_batch, but the helper computes
ref_lr * ref_batch / batch, so with batch 8 the peak LR is 256x the intended
one (3.2 instead of 0.0125). After warmup the loss jumps, oscillates wildly /
overflows, and the model ends far worse than with the correct rule.
Measured: faulty val_acc=0.3889 vs fixed val_acc=1.0000 (seed 1: 0.3333 vs 0.9815, seed 2: 0.3333 vs 0.9815;
at seeds 1 and 2 the training loss becomes NaN, at seed 0 it overflows to ~1e14 and the net collapses)
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_wine(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
scaler = StandardScaler().fit(Xtr)
Xtr = torch.tensor(scaler.transform(Xtr), dtype=torch.float32)
Xva = torch.tensor(scaler.transform(Xva), dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

REF_LR, REF_BATCH = 0.2, 128
BATCH = 8
EPOCHS = 40
WARMUP = 30


def scaled_lr(ref_lr, ref_batch, batch):
    # linear scaling rule (Goyal et al.): lr grows with the batch size
    return ref_lr * ref_batch / batch


model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9, nesterov=True)

peak_lr = scaled_lr(REF_LR, REF_BATCH, BATCH)
steps_per_epoch = math.ceil(len(Xtr) / BATCH)
total = EPOCHS * steps_per_epoch
print(f"peak lr {peak_lr:.4g}, {total} steps")


def lr_at(step):
    if step < WARMUP:
        return peak_lr * (step + 1) / WARMUP
    progress = (step - WARMUP) / max(1, total - WARMUP)
    return peak_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


step = 0
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    running = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad()
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        running += loss.item() * len(idx)
        step += 1
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            acc = (model(Xva).argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch:2d} lr {lr_at(step):.4g} train_loss {running / len(Xtr):.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
