"""Breast-cancer MLP whose SGD learning rate was tuned for a summed loss but now runs with a mean-reduced loss.

expect: learning-rate-too-low

The script was ported from an older notebook that computed the loss as
`F.binary_cross_entropy_with_logits(logits, y, reduction="sum")` and used SGD lr=2e-4 (momentum 0.9,
batch 64) - a good setting for a summed loss, equivalent to lr ~1.3e-2 on the mean. During the port the
loss was switched to the default mean reduction (so the logged number is comparable across batch
sizes) but the LR in the config was kept, so every step is 64x smaller than intended. The loss creeps
down from 0.69 and is nowhere near converged after 50 epochs (450 steps): train loss 0.68 -> 0.54, still
falling in a straight line.
Measured: this file val_loss 0.5538 (val_acc 0.888); twin_ (lr=1e-2, the one-line fix) val_loss 0.1026
(val_acc 0.951).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

CONFIG = {"lr": 2e-4, "momentum": 0.9, "batch_size": 64, "epochs": 50, "hidden": 32, "seed": 0}

torch.set_num_threads(1)
torch.manual_seed(CONFIG["seed"])
np.random.seed(CONFIG["seed"])

X, y = load_breast_cancer(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=CONFIG["seed"], stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva = torch.tensor(yva, dtype=torch.float32)

net = nn.Sequential(nn.Linear(30, CONFIG["hidden"]), nn.ReLU(), nn.Linear(CONFIG["hidden"], 1))
opt = torch.optim.SGD(net.parameters(), lr=CONFIG["lr"], momentum=CONFIG["momentum"])

bs = CONFIG["batch_size"]
for epoch in range(CONFIG["epochs"]):
    net.train()
    perm = torch.randperm(len(Xtr))
    tr = []
    for i in range(0, len(Xtr), bs):
        idx = perm[i:i + bs]
        logits = net(Xtr[idx]).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tr.append(loss.item())
    net.eval()
    with torch.no_grad():
        vlog = net(Xva).squeeze(1)
        vloss = F.binary_cross_entropy_with_logits(vlog, yva).item()
        vacc = ((vlog > 0).float() == yva).float().mean().item()
    if epoch % 10 == 9 or epoch == 0:
        print(f"epoch {epoch+1:2d} train {np.mean(tr):.4f} val_loss {vloss:.4f} val_acc {vacc:.4f}")

print(f"NNDOCTOR_METRIC val_loss={vloss:.4f} lower")
