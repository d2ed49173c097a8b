"""SimCLR-style contrastive pretraining on the digits (two noisy, shifted views per image, InfoNCE with temperature 0.1), then a linear probe on frozen features.

expect: healthy
trap: a self-supervised loss whose floor is far above 0 (log of the batch size) and that is noisy from batch to batch, a temperature that scales the logits 10x, a second phase (linear probe) on features computed under no_grad with a new optimizer

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: InfoNCE falls to ~2.2 (chance: ln 255 = 5.5); the linear probe on the learned
features reaches test acc 0.917.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)
d = load_digits()
X = torch.tensor(d.images / 16.0, dtype=torch.float32)
y = torch.tensor(d.target)
Xtr, ytr, Xte, yte = X[:1400], y[:1400], X[1400:], y[1400:]


def augment(img):
    shift = torch.randint(-1, 2, (2,))
    out = torch.roll(img, shifts=(int(shift[0]), int(shift[1])), dims=(-2, -1))
    out = out * (0.8 + 0.4 * torch.rand(len(img), 1, 1)) + 0.1 * torch.randn_like(out)
    return out.flatten(1)


encoder = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 64))
projector = nn.Sequential(nn.ReLU(), nn.Linear(64, 32))


def info_nce(z1, z2, tau=0.1):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / tau
    sim.fill_diagonal_(float("-inf"))
    n = len(z1)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


opt = torch.optim.Adam(list(encoder.parameters()) + list(projector.parameters()), lr=1e-3, weight_decay=1e-5)
for step in range(400):
    idx = torch.randint(0, len(Xtr), (128,))
    xb = Xtr[idx]
    loss = info_nce(projector(encoder(augment(xb))), projector(encoder(augment(xb))))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(f"step {step} info_nce {loss.item():.3f}")

with torch.no_grad():
    ftr, fte = encoder(Xtr.flatten(1)), encoder(Xte.flatten(1))
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
probe = nn.Linear(64, 10)
popt = torch.optim.Adam(probe.parameters(), lr=1e-2)
for step in range(200):
    ploss = F.cross_entropy(probe(ftr), ytr)
    popt.zero_grad(); ploss.backward(); popt.step()
acc = (probe(fte).argmax(1) == yte).float().mean().item()
print(f"probe test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC probe_acc={acc:.4f} higher")
