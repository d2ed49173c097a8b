"""Fine-tune a CNN pretrained on digits 0-4 to all 10 digits with layer-wise LR decay, no-WD norm/bias groups and SWA.
expect: healthy
trap: layer-wise LR decay (0.4 per layer) gives the stem a 0.4^5 ~ 1/100 smaller LR than the new head, so the first layers' update/weight ratios are ~100x below the head's and look "stuck"; bias/BN params have weight_decay=0; during the last 5 of 12 epochs SWALR holds the LR constant (no further decay) while the loss plateaus; the AveragedModel copy holds parameters that never receive gradients and is updated in no_grad; update_bn runs extra forward passes in train mode with no backward; two phases (pretraining on 5 classes, then fine-tuning with a freshly initialised head)

Phase 1 pretrains a 4-stage CNN on digits 0-4.  Phase 2 replaces the classifier with a fresh 10-way
head and fine-tunes everything with AdamW and one param group per (depth, decay/no-decay): the head gets
the base LR, each earlier stage 0.4x the one after it, down to the stem at ~1% of the head's LR, the
usual recipe to keep pretrained low-level filters intact.  After 7 of the 12 fine-tuning epochs,
torch.optim.swa_utils takes over: SWALR anneals to a constant swa_lr, an AveragedModel accumulates an
equal-weight average of the weights once per epoch, and update_bn recomputes BN statistics for the
averaged weights.  The averaged model is evaluated on held-out digits of all 10 classes.
Measured: val_acc=0.9944 (SWA model)
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = ((X / 16.0 - 0.33) / 0.4).astype(np.float32).reshape(-1, 1, 8, 8)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
Xtr, Xva, ytr, yva = map(torch.from_numpy, (Xtr, Xva, ytr, yva))
g = torch.Generator().manual_seed(SEED)
pre_mask = ytr < 5
pre_loader = DataLoader(TensorDataset(Xtr[pre_mask], ytr[pre_mask]), batch_size=64, shuffle=True, generator=g)
ft_loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, generator=g)


def stage(cin, cout, pool):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Net(nn.Module):
    def __init__(self, n_cls):
        super().__init__()
        self.stem = stage(1, 24, False)
        self.stages = nn.ModuleList([stage(24, 32, False), stage(32, 48, True), stage(48, 64, False),
                                     stage(64, 64, True)])
        self.head = nn.Linear(64, n_cls)

    def forward(self, x):
        x = self.stem(x)
        for s in self.stages:
            x = s(x)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


def accuracy(net, X, y):
    net.eval()
    with torch.no_grad():
        a = (net(X).argmax(1) == y).float().mean().item()
    net.train()
    return a


t0 = time.time()
# ------------------------------------------------------------- phase 1: pretrain on 0-4
model = Net(5)
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
for ep in range(4):
    for xb, yb in pre_loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
pre_m = yva < 5
print(f"pretrain val_acc(0-4) {accuracy(model, Xva[pre_m], yva[pre_m]):.4f}")

# ------------------------------------------------------------- phase 2: fine-tune on 0-9
model.head = nn.Linear(64, 10)
BASE_LR, LAYER_DECAY, WD = 3e-3, 0.4, 0.05
depth_modules = [model.stem, *model.stages, model.head]          # depth 0 .. 5
n_depth = len(depth_modules)
groups = []
for depth, mod in enumerate(depth_modules):
    scale = LAYER_DECAY ** (n_depth - 1 - depth)
    dec = [p for n, p in mod.named_parameters() if p.ndim > 1]
    nodec = [p for n, p in mod.named_parameters() if p.ndim <= 1]
    groups.append({"params": dec, "lr": BASE_LR * scale, "weight_decay": WD, "name": f"d{depth}"})
    groups.append({"params": nodec, "lr": BASE_LR * scale, "weight_decay": 0.0, "name": f"d{depth}_nd"})
assert sum(len(gr["params"]) for gr in groups) == len(list(model.parameters()))
opt = torch.optim.AdamW(groups)
for gr in groups[::2]:
    print(f"group {gr['name']}: lr {gr['lr']:.2e}")

EPOCHS, SWA_START = 12, 7
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
swa_model = AveragedModel(model)
swa_sched = SWALR(opt, swa_lr=[gr["lr"] * 0.25 for gr in groups], anneal_epochs=2)
for ep in range(EPOCHS):
    model.train()
    tot, nb = 0.0, 0
    for xb, yb in ft_loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
        nb += 1
    if ep >= SWA_START:
        swa_model.update_parameters(model)
        swa_sched.step()
    else:
        cosine.step()
    print(f"epoch {ep:2d} head_lr {opt.param_groups[-1]['lr']:.2e} stem_lr {opt.param_groups[0]['lr']:.2e} "
          f"loss {tot / nb:.4f} val_acc {accuracy(model, Xva, yva):.4f}")

update_bn(ft_loader, swa_model)
swa_acc = accuracy(swa_model, Xva, yva)
print(f"final model val_acc {accuracy(model, Xva, yva):.4f}  swa val_acc {swa_acc:.4f}")
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={swa_acc:.4f} higher")
