"""Friedman-1 synthetic regression MLP with gradient accumulation (remainder window), CPU bfloat16 autocast, warmup+cosine LambdaLR and clipping.
expect: healthy
trap: optimizer.step()/zero_grad() only every ACCUM=3 backward passes, so gradients grow across micro-batches on purpose; the last window of each epoch holds fewer micro-batches and is rescaled by its real sample count; forward runs under torch.autocast(cpu, bfloat16) so activations are bf16 and the loss is coarsely quantised (noisy-looking); LR starts near 0 (linear warmup) and is annealed to ~0 at the end; clip_grad_norm_ is applied to the accumulated gradient

Micro-batches of 32 are accumulated three at a time; each micro-batch loss is
a sum divided by the number of samples in its window so that the remainder
window (one or two micro-batches at the end of the epoch) gets the right
scale. Forward passes run in bfloat16 on CPU; the loss is cast to fp32.
AdamW with a LambdaLR warmup + cosine schedule steps once per window. Training
is correct and reaches a good validation MSE (targets standardised).
Measured: val_mse=0.0472 (seeds 1, 2: 0.0593, 0.0533; standardised target, val_mse at epoch 0 is 0.66)
"""
import math

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = make_friedman1(n_samples=2000, n_features=10, noise=0.5, random_state=SEED)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED)
xm, xs, ym, ys = Xtr.mean(0), Xtr.std(0), ytr.mean(), ytr.std()
Xtr = torch.tensor((Xtr - xm) / xs, dtype=torch.float32)
Xva = torch.tensor((Xva - xm) / xs, dtype=torch.float32)
ytr = torch.tensor((ytr - ym) / ys, dtype=torch.float32)
yva = torch.tensor((yva - ym) / ys, dtype=torch.float32)

model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))

MICRO, ACCUM, EPOCHS = 32, 3, 25
n_micro = math.ceil(len(Xtr) / MICRO)                 # 1500 samples -> 47 micro-batches
steps_per_epoch = math.ceil(n_micro / ACCUM)          # 16 windows, the last one shorter
total_steps = EPOCHS * steps_per_epoch
warmup = 15

opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: (s + 1) / warmup if s < warmup
    else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (s - warmup) / (total_steps - warmup))))

for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    starts = list(range(0, len(Xtr), MICRO))
    ep_loss = 0.0
    opt.zero_grad(set_to_none=True)
    for k, s in enumerate(starts):
        w0 = (k // ACCUM) * ACCUM
        window = starts[w0:w0 + ACCUM]
        n_window = sum(min(MICRO, len(Xtr) - t) for t in window)
        idx = perm[s:s + MICRO]
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            pred = model(Xtr[idx]).squeeze(-1)
        loss = ((pred.float() - ytr[idx]) ** 2).sum() / n_window
        loss.backward()
        ep_loss += loss.item() * n_window
        if (k + 1) % ACCUM == 0 or k + 1 == len(starts):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            v = ((model(Xva).squeeze(-1) - yva) ** 2).mean().item()
        print(f"epoch {epoch:2d} lr {sched.get_last_lr()[0]:.2e} train_mse {ep_loss / len(Xtr):.4f} val_mse {v:.4f}")

model.eval()
with torch.no_grad():
    val_mse = ((model(Xva).squeeze(-1) - yva) ** 2).mean().item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
