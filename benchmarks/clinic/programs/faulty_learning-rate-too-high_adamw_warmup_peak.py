"""Digits MLP trained with AdamW, linear warmup then cosine decay, but a peak learning rate of 0.2 (copied from an SGD config).

expect: learning-rate-too-high
allow: exploding-gradient, dead-relu

Adam-family optimizers move each weight by ~lr per step whatever the gradient's scale; 0.2 is
~200x the usual 1e-3 for a net this size. The warmup hides it for the first steps; once the LR
passes ~1e-2 the loss climbs far above where it was and stays there until the cosine decay
brings the LR back down near the end.
A subtle case: it still ends at test acc 0.906 because the cosine decay rescues it late.
Fixed (PEAK_LR = 1e-3): test acc 0.969 vs 0.906 here; batch loss at steps 100/200/300 is
0.27/0.12/0.09 fixed vs 1.65/1.10/0.49 here (2.31 at step 0).
"""
import math

import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.2, random_state=0)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

PEAK_LR, WARMUP, TOTAL = 0.2, 40, 500
model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
optimizer = torch.optim.AdamW(model.parameters(), lr=PEAK_LR, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(
    optimizer,
    lambda s: (s + 1) / WARMUP if s < WARMUP else 0.5 * (1 + math.cos(math.pi * (s - WARMUP) / (TOTAL - WARMUP))),
)
criterion = nn.CrossEntropyLoss()

for step in range(TOTAL):
    idx = torch.randint(len(Xtr), (64,))
    loss = criterion(model(Xtr[idx]), ytr[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 50 == 0:
        print(f"step {step:3d}  lr {scheduler.get_last_lr()[0]:.4f}  loss {loss.item():.4f}")

with torch.no_grad():
    print(f"test acc {(model(Xte).argmax(1) == yte).float().mean().item():.3f}")

with torch.no_grad():
    print(f"NNDOCTOR_METRIC test_acc={(model(Xte).argmax(1) == yte).float().mean().item():.4f} higher")
