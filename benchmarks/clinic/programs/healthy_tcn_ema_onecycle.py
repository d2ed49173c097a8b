"""Dilated 1D temporal conv net on synthetic waveforms with BatchNorm1d, OneCycleLR and an EMA copy of the weights.

expect: healthy
trap: an EMA ("Polyak"/mean-teacher) copy made with copy.deepcopy keeps requires_grad=True on
all its parameters, belongs to no optimizer and never gets a gradient: it is updated in place
under torch.no_grad() and only used for evaluation.  Also: OneCycleLR ramps the LR up 25x in
the first 30% of training, and a no_grad eval-mode validation pass runs every epoch.

Signals of length 128 are one of five classes (sine, square, sawtooth, chirp, damped
oscillation) with random frequency, phase, amplitude and additive noise.  The model is a stack
of dilated residual Conv1d blocks (dilations 1,2,4,8) with BatchNorm1d and ReLU, global
average pooling and a linear classifier.  SGD with Nesterov momentum under OneCycleLR
(max_lr=0.1).  After each step the EMA weights (decay 0.98) and buffers are refreshed.
Measured: EMA model test accuracy 0.9040 (plain run); the EMA validation loss falls
1.78 -> 0.26 over the 6 epochs.
"""
import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

T = 128
rng = np.random.default_rng(0)


def make(n):
    t = np.linspace(0, 1, T, dtype=np.float64)
    X = np.zeros((n, 1, T), dtype=np.float32)
    y = rng.integers(0, 5, size=n)
    for i in range(n):
        f = rng.uniform(2, 8)
        ph = rng.uniform(0, 2 * math.pi)
        a = rng.uniform(0.5, 1.5)
        c = y[i]
        if c == 0:
            s = np.sin(2 * math.pi * f * t + ph)
        elif c == 1:
            s = np.sign(np.sin(2 * math.pi * f * t + ph))
        elif c == 2:
            s = 2 * ((f * t + ph / (2 * math.pi)) % 1.0) - 1
        elif c == 3:
            s = np.sin(2 * math.pi * (f * t + 6 * t ** 2) + ph)
        else:
            s = np.exp(-4 * t) * np.sin(2 * math.pi * 2 * f * t + ph) * 2
        X[i, 0] = a * s + rng.normal(0, 0.7, size=T)
    return torch.tensor(X), torch.tensor(y, dtype=torch.long)


Xtr, ytr = make(1500)
Xva, yva = make(300)
Xte, yte = make(500)


class ResBlock(nn.Module):
    def __init__(self, ch, dil):
        super().__init__()
        self.conv1 = nn.Conv1d(ch, ch, 3, padding=dil, dilation=dil, bias=False)
        self.bn1 = nn.BatchNorm1d(ch)
        self.conv2 = nn.Conv1d(ch, ch, 3, padding=dil, dilation=dil, bias=False)
        self.bn2 = nn.BatchNorm1d(ch)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(x + h)


class TCN(nn.Module):
    def __init__(self, ch=24, n_classes=5):
        super().__init__()
        self.inp = nn.Conv1d(1, ch, 5, padding=2)
        self.blocks = nn.Sequential(*[ResBlock(ch, d) for d in (1, 2, 4, 8)])
        self.fc = nn.Linear(ch, n_classes)

    def forward(self, x):
        h = self.blocks(self.inp(x))
        return self.fc(h.mean(-1))


model = TCN()
ema = copy.deepcopy(model)  # note: parameters still have requires_grad=True
EPOCHS, BS = 6, 50
steps_per_epoch = len(Xtr) // BS
opt = torch.optim.SGD(model.parameters(), lr=0.004, momentum=0.9, nesterov=True, weight_decay=5e-4)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=EPOCHS, steps_per_epoch=steps_per_epoch)


@torch.no_grad()
def ema_update(decay=0.98):
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    for s in range(steps_per_epoch):
        idx = perm[s * BS:(s + 1) * BS]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        ema_update()
    ema.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(ema(Xva), yva).item()
    print(f"epoch {epoch} train {loss.item():.3f} val(ema) {val_loss:.3f}")

ema.eval()
with torch.no_grad():
    acc = (ema(Xte).argmax(1) == yte).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
