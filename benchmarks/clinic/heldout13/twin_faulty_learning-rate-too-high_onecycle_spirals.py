"""3-arm noisy spirals, 3-hidden-layer ReLU MLP, AdamW with a OneCycleLR schedule peaking at max_lr=0.01.
expect: healthy

Twin of the max_lr=0.3 program; only the schedule's peak lr changed (0.3 -> 0.01). Train loss goes from
1.09 to ~0.07 over 460 steps. val_acc = 0.9722 / 0.9694 / 0.9611 at seeds 0 / 1 / 2 (spread ~0.01);
the faulty program gets 0.3194.
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
MAX_LR = 0.01
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
