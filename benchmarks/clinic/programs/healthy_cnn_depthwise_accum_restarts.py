"""Depthwise-separable CNN with GroupNorm on 8x8 digits, gradient accumulation and warm-restart cosine LR.

expect: healthy
trap: gradient accumulation (optimizer.step()/zero_grad() only every 4 backward passes) plus
CosineAnnealingWarmRestarts, whose LR jumps back up at each restart and briefly bumps the loss.

A small "mobile-style" convnet: a stem conv, then two depthwise (groups=channels) + pointwise
blocks with GroupNorm and SiLU, global average pooling and a linear classifier.  Micro-batches
of 16 are accumulated 4 at a time (effective batch 64) before each AdamW step, with the loss
divided by the number of accumulation steps.  The LR follows CosineAnnealingWarmRestarts
(T_0=30 optimizer steps, T_mult=2), stepped once per optimizer step, so the LR rises sharply
at steps 30 and 90.  Inputs are scaled to [0, 1] and standardized with training statistics.
Measured: test accuracy 0.9556 after 8 epochs (plain run).
"""
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
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
mean, std = Xtr.mean(), Xtr.std()
Xtr = torch.tensor((Xtr - mean) / std)
Xte = torch.tensor((Xte - mean) / std)
ytr = torch.tensor(ytr, dtype=torch.long)
yte = torch.tensor(yte, dtype=torch.long)


class DWBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.norm = nn.GroupNorm(4, cout)

    def forward(self, x):
        return F.silu(self.norm(self.pw(self.dw(x))))


class TinyMobileNet(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.GroupNorm(4, 16), nn.SiLU())
        self.block1 = DWBlock(16, 32)
        self.block2 = DWBlock(32, 64)
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.block1(x)
        x = F.max_pool2d(x, 2)
        x = self.block2(x)
        x = x.mean(dim=(2, 3))
        return self.head(x)


model = TinyMobileNet()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=30, T_mult=2, eta_min=1e-5)
ACCUM = 4
MICRO = 16
EPOCHS = 8

for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    opt.zero_grad()
    for i, start in enumerate(range(0, len(Xtr) - MICRO + 1, MICRO)):
        idx = perm[start:start + MICRO]
        logits = model(Xtr[idx])
        loss = F.cross_entropy(logits, ytr[idx]) / ACCUM
        loss.backward()
        if (i + 1) % ACCUM == 0:
            opt.step()
            sched.step()
            opt.zero_grad()

model.eval()
with torch.no_grad():
    acc = (model(Xte).argmax(1) == yte).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
