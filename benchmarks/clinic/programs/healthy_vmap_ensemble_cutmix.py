"""Deep ensemble of 5 small CNNs on 8x8 digits trained together with torch.func (stack_module_state + vmap) and CutMix soft targets.
expect: healthy
trap: the 5 nn.Module instances used to build the ensemble still hold parameters with requires_grad=True that are in no optimizer and never get a .grad (the trained copies are the stacked leaf tensors from stack_module_state; the `base` module lives on the meta device); the training loss is cross-entropy against CutMix-mixed soft targets, so on mixed batches it can't go below the mixed-label entropy (0.5 nats on average for lam~U(0,1)); on 8x8 images it sits around 0.65, is noisy and even rises for a few epochs after the one-cycle LR peak, while the held-out NLL of the averaged ensemble is ~0.18 and flat; the summed-over-members loss is 5x a single model's loss

torch.func.stack_module_state copies the parameters of several identically-shaped modules into stacked
tensors [M, ...] that are fresh leaves; vmap(functional_call) runs all members in one batched call.
This is the recipe from the PyTorch "model ensembling" tutorial: the original member modules are only
used as initializers and are not touched again.  With probability 0.5 a batch gets CutMix (a random box from a shuffled
partner image, label weight = kept area), and every member is trained on the same mixed batch with its
own mean soft-target cross-entropy; member losses are summed so each member sees a full-size gradient.
At test time member probabilities are averaged.
Measured: val_nll=0.1762 (val_acc 0.9815)
"""
import copy
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32).reshape(-1, 1, 8, 8) / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(), Xtr.std()
Xtr, Xva = torch.from_numpy((Xtr - mu) / sd), torch.from_numpy((Xva - mu) / sd)
ytr, yva = torch.from_numpy(ytr), torch.from_numpy(yva)
M, C = 5, 10


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, C)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


members = [SmallCNN() for _ in range(M)]
params, buffers = stack_module_state(members)
base = copy.deepcopy(members[0]).to("meta")


def fmodel(p, b, x):
    return functional_call(base, (p, b), (x,))


ensemble = vmap(fmodel, in_dims=(0, 0, None))
opt = torch.optim.AdamW(list(params.values()), lr=3e-3, weight_decay=1e-3)


def cutmix(x, y, rng, prob=0.5):
    t = F.one_hot(y, C).float()
    if rng.random() > prob:
        return x, t
    lam = rng.beta(1.0, 1.0)
    h = w = x.shape[-1]
    cut = int(round(h * np.sqrt(1 - lam)))
    cy, cx = rng.integers(0, h), rng.integers(0, w)
    y0, y1 = max(cy - cut // 2, 0), min(cy + cut // 2 + cut % 2, h)
    x0, x1 = max(cx - cut // 2, 0), min(cx + cut // 2 + cut % 2, w)
    perm = torch.randperm(x.shape[0])
    x = x.clone()
    x[:, :, y0:y1, x0:x1] = x[perm, :, y0:y1, x0:x1]
    lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
    return x, lam * t + (1 - lam) * t[perm]


@torch.no_grad()
def evaluate():
    p = ensemble(params, buffers, Xva).softmax(-1).mean(0)
    return F.nll_loss(p.clamp_min(1e-8).log(), yva).item(), (p.argmax(1) == yva).float().mean().item()


rng = np.random.default_rng(SEED)
EPOCHS, BS = 12, 64
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=EPOCHS * ((len(Xtr) + BS - 1) // BS))
t0 = time.time()
for ep in range(EPOCHS):
    perm = torch.randperm(len(Xtr))
    run = 0.0
    nb = 0
    for i in range(0, len(perm), BS):
        idx = perm[i:i + BS]
        xb, tb = cutmix(Xtr[idx], ytr[idx], rng)
        logits = ensemble(params, buffers, xb)                     # [M, B, C]
        loss = -(tb * logits.log_softmax(-1)).sum(-1).mean(-1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run += loss.item() / M
        nb += 1
    vn, va = evaluate()
    print(f"epoch {ep:2d} train_soft_ce/member {run / nb:.4f} val_nll {vn:.4f} val_acc {va:.4f}")

print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_nll={vn:.4f} lower")
