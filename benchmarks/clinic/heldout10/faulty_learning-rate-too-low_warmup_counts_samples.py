"""Digits autoencoder whose linear-warmup length is computed in samples, not optimizer steps.

expect: learning-rate-too-low
allow: loss-not-decreasing

The schedule is "linear warmup over the first 10% of training, then cosine decay", stepped
once per batch.  total_steps is correctly epochs * len(loader), but warmup_steps is computed
from len(train_ds) (samples) instead of len(loader) (batches), so warmup is 128x longer than intended
(about 12x the whole run): the LR multiplier only climbs to ~0.08 by the last step and averages
~0.04 of base_lr.  The AdamW autoencoder spends the run crawling down the loss curve.
Measured: faulty val_mse=0.0722 ; twin (warmup in steps) val_mse=0.0202.
"""
import math
import time
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(3)
np.random.seed(3)

cfg = {
    "base_lr": 3e-3,
    "weight_decay": 1e-4,
    "batch_size": 128,
    "epochs": 40,
    "warmup_frac": 0.10,
    "bottleneck": 16,
}

X = load_digits().data.astype(np.float32) / 16.0
Xtr, Xva = train_test_split(X, test_size=0.2, random_state=3)
train_ds = TensorDataset(torch.from_numpy(Xtr))
loader = DataLoader(train_ds, batch_size=cfg["batch_size"], shuffle=True)
Xva = torch.from_numpy(Xva)

model = nn.Sequential(
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, cfg["bottleneck"]),
    nn.Linear(cfg["bottleneck"], 64), nn.ReLU(),
    nn.Linear(64, 64), nn.Sigmoid(),
)
opt = torch.optim.AdamW(model.parameters(), lr=cfg["base_lr"], weight_decay=cfg["weight_decay"])

total_steps = cfg["epochs"] * len(loader)
warmup_steps = int(cfg["warmup_frac"] * cfg["epochs"] * len(train_ds))


def lr_lambda(step):
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
loss_fn = nn.MSELoss()

t0 = time.time()
for epoch in range(cfg["epochs"]):
    tot = 0.0
    for (xb,) in loader:
        recon = model(xb)
        loss = loss_fn(recon, xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tot += loss.item() * len(xb)
    if epoch % 5 == 0 or epoch == cfg["epochs"] - 1:
        with torch.no_grad():
            val = loss_fn(model(Xva), Xva).item()
        print(f"epoch {epoch:2d} lr {sched.get_last_lr()[0]:.2e} "
              f"train {tot / len(train_ds):.4f} val {val:.4f}")

with torch.no_grad():
    v = loss_fn(model(Xva), Xva).item()
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mse={v:.4f} lower")
