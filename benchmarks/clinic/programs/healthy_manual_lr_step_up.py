"""Digits MLP trained with a gentle low-LR start that is then stepped UP 30x by hand.

expect: healthy
trap: the LR jumps from 1e-3 to 3e-2 at step 50 (and the loss briefly wobbles); the first 50 steps at 1e-3 show a flat-ish loss that can look like learning-rate-too-low, and the post-jump window can look like learning-rate-too-high if compared with the pre-jump loss level.

Notebook-style run: SGD + momentum, lr 1e-3 for the first 50 optimizer steps ("let the
BatchNorm statistics and the random head settle"), then lr 3e-2 for the rest, with a final
10x drop for the last 3 epochs.  This is a deliberate schedule, and the network trains well.
Measured: val_acc=0.9822.
"""
import time
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(10)
np.random.seed(10)

cfg = dict(lr_start=1e-3, lr_main=3e-2, step_up_at=50, final_drop_epochs=3,
           momentum=0.9, batch_size=32, epochs=15, hidden=96)

X, y = load_digits(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=10, stratify=y)
sc = StandardScaler().fit(Xtr)
Xtr, Xva = (torch.tensor(sc.transform(a), dtype=torch.float32) for a in (Xtr, Xva))
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

net = nn.Sequential(
    nn.Linear(64, cfg["hidden"]), nn.BatchNorm1d(cfg["hidden"]), nn.ReLU(),
    nn.Linear(cfg["hidden"], cfg["hidden"]), nn.BatchNorm1d(cfg["hidden"]), nn.ReLU(),
    nn.Linear(cfg["hidden"], 10),
)
opt = torch.optim.SGD(net.parameters(), lr=cfg["lr_start"], momentum=cfg["momentum"])
crit = nn.CrossEntropyLoss()


def set_lr(optimizer, lr):
    for g in optimizer.param_groups:
        g["lr"] = lr


def val_acc():
    net.eval()
    with torch.no_grad():
        a = (net(Xva).argmax(1) == yva).float().mean().item()
    net.train()
    return a


t0 = time.time()
step = 0
for ep in range(cfg["epochs"]):
    if ep == cfg["epochs"] - cfg["final_drop_epochs"]:
        set_lr(opt, cfg["lr_main"] / 10)
        print(f"epoch {ep}: final LR drop -> {cfg['lr_main'] / 10:g}")
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr) - cfg["batch_size"] + 1, cfg["batch_size"]):  # drop_last
        if step == cfg["step_up_at"]:
            set_lr(opt, cfg["lr_main"])
            print(f"step {step}: warm-up over, LR stepped up -> {cfg['lr_main']:g}")
        idx = perm[i:i + cfg["batch_size"]]
        loss = crit(net(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    print(f"epoch {ep:2d} last loss {loss.item():.4f} val_acc {val_acc():.4f}")

v = val_acc()
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
