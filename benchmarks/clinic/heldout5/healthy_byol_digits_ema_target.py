"""BYOL self-supervised pretraining on 8x8 digits (EMA target network, stop-gradient, BatchNorm heads), scored by a linear probe.
expect: healthy
trap: target network (EMA of the online net) requires grad but never receives gradients and is in no optimizer; target branch under no_grad (stop-gradient); symmetric loss bounded in [0, 8] that drops fast then wobbles; periodic eval()/train() switches for a collapse monitor; BatchNorm in projector/predictor; EMA momentum scheduled toward 1

BYOL's target network is updated only by xi <- m xi + (1 - m) theta; it is deliberately cut out of the
graph. The loss is 2 - 2 cos(p, sg(z')) per view pair and may plateau or bounce while the
representation keeps improving. A representation-collapse monitor runs every 150 steps in eval mode and switches
the model back to train mode afterwards.
Measured: probe_acc=0.8934 (seeds 1, 2: 0.9155, 0.8773; probe on the untrained encoder: 0.841)
"""
import copy
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

d = load_digits()
X = torch.tensor(d.data / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
y = torch.tensor(d.target)
perm = torch.randperm(len(X))
tr, te = perm[:1300], perm[1300:]


def augment(x):
    # random translation by up to 1 px, pixel dropout, intensity jitter and noise
    b = x.shape[0]
    pad = F.pad(x, (1, 1, 1, 1))
    dx, dy = torch.randint(0, 3, (2,))
    out = pad[:, :, dy:dy + 8, dx:dx + 8]
    out = out * (torch.rand_like(out) > 0.2).float()
    out = out * torch.empty(b, 1, 1, 1).uniform_(0.7, 1.3) + 0.05 * torch.randn_like(out)
    return out.flatten(1)


def head(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, o))


class Online(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU())
        self.projector = head(64, 128, 32)

    def forward(self, x):
        return self.projector(self.encoder(x))


online = Online()
predictor = head(32, 128, 32)
target = copy.deepcopy(online)
opt = torch.optim.Adam(list(online.parameters()) + list(predictor.parameters()), lr=1e-3, weight_decay=1e-6)


def byol_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1).mean()


@torch.no_grad()
def collapse_monitor():
    # std of L2-normalised projections across samples: ~1/sqrt(32)=0.177 if spread out, -> 0 if collapsed
    online.eval()
    z = F.normalize(online(X[te].flatten(1)), dim=1)
    online.train()
    return z.std(0).mean().item()


STEPS, BS, M0 = 500, 128, 0.99
for step in range(STEPS):
    xb = X[tr[torch.randint(0, len(tr), (BS,))]]
    v1, v2 = augment(xb), augment(xb)
    p1, p2 = predictor(online(v1)), predictor(online(v2))
    with torch.no_grad():
        z1, z2 = target(v1), target(v2)
    loss = byol_loss(p1, z2) + byol_loss(p2, z1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    m = 1 - (1 - M0) * (math.cos(math.pi * step / STEPS) + 1) / 2
    with torch.no_grad():
        for po, pt in zip(online.parameters(), target.parameters()):
            pt.mul_(m).add_((1 - m) * po)
        for bo, bt in zip(online.buffers(), target.buffers()):
            bt.copy_(bo)
    if step % 150 == 0 or step == STEPS - 1:
        print(f"step {step:3d} loss {loss.item():.4f} momentum {m:.4f} z-std {collapse_monitor():.3f}")

online.eval()
with torch.no_grad():
    feats_tr = online.encoder(X[tr].flatten(1)).numpy()
    feats_te = online.encoder(X[te].flatten(1)).numpy()
probe = LogisticRegression(max_iter=2000).fit(feats_tr, y[tr].numpy())
acc = probe.score(feats_te, y[te].numpy())
print(f"NNDOCTOR_METRIC probe_acc={acc:.4f} higher")
