"""Lipschitz-constrained CNN on 8x8 digits: spectral_norm convs, an orthogonal square layer and a learnable logit scale.
expect: healthy
trap: every effective weight has a (near-)fixed norm -- largest singular value ~1 for the spectral-normed convs/linears, all singular values exactly 1 for the orthogonal layer -- so effective weight norms never grow while Adam moves the underlying tensors; the trained tensors live under parametrizations.*.original and `module.weight` is recomputed on every access; the weights' raw scale is divided out, so the grad/weight ratio of the `original` tensors is not the update size of the layer; spectral_norm's power-iteration vectors (_u/_v) are buffers updated in every training forward; a scalar log-temperature parameter multiplies the logits

Spectral normalization divides each conv/linear weight by an estimate of its largest singular value
(one power iteration per training forward), and the orthogonal parametrization maps an unconstrained
matrix to an orthogonal one (matrix exponential / Cayley / Householder, PyTorch picks).  The network is
close to 1-Lipschitz (spectral norm of the flattened conv kernel is only a proxy for the conv operator
norm); a learnable log-temperature rescales the logits before the cross-entropy.  All this is by design (robustness / certified-margin style
training); Adam trains the `original` tensors normally and the model reaches high accuracy.
Measured: val_acc=0.9733
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import orthogonal, spectral_norm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32) / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
m, s = Xtr.mean(), Xtr.std()
Xtr = torch.tensor((Xtr - m) / s).reshape(-1, 1, 8, 8)
Xva = torch.tensor((Xva - m) / s).reshape(-1, 1, 8, 8)
ytr = torch.tensor(ytr)
yva = torch.tensor(yva)


class LipNet(nn.Module):
    def __init__(self, c=32, d=128):
        super().__init__()
        self.c1 = spectral_norm(nn.Conv2d(1, c, 3, padding=1))
        self.c2 = spectral_norm(nn.Conv2d(c, c, 3, padding=1))
        self.c3 = spectral_norm(nn.Conv2d(c, 2 * c, 3, padding=1))
        self.proj = spectral_norm(nn.Linear(2 * c * 4, d))
        self.mix = orthogonal(nn.Linear(d, d))
        self.head = spectral_norm(nn.Linear(d, 10))
        self.log_temp = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        x = F.relu(self.proj(x.flatten(1)))
        x = F.relu(self.mix(x))
        return self.head(x) * self.log_temp.exp()


model = LipNet()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
EPOCHS, BS = 12, 64
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.3)


def sigma_max(w):
    return torch.linalg.matrix_norm(w.detach().flatten(1), ord=2).item()


t0 = time.time()
gen = torch.Generator().manual_seed(SEED)
for ep in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr), generator=gen)
    tot, nb = 0.0, 0
    for i in range(0, len(perm), BS):
        b = perm[i:i + BS]
        loss = F.cross_entropy(model(Xtr[b]), ytr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
        nb += 1
    sched.step()
    model.eval()
    with torch.no_grad():
        out = model(Xva)
        vloss = F.cross_entropy(out, yva).item()
        vacc = (out.argmax(1) == yva).float().mean().item()
    if ep % 2 == 1 or ep == EPOCHS - 1:
        print(f"ep {ep:2d} loss {tot / nb:.4f} val_loss {vloss:.4f} val_acc {vacc:.4f} "
              f"temp {model.log_temp.exp().item():.2f} sigma(c2) {sigma_max(model.c2.weight):.3f} "
              f"sigma(mix) {sigma_max(model.mix.weight):.3f}")

print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={vacc:.4f} higher")
