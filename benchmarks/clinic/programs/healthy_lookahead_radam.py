"""Three-class moons+blob MLP trained with a hand-written Lookahead wrapper around RAdam.
expect: healthy
trap: every k=6 steps the fast weights are pulled back toward slow weights (parameters jump backwards, the effective update is not what RAdam computed); slow weights are plain tensors kept in the wrapper's state, not parameters; the wrapper is not a torch.optim.Optimizer subclass and forwards zero_grad/step to the inner optimizer; RAdam's first steps are un-rectified SGD-with-momentum steps

Lookahead (Zhang et al. 2019) runs an inner optimizer ("fast weights") for k
steps, then moves slow weights alpha of the way toward the fast weights and
copies them back into the parameters. Every k-th step the parameters therefore
move back by (1-alpha) of what the last k steps achieved, which looks like an
undone update. The inner optimizer is RAdam, whose variance rectification
makes its first few steps plain momentum steps. Training is correct.
Measured: val_acc=0.9292 (seeds 1, 2: 0.9125, 0.9208; the noisy moons + overlapping blob cap accuracy
at ~0.92-0.93, reached by epoch ~9, after which the run is converged)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_blobs, make_moons
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class Lookahead:
    def __init__(self, inner, k=6, alpha=0.5):
        self.inner, self.k, self.alpha = inner, k, alpha
        self.param_groups = inner.param_groups
        self.counter = 0
        self.slow = [[p.detach().clone() for p in g["params"]] for g in self.param_groups]

    def zero_grad(self, set_to_none=True):
        self.inner.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self):
        self.inner.step()
        self.counter += 1
        if self.counter % self.k:
            return
        for group, slow_group in zip(self.param_groups, self.slow):
            for p, slow in zip(group["params"], slow_group):
                slow.add_(p - slow, alpha=self.alpha)
                p.copy_(slow)


Xm, ym = make_moons(n_samples=1200, noise=0.2, random_state=SEED)
Xb, yb = make_blobs(n_samples=400, centers=[[0.5, 0.25]], cluster_std=0.15, random_state=SEED)
X = np.vstack([Xm, Xb]).astype(np.float32)   # moons + a tight blob between them (class 2)
y = np.concatenate([ym, yb + 2])
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr, Xva = torch.tensor((Xtr - mu) / sd), torch.tensor((Xva - mu) / sd)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = nn.Sequential(nn.Linear(2, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 3))
opt = Lookahead(torch.optim.RAdam(model.parameters(), lr=1e-2, weight_decay=1e-4), k=6, alpha=0.5)

BATCH, EPOCHS = 32, 14
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad()
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        tot += loss.item() * len(idx)
    if epoch % 3 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            out = model(Xva)
            print(f"epoch {epoch:2d} train_loss {tot / len(Xtr):.4f} val_loss {F.cross_entropy(out, yva).item():.4f} "
                  f"val_acc {(out.argmax(1) == yva).float().mean().item():.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
