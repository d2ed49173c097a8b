"""make_moons-style 2D classifier built from hand-written weight-normalised layers; direction computed from v.data.
expect: broken-gradient-flow
allow: loss-not-decreasing

WNLinear re-implements weight normalisation (w = g * v / ||v||) as a small
custom layer trained with RAdam. The direction is computed as
`F.normalize(self.v.data, dim=1)`: `.data` hands back a tensor outside the
autograd graph, so the direction parameters `v` of every layer require grad
but never receive one (v.grad stays None), and only the per-unit gains g and
the biases learn. The network is stuck with its random hidden directions and
fits the interleaved moons + rings data poorly. Fix: normalise `self.v`.
Measured: faulty val_acc=0.8524 vs fixed val_acc=0.9262 (seed 1: 0.8405 vs 0.9381, seed 2: 0.8833 vs 0.9190)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_circles, make_moons
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class WNLinear(nn.Module):
    """Linear layer with weight normalisation: w_i = g_i * v_i / ||v_i||."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.v = nn.Parameter(torch.randn(n_out, n_in) / n_in ** 0.5)
        self.g = nn.Parameter(torch.ones(n_out))
        self.b = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        direction = F.normalize(self.v.data, dim=1)
        return F.linear(x, direction * self.g.unsqueeze(1), self.b)


class Net(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.l1 = WNLinear(n_in, hidden)
        self.l2 = WNLinear(hidden, hidden)
        self.l3 = WNLinear(hidden, hidden)
        self.out = WNLinear(hidden, n_out)

    def forward(self, x):
        x = F.silu(self.l1(x))
        x = F.silu(self.l2(x))
        x = F.silu(self.l3(x))
        return self.out(x)


# four classes: two interleaved moons plus two concentric rings shifted away
Xm, ym = make_moons(n_samples=700, noise=0.12, random_state=SEED)
Xc, yc = make_circles(n_samples=700, noise=0.06, factor=0.5, random_state=SEED)
X = np.vstack([Xm, Xc * 1.2 + np.array([3.0, 0.0])]).astype(np.float32)
y = np.concatenate([ym, yc + 2])
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr, Xva = torch.tensor((Xtr - mu) / sd), torch.tensor((Xva - mu) / sd)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = Net(2, 16, 4)
opt = torch.optim.RAdam(model.parameters(), lr=1e-2)

BATCH = 64
for epoch in range(25):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
    if epoch % 5 == 0 or epoch == 24:
        model.eval()
        with torch.no_grad():
            acc = (model(Xva).argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch:2d} loss {loss.item():.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
