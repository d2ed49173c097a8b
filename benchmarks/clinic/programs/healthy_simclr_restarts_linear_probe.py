"""SimCLR-style contrastive pretraining (NT-Xent, temperature 0.2) with cosine warm restarts, then a frozen linear probe.

expect: healthy
trap: the contrastive loss plateaus far above zero by design and the LR repeatedly anneals to ~0 at the end of each restart cycle; in the probe phase the encoder is frozen and kept in eval mode while only the probe trains

Encoder and projector live in an nn.ModuleDict. Two augmented views of each
digit (random 1-pixel shifts, pixel dropout, Gaussian noise) are embedded, and
the NT-Xent / InfoNCE loss with temperature 0.2 is minimised by AdamW under
CosineAnnealingWarmRestarts (T_0=40 steps, T_mult=2), so the LR touches ~0 at
the end of each cycle and jumps back up. The NT-Xent loss with 2N-2 negatives
cannot approach zero; it levels off by design. Afterwards the encoder is frozen
(requires_grad_(False), eval mode so its BatchNorm uses running stats) and a
linear probe is trained on its features: that is the normal linear-evaluation
protocol, not a model accidentally trained in eval mode.
Measured (plain run): NT-Xent 4.05 -> 3.12, linear-probe test accuracy 0.9685.
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
X = (X / 16.0).astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)
Xtr, Xte = torch.tensor(Xtr), torch.tensor(Xte)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)
mu, sd = Xtr.mean(0), Xtr.std(0) + 0.1
norm = lambda t: (t - mu) / sd  # noqa: E731


def augment(x):
    img = x.view(-1, 8, 8)
    dx, dy = np.random.randint(-1, 2, size=2)
    img = torch.roll(img, shifts=(int(dy), int(dx)), dims=(1, 2))
    keep = (torch.rand_like(img) > 0.15).float()
    img = img * keep + 0.05 * torch.randn_like(img)
    return norm(img.reshape(-1, 64))


net = nn.ModuleDict({
    "encoder": nn.Sequential(
        nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(),
    ),
    "projector": nn.Sequential(
        nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 32),
    ),
})


def nt_xent(z1, z2, tau=0.2):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / tau
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=40, T_mult=2, eta_min=1e-6)
bs = 128
total_steps = 280  # 40 + 80 + 160: three full restart cycles
step = 0
net.train()
while step < total_steps:
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(perm) - bs + 1, bs):
        xb = Xtr[perm[i:i + bs]]
        z1 = net["projector"](net["encoder"](augment(xb)))
        z2 = net["projector"](net["encoder"](augment(xb)))
        loss = nt_xent(z1, z2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % 70 == 0:
            print(f"step {step} nt-xent {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e}")
        if step >= total_steps:
            break

# ---- linear evaluation protocol ------------------------------------------
encoder = net["encoder"].requires_grad_(False).eval()
with torch.no_grad():
    ftr, fte = encoder(norm(Xtr)), encoder(norm(Xte))
fm, fs = ftr.mean(0), ftr.std(0) + 1e-3
ftr, fte = (ftr - fm) / fs, (fte - fm) / fs
probe = nn.Linear(ftr.shape[1], 10)
popt = torch.optim.Adam(probe.parameters(), lr=1e-2, weight_decay=1e-3)
for epoch in range(30):
    perm = torch.randperm(len(ftr))
    for i in range(0, len(perm), 128):
        idx = perm[i:i + 128]
        ploss = F.cross_entropy(probe(ftr[idx]), ytr[idx])
        popt.zero_grad()
        ploss.backward()
        popt.step()
with torch.no_grad():
    acc = (probe(fte).argmax(1) == yte).float().mean().item()
print(f"probe loss {ploss.item():.4f}")
print(f"NNDOCTOR_METRIC probe_acc={acc:.4f} higher")
