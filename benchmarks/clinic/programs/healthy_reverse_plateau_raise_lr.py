"""3-class MLP (make_classification) with a "reverse ReduceLROnPlateau": the LR is RAISED when val loss plateaus.

expect: healthy
trap: the run starts with a cautious SGD lr of 0.02 and doubles it whenever validation loss stalls (capped at 0.16); the LR therefore jumps up three times mid-run (0.02 -> 0.04 -> 0.08 -> 0.16), each jump followed by a short loss bump, and the slow start before the first raise can look like learning-rate-too-low -- but the controller is deliberate and the run ends well.

Plateau rule: if val loss has not improved by >4% for `patience`=2 epochs, lr *= 2 (max 0.16).
For reference, a fixed SGD lr=0.05/momentum 0.9 run of the same net reaches val_acc 0.9173.
Near the end a normal 10x cool-down for the last 4 epochs.  SGD with momentum 0.5.
Measured: val_acc=0.9253.
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(16)
np.random.seed(16)

config = {
    "lr0": 0.02,
    "raise_factor": 2.0,
    "lr_cap": 0.16,
    "patience": 2,
    "min_rel_improve": 0.04,
    "cooldown_epochs": 4,
    "epochs": 40,
    "momentum": 0.5,
    "batch_size": 64,
}

X, y = make_classification(n_samples=3000, n_features=20, n_informative=12, n_redundant=4,
                           n_classes=3, n_clusters_per_class=2, class_sep=1.2,
                           random_state=16)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=16, stratify=y)
sc = StandardScaler().fit(Xtr)
Xtr, Xva = (torch.tensor(sc.transform(a), dtype=torch.float32) for a in (Xtr, Xva))
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                    nn.Linear(64, 3))
opt = torch.optim.SGD(net.parameters(), lr=config["lr0"], momentum=config["momentum"])


class RaiseLROnPlateau:
    """Mirror image of ReduceLROnPlateau: be bolder when progress stalls."""

    def __init__(self, optimizer, factor, patience, cap, min_rel_improve):
        self.opt, self.factor, self.patience, self.cap = optimizer, factor, patience, cap
        self.min_rel = min_rel_improve
        self.best, self.bad = float("inf"), 0

    def step(self, val_loss):
        if val_loss < self.best * (1 - self.min_rel):
            self.best, self.bad = val_loss, 0
            return False
        self.bad += 1
        if self.bad >= self.patience:
            self.bad = 0
            changed = False
            for g in self.opt.param_groups:
                new_lr = min(self.cap, g["lr"] * self.factor)
                changed |= new_lr > g["lr"]
                g["lr"] = new_lr
            return changed
        return False


def evaluate():
    net.eval()
    with torch.no_grad():
        out = net(Xva)
        loss = F.cross_entropy(out, yva).item()
        acc = (out.argmax(1) == yva).float().mean().item()
    net.train()
    return loss, acc


ctrl = RaiseLROnPlateau(opt, config["raise_factor"], config["patience"], config["lr_cap"],
                        config["min_rel_improve"])
t0 = time.time()
for epoch in range(config["epochs"]):
    if epoch == config["epochs"] - config["cooldown_epochs"]:
        for g in opt.param_groups:
            g["lr"] = g["lr"] / 10
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), config["batch_size"]):
        idx = perm[i:i + config["batch_size"]]
        loss = F.cross_entropy(net(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    vl, va = evaluate()
    raised = False
    if epoch < config["epochs"] - config["cooldown_epochs"]:
        raised = ctrl.step(vl)
    print(f"epoch {epoch:2d} lr {opt.param_groups[0]['lr']:.4f} val_loss {vl:.4f} "
          f"val_acc {va:.4f}" + ("  <- lr raised" if raised else ""))

v = evaluate()[1]
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
