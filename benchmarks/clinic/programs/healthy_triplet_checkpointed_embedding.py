"""Metric learning on 8x8 digits: a checkpointed CNN embedding (use_reentrant=False) trained with triplet margin loss, evaluated by 1-NN.
expect: healthy
trap: every stage (including the stem, whose input is the raw image batch with requires_grad=False) runs under torch.utils.checkpoint, so each stage's forward runs twice per step (once in forward, once recomputed inside backward) and forward hooks fire twice; the triplet hinge is exactly 0 for every triplet that satisfies the margin: after ~50 steps only a few % of triplets are active and many whole batches have loss exactly 0.0 and every .grad exactly 0 (Adam still moves the weights through its moment estimates); embeddings are L2-normalised, so the pre-normalisation scale is free and its gradient is orthogonal to it; there is no classifier and no cross-entropy (the metric is 1-NN accuracy on held-out digits)

The non-reentrant checkpoint implementation (use_reentrant=False) tracks the parameters used inside the
checkpointed function through saved-tensor hooks, so gradients reach the stem even though its input does
not require grad -- unlike the old reentrant variant.  Triplets (anchor, positive of the same class,
negative of another class) are sampled at random per step; TripletMarginLoss(margin=0.3) on unit vectors.
As the embedding improves, the fraction of "active" (non-zero-loss) triplets drops from ~90% to a few %,
which is the expected behaviour of a hinge loss, not vanishing gradients.
Measured: val_1nn_acc=0.9870
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32) / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(), Xtr.std()
Xtr = torch.from_numpy((Xtr - mu) / sd).view(-1, 1, 8, 8)
Xva = torch.from_numpy((Xva - mu) / sd).view(-1, 1, 8, 8)
ytr, yva = torch.from_numpy(ytr), torch.from_numpy(yva)
order = torch.argsort(ytr, stable=True)                   # train indices grouped by class
counts = torch.bincount(ytr, minlength=10)
starts = torch.cumsum(counts, 0) - counts


class Embedder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, 24, 3, padding=1), nn.BatchNorm2d(24), nn.ReLU()),
            nn.Sequential(nn.Conv2d(24, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        ])
        self.proj = nn.Linear(64, dim)
        self.use_ckpt = True

    def forward(self, x):
        for st in self.stages:
            if self.use_ckpt and self.training:
                x = checkpoint(st, x, use_reentrant=False)
            else:
                x = st(x)
        return F.normalize(self.proj(x), dim=1)


def sample_triplets(n, gen):
    a_cls = torch.randint(0, 10, (n,), generator=gen)
    n_cls = (a_cls + torch.randint(1, 10, (n,), generator=gen)) % 10

    def pick(cls):
        off = (torch.rand(len(cls), generator=gen) * counts[cls]).long()
        return order[starts[cls] + off]

    return pick(a_cls), pick(a_cls), pick(n_cls)


@torch.no_grad()
def one_nn_acc(net):
    net.eval()
    gallery, queries = net(Xtr), net(Xva)
    pred = ytr[(queries @ gallery.T).argmax(1)]
    net.train()
    return (pred == yva).float().mean().item()


net = Embedder()
opt = torch.optim.Adam(net.parameters(), lr=2e-3)
STEPS, BS = 250, 32
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS)
crit = nn.TripletMarginLoss(margin=0.3)
gen = torch.Generator().manual_seed(SEED)

t0 = time.time()
net.train()
for step in range(STEPS):
    ia, ip, ineg = sample_triplets(BS, gen)
    emb = net(torch.cat([Xtr[ia], Xtr[ip], Xtr[ineg]]))
    ea, ep, en = emb.split(BS)
    loss = crit(ea, ep, en)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    if step % 50 == 0 or step == STEPS - 1:
        with torch.no_grad():
            active = ((ea - ep).norm(dim=1) - (ea - en).norm(dim=1) + 0.3 > 0).float().mean().item()
        print(f"step {step:3d} loss {loss.item():.4f} active_triplets {active:.2f} val_1nn_acc {one_nn_acc(net):.4f}")

acc = one_nn_acc(net)
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_1nn_acc={acc:.4f} higher")
