"""Wide 4-class MLP on make_classification with Adam at lr=2e-2: the loss jumps ~4x on the first steps, then trains well.

expect: healthy
trap: Adam lr=2e-2 is 20x the usual default and the mini-batch loss jumps from 1.39 to ~6 within the first 3 updates, which looks like divergence / learning-rate-too-high or an exploding start; it is a transient of Adam's first sign-like updates on a 512-wide layer, the loss is back below its start by step 6 and the run ends better than a lr=1e-3 run

Notebook-style script: a 2-hidden-layer MLP (20-512-512-4) on a seeded 4-class make_classification
problem (8000 samples, standardized features), Adam lr=2e-2 with a cosine decay over 6 epochs, batch 128.
Adam's first update moves every weight by ~lr in the sign of its gradient; summed over 512 inputs that
is a large change of the logits, so the batch loss goes 1.39 -> 2.89 -> 6.12 -> 5.20 -> 1.85 and then keeps
falling. Val loss falls every epoch (0.35 -> 0.20). Measured: val_acc 0.9460 (the same net with Adam
lr=1e-3 and the same schedule gets 0.9275, so this is a good value for this problem).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

cfg = {"lr": 2e-2, "hidden": 512, "bs": 128, "epochs": 6, "seed": 0}

torch.set_num_threads(1)
torch.manual_seed(cfg["seed"])
np.random.seed(cfg["seed"])

X, y = make_classification(n_samples=8000, n_features=20, n_informative=10, n_redundant=2,
                           n_classes=4, class_sep=1.5, random_state=cfg["seed"])
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=cfg["seed"], stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

H = cfg["hidden"]
net = nn.Sequential(nn.Linear(20, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, 4))
opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
n_steps = cfg["epochs"] * ((len(Xtr) + cfg["bs"] - 1) // cfg["bs"])
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_steps)

step = 0
for ep in range(cfg["epochs"]):
    net.train()
    perm = torch.randperm(len(Xtr))
    run = []
    for i in range(0, len(Xtr), cfg["bs"]):
        idx = perm[i:i + cfg["bs"]]
        loss = F.cross_entropy(net(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step < 8:
            print(f"step {step} loss {loss.item():.3f}")
        run.append(loss.item())
        step += 1
    net.eval()
    with torch.no_grad():
        out = net(Xva)
        vloss = F.cross_entropy(out, yva).item()
        vacc = (out.argmax(1) == yva).float().mean().item()
    print(f"epoch {ep+1:2d} train {np.mean(run):.4f} val_loss {vloss:.4f} val_acc {vacc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={vacc:.4f} higher")
