"""Two-phase training on make_friedman1: phase 1 on a 40% subset (Adam 1e-2), phase 2 continues on all data with a fresh Adam at 1e-3.

expect: healthy
trap: phase 2 starts from an already-trained model with a 10x smaller LR and a brand-new optimizer, so its loss starts low, its slope is shallow (train 1.38 -> 1.22 over 10 epochs), which looks like learning-rate-too-low or a stalled run; there is also a small bump in the train loss at the phase boundary (new data + fresh Adam moments). It is a deliberate fine-tuning phase, it lowers the val MSE further, and 1e-3 is the best of the phase-2 LRs tried

Research script with a config dict. Data: make_friedman1 (10 features, 5 informative, noise=1.0),
3000 train / 1000 val, features standardized, target left as is (range ~0..30, var ~24). Model: MLP
10-64-64-1 ReLU. Phase 1: the first 40% of the training set, Adam lr=1e-2, 40 epochs (batch 64,
~760 steps). Phase 2: the full training set, a new Adam with lr=1e-3, 10 epochs (~470 steps).
Measured: val MSE 1.697 after phase 1 and 1.434 after phase 2 (noise variance is 1.0, so ~1.0 is the
floor; predicting the mean gives 23.95). Phase-2 alternatives: lr=1e-2 -> 1.601, lr=1e-4 -> 1.543.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_friedman1

CFG = {
    "seed": 0,
    "phase1": {"frac": 0.4, "lr": 1e-2, "epochs": 40},
    "phase2": {"lr": 1e-3, "epochs": 10},
    "bs": 64,
}

torch.set_num_threads(1)
torch.manual_seed(CFG["seed"])
np.random.seed(CFG["seed"])

X, y = make_friedman1(n_samples=4000, n_features=10, noise=1.0, random_state=CFG["seed"])
Xtr, ytr, Xva, yva = X[:3000], y[:3000], X[3000:], y[3000:]
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32).unsqueeze(1)
yva = torch.tensor(yva, dtype=torch.float32).unsqueeze(1)
print("predict-the-mean val mse", round(((yva - ytr.mean()) ** 2).mean().item(), 2))

model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
loss_fn = nn.MSELoss()


def evaluate():
    model.eval()
    with torch.no_grad():
        return loss_fn(model(Xva), yva).item()


def run_phase(name, Xp, yp, lr, epochs):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(Xp))
        losses = []
        for i in range(0, len(Xp), CFG["bs"]):
            idx = perm[i:i + CFG["bs"]]
            loss = loss_fn(model(Xp[idx]), yp[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        v = evaluate()
        if ep % 5 == 4 or ep == 0:
            print(f"[{name}] epoch {ep+1:2d} train {np.mean(losses):.3f} val {v:.3f}")
    return v


n1 = int(CFG["phase1"]["frac"] * len(Xtr))
v1 = run_phase("phase1", Xtr[:n1], ytr[:n1], CFG["phase1"]["lr"], CFG["phase1"]["epochs"])
print(f"after phase 1: val mse {v1:.3f}")
v2 = run_phase("phase2", Xtr, ytr, CFG["phase2"]["lr"], CFG["phase2"]["epochs"])
print(f"after phase 2: val mse {v2:.3f}")

print(f"NNDOCTOR_METRIC val_mse={v2:.4f} lower")
