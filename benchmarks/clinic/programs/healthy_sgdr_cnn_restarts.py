"""Small digits CNN trained with SGDR (CosineAnnealingWarmRestarts), LR restarting to its max.

expect: healthy
trap: at every warm restart the LR jumps from ~1e-5 back up to 0.08 and the training loss may spike for a few steps; just before each restart the LR is near zero and the loss is flat, which can look like learning-rate-too-low, and the jump itself like learning-rate-too-high / an oscillation.

SGD + Nesterov momentum, scheduler stepped every batch with a fractional epoch
(sched.step(epoch + i / iters)), T_0=2 epochs, T_mult=2 -> restarts at epochs 2 and 6; the 13-epoch run ends
near the bottom of the third (8-epoch) cycle, lr ~0.003.  Standard recipe
(Loshchilov & Hutter 2017); it trains well.
Measured: val_acc=0.9911.
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(11)
np.random.seed(11)

CFG = {"lr": 0.08, "momentum": 0.9, "wd": 5e-4, "batch_size": 32, "epochs": 13,
       "T_0": 2, "T_mult": 2, "eta_min": 1e-5}

d = load_digits()
imgs = (d.images.astype(np.float32) / 16.0 - 0.3) / 0.4
Xtr, Xva, ytr, yva = train_test_split(imgs, d.target, test_size=0.25, random_state=11,
                                      stratify=d.target)
Xtr, Xva = torch.from_numpy(Xtr)[:, None], torch.from_numpy(Xva)[:, None]
ytr, yva = torch.from_numpy(ytr).long(), torch.from_numpy(yva).long()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)   # 4x4
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)   # 2x2
        return self.fc(x.flatten(1))


def evaluate(m):
    m.eval()
    with torch.no_grad():
        acc = (m(Xva).argmax(1) == yva).float().mean().item()
    m.train()
    return acc


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=CFG["momentum"],
                      nesterov=True, weight_decay=CFG["wd"])
sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
    opt, T_0=CFG["T_0"], T_mult=CFG["T_mult"], eta_min=CFG["eta_min"])

bs = CFG["batch_size"]
iters = len(Xtr) // bs
t0 = time.time()
for epoch in range(CFG["epochs"]):
    perm = torch.randperm(len(Xtr))
    for i in range(iters):
        idx = perm[i * bs:(i + 1) * bs]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(epoch + (i + 1) / iters)
    print(f"epoch {epoch:2d} lr {opt.param_groups[0]['lr']:.5f} loss {loss.item():.4f} "
          f"val_acc {evaluate(model):.4f}")

v = evaluate(model)
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
