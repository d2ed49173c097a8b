"""Healthy twin of faulty_learning-rate-too-high_adamw_warmup_peak.py: peak LR 1e-3.
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

PEAK_LR, WARMUP, TOTAL = 1e-3, 40, 500
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
