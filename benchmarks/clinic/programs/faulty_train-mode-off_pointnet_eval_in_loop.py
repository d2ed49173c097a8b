"""PointNet classifier (shared per-point MLP with BatchNorm, max-pool, dropout head) on synthetic point clouds of 5 primitive shapes; the per-epoch validation switches the model to eval() and training never switches it back.
expect: train-mode-off
allow: non-finite, learning-rate-too-high, exploding-gradient, loss-not-decreasing

`model.train()` is called once before the epoch loop and `evaluate()` calls `model.eval()`.  From the
second epoch on every optimisation step runs with BatchNorm in inference mode (normalising with the
stale running statistics gathered in epoch 1 and never updating them) and with dropout disabled.  The
network effectively trains without normalisation at a learning rate chosen for a BatchNorm network,
and the frozen statistics drift away from the activations the changing weights produce.  Here the
epoch-1 accuracy is 0.69; in the first eval-mode steps of epoch 2 the loss jumps to 4-9 with gradient
norms of 10-27 (SGD lr=0.05, momentum 0.9), the network collapses to chance (loss ~log 5 = 1.61) within
about 10 steps and goes NaN later in the same epoch.  With the single-line fix (model.train() at the
top of every epoch) the same recipe trains smoothly.
Measured: faulty val_acc=0.2160 vs fixed val_acc=0.9920 (seed 0); seeds 1/2: 0.2280 vs 0.9220, 0.1740 vs 0.9620
(seeds 3/4 collapse too.  The damage depends on the LR: at lr=0.02 the faulty run still reaches 1.000.)
"""
import time
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

rng = np.random.default_rng(SEED)
NPTS = 48


def sample_shape(c):
    u, v = rng.random(NPTS), rng.random(NPTS)
    if c == 0:    # sphere surface
        th, ph = 2 * np.pi * u, np.arccos(2 * v - 1)
        p = np.stack([np.sin(ph) * np.cos(th), np.sin(ph) * np.sin(th), np.cos(ph)], 1)
    elif c == 1:  # cube surface
        p = rng.uniform(-1, 1, (NPTS, 3))
        ax = rng.integers(0, 3, NPTS)
        p[np.arange(NPTS), ax] = np.sign(rng.random(NPTS) - 0.5)
    elif c == 2:  # cylinder side
        th = 2 * np.pi * u
        p = np.stack([np.cos(th), np.sin(th), 2 * v - 1], 1)
    elif c == 3:  # cone
        th, h = 2 * np.pi * u, v
        p = np.stack([(1 - h) * np.cos(th), (1 - h) * np.sin(th), 2 * h - 1], 1)
    else:         # torus
        th, ph = 2 * np.pi * u, 2 * np.pi * v
        p = np.stack([(0.7 + 0.3 * np.cos(ph)) * np.cos(th), (0.7 + 0.3 * np.cos(ph)) * np.sin(th),
                      0.3 * np.sin(ph)], 1)
    # random rotation about z, anisotropic scale, jitter
    a = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    p = p @ R.T * rng.uniform(0.7, 1.3, 3) + rng.normal(0, 0.08, p.shape)
    return p.astype(np.float32)


def make(n):
    y = rng.integers(0, 5, n)
    X = np.stack([sample_shape(c) for c in y])
    return torch.from_numpy(X).transpose(1, 2).contiguous(), torch.from_numpy(y)


Xtr, ytr = make(1500)
Xva, yva = make(500)


class PointNet(nn.Module):
    def __init__(self, n_cls=5):
        super().__init__()
        self.feat = nn.Sequential(
            nn.Conv1d(3, 64, 1), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 64, 1), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 128, 1), nn.BatchNorm1d(128), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(128, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.4),
                                  nn.Linear(64, n_cls))

    def forward(self, x):
        return self.head(self.feat(x).max(2).values)


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


model = PointNet()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
crit = nn.CrossEntropyLoss()
bs = 50
step = 0
model.train()
for epoch in range(10):
    perm = torch.randperm(len(Xtr))
    for b in range(0, len(perm), bs):
        i = perm[b:b + bs]
        loss = crit(model(Xtr[i]), ytr[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    va = evaluate(model, Xva, yva)
    print(f"epoch {epoch:2d} step {step} loss={loss.item():.4f} val_acc={va:.3f}")

val_acc = evaluate(model, Xva, yva)
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
