"""Channels-last CNN on 8x8 digits with AdamW, linear warmup + cosine schedule; warmup length counted in samples.
expect: learning-rate-too-low
allow: loss-not-decreasing

The warmup is configured as WARMUP_EPOCHS = 5 and converted to scheduler steps with
`WARMUP_EPOCHS * len(train_ds)` -- the number of *samples* -- instead of the number of *batches*
(len(train_loader)).  LambdaLR is stepped once per batch, so warmup would take 6735 steps while the whole
run is 378 steps: the LR climbs linearly from ~0 and never gets past 5.6% of the intended 3e-3 peak
(1.7e-4 at the end, ~8e-5 on average, below 3e-5 for the first 3 epochs), and the cosine phase never starts.
The update/weight ratio stays tiny, the loss sits near ln(10) for several epochs and creeps down, and
training ends far from where the same budget gets it.  Fix: warmup_steps = WARMUP_EPOCHS * len(train_loader).
Measured: faulty val_acc=0.8689 vs fixed val_acc=0.9844 (seed 1: 0.9089 vs 0.9911, seed 2: 0.8444 vs 0.9844)
"""
import math
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X.astype(np.float32) / 16.0 - 0.5) / 0.5
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
train_ds = TensorDataset(torch.tensor(Xtr).view(-1, 1, 8, 8), torch.tensor(ytr))
val_x, val_y = torch.tensor(Xva).view(-1, 1, 8, 8), torch.tensor(yva)
train_loader = DataLoader(train_ds, batch_size=64, shuffle=True, drop_last=True,
                          generator=torch.Generator().manual_seed(SEED))

net = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
    nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 2 * 2, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10),
).to(memory_format=torch.channels_last)

decay = [p for n, p in net.named_parameters() if p.ndim > 1]
no_decay = [p for n, p in net.named_parameters() if p.ndim <= 1]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                               {"params": no_decay, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.98))

EPOCHS, WARMUP_EPOCHS = 18, 5
total_steps = EPOCHS * len(train_loader)
warmup_steps = WARMUP_EPOCHS * len(train_ds)


def lr_lambda(step):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)

t0 = time.time()
for epoch in range(EPOCHS):
    net.train()
    losses = []
    for xb, yb in train_loader:
        xb = xb.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(net(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    net.eval()
    with torch.no_grad():
        logits = net(val_x.contiguous(memory_format=torch.channels_last))
    val_loss = F.cross_entropy(logits, val_y).item()
    val_acc = (logits.argmax(1) == val_y).float().mean().item()
    if epoch % 3 == 2 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:2d} lr {scheduler.get_last_lr()[0]:.2e} train_loss {np.mean(losses):.4f} "
              f"val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
