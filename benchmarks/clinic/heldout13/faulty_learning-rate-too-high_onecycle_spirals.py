"""3-arm noisy spirals, 3-hidden-layer ReLU MLP, AdamW with a OneCycleLR schedule peaking at max_lr=0.3.

expect: learning-rate-too-high
allow: dead-relu, loss-not-decreasing

OneCycleLR warms the AdamW lr up from 0.012 to a peak of 0.3, about 30x what Adam-family optimizers
tolerate here. The net learns a little during warm-up (val_acc 0.54 in epoch 1), then as the lr passes
~0.15-0.25 the loss rises (0.83 -> 1.46) and every ReLU of the last hidden layer dies (75% / 95% / 100% dead
in layers 1-3), so the output is constant and the loss stays at ln(3)~1.099 for the rest of the schedule;
the annealing phase cannot revive it. No NaN.
Fix: max_lr=0.01 (schedule shape unchanged). Measured (seed 0, 460 steps): faulty val_acc=0.3194
(majority class), twin val_acc=0.9722.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.set_num_threads(1)
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)


def make_spirals(n_per_class, n_classes=3, noise=0.5):
    xs, ys = [], []
    for c in range(n_classes):
        t = rng.uniform(0.25, 1.0, n_per_class) * 3.0 * math.pi
        phase = 2.0 * math.pi * c / n_classes
        pts = np.stack([t * np.cos(t + phase), t * np.sin(t + phase)], 1) / (3.0 * math.pi)
        xs.append(pts + noise * rng.normal(size=pts.shape) / (3.0 * math.pi))
        ys.append(np.full(n_per_class, c))
    X = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.int64)
    p = rng.permutation(len(y))
    return torch.from_numpy(X[p]), torch.from_numpy(y[p])


X, y = make_spirals(600)
X_train, y_train = X[:1440], y[:1440]
X_val, y_val = X[1440:], y[1440:]


class SpiralNet(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.l1 = nn.Linear(2, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.l3 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 3)

    def forward(self, x):
        h = F.relu(self.l1(x))
        h = F.relu(self.l2(h))
        h = F.relu(self.l3(h))
        return self.out(h)


net = SpiralNet()
EPOCHS, BS = 20, 64
steps_per_epoch = math.ceil(len(X_train) / BS)
MAX_LR = 0.3
opt = torch.optim.AdamW(net.parameters(), lr=MAX_LR / 25, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.OneCycleLR(
    opt, max_lr=MAX_LR, epochs=EPOCHS, steps_per_epoch=steps_per_epoch, pct_start=0.3,
)

for epoch in range(EPOCHS):
    net.train()
    perm = torch.randperm(len(X_train))
    losses = []
    for k in range(steps_per_epoch):
        idx = perm[k * BS:(k + 1) * BS]
        loss = F.cross_entropy(net(X_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    net.eval()
    with torch.no_grad():
        val_acc = (net(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1:2d} lr {sched.get_last_lr()[0]:.5f} loss {np.mean(losses):.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
