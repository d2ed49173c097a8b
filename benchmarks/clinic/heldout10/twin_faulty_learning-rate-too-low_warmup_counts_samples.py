"""Digits autoencoder (AdamW) with linear warmup over 10% of the optimizer steps, then cosine decay to 0.

expect: healthy
trap: the LR rises during the first 4 epochs and the cosine decay drives it to exactly 0 at the last step, so the final epochs have a tiny LR and an almost flat loss -- the "end of a schedule that deliberately decays LR" trap for learning-rate-too-low.

Identical to faulty_learning-rate-too-low_warmup_counts_samples.py except that warmup_steps is
computed from len(loader) (batches per epoch) instead of len(train_ds) (samples).
Measured: val_mse=0.0202 (faulty file: val_mse=0.0722).
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
warmup_steps = int(cfg["warmup_frac"] * cfg["epochs"] * len(loader))


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
