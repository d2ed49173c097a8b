"""Digits MLP trained with SGD+momentum under a long linear warmup from 1e-5 to 0.05, then cosine decay.

expect: healthy
trap: for the first ~75 warmup steps the LR is tiny (1e-5..1.3e-2) and the train loss barely moves from log(10)=2.30 (2.31 -> 2.16 by step 75), which looks like a stalled run / learning-rate-too-low; it is just the warmup, and the loss falls fast once the LR reaches the peak

Research-script style: a CONFIG dict, a hand-written LambdaLR doing linear warmup (factor 2e-4 -> 1 over
300 steps) followed by a cosine decay to 2% of the peak. Data are sklearn's 8x8 digits scaled to [0,1]
(pixel/16). During the warmup the loss barely moves (2.31 at step 0, 2.26 at step 50), then drops
once the LR passes ~0.02. Measured: train loss 2.26 at step 50, 1.90 at step 100, ~0.1 at step 300; final val_acc 0.9778
(good for an MLP on digits is >= 0.95).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

CONFIG = dict(peak_lr=0.05, start_factor=2e-4, warmup_steps=300, epochs=40, bs=64, momentum=0.9, seed=0)

torch.set_num_threads(1)
torch.manual_seed(CONFIG["seed"])
np.random.seed(CONFIG["seed"])

X, y = load_digits(return_X_y=True)
X = X / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=CONFIG["seed"], stratify=y)
Xtr = torch.tensor(Xtr, dtype=torch.float32)
Xva = torch.tensor(Xva, dtype=torch.float32)
ytr = torch.tensor(ytr)
yva = torch.tensor(yva)

model = nn.Sequential(
    nn.Linear(64, 128), nn.ReLU(),
    nn.Linear(128, 128), nn.ReLU(),
    nn.Linear(128, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=CONFIG["peak_lr"], momentum=CONFIG["momentum"])

steps_per_epoch = math.ceil(len(Xtr) / CONFIG["bs"])
total_steps = CONFIG["epochs"] * steps_per_epoch
W, s0 = CONFIG["warmup_steps"], CONFIG["start_factor"]


def lr_lambda(step):
    if step < W:  # linear warmup
        return s0 + (1 - s0) * step / W
    prog = (step - W) / max(1, total_steps - W)
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * prog))


sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)

step = 0
for epoch in range(CONFIG["epochs"]):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), CONFIG["bs"]):
        idx = perm[i:i + CONFIG["bs"]]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 25 == 0 and step <= 350:
            print(f"step {step:4d} lr {opt.param_groups[0]['lr']:.2e} loss {loss.item():.4f}")
        step += 1
    model.eval()
    with torch.no_grad():
        out = model(Xva)
        vl = F.cross_entropy(out, yva).item()
        va = (out.argmax(1) == yva).float().mean().item()
    if epoch % 5 == 4:
        print(f"epoch {epoch+1} val_loss {vl:.4f} val_acc {va:.4f}")

print(f"NNDOCTOR_METRIC val_acc={va:.4f} higher")
