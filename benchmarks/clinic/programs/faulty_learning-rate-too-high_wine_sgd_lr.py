"""Wine cultivar classifier trained with SGD+momentum at a learning rate roughly 15x too high.

expect: learning-rate-too-high
allow: exploding-gradient, dead-relu

The config sets lr=0.3 for SGD with Nesterov momentum 0.9 on a 3-layer MLP with standardized
inputs. The effective step (lr / (1 - momentum) = 3) is far too large for this loss surface: the
loss drops in the first epoch, then jumps back up and thrashes around 0.7-1.0 (ReLU units get
knocked out by the oversized updates), and StepLR only cuts the rate after the damage is done. A rate of 0.02 trains smoothly to near-perfect accuracy.
Measured: faulty val_acc=0.6444 vs fixed val_acc=1.0000
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

CONFIG = {
    "lr": 0.3,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "batch_size": 16,
    "epochs": 40,
    "hidden": 64,
    "step_size": 15,
    "gamma": 0.5,
}

data = load_wine()
X, y = data.data.astype(np.float32), data.target.astype(np.int64)
perm = np.random.permutation(len(X))
n_train = int(0.75 * len(X))
tr, va = perm[:n_train], perm[n_train:]
mu, sigma = X[tr].mean(0), X[tr].std(0)
X = (X - mu) / sigma
X_tr, y_tr = torch.tensor(X[tr]), torch.tensor(y[tr])
X_va, y_va = torch.tensor(X[va]), torch.tensor(y[va])

h = CONFIG["hidden"]
model = nn.Sequential(
    nn.Linear(13, h), nn.ReLU(),
    nn.Linear(h, h), nn.ReLU(),
    nn.Linear(h, 3),
)
optimizer = torch.optim.SGD(model.parameters(), lr=CONFIG["lr"], momentum=CONFIG["momentum"],
                            nesterov=True, weight_decay=CONFIG["weight_decay"])
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=CONFIG["step_size"], gamma=CONFIG["gamma"])

for epoch in range(CONFIG["epochs"]):
    model.train()
    order = torch.randperm(len(X_tr))
    running = 0.0
    for start in range(0, len(X_tr), CONFIG["batch_size"]):
        idx = order[start:start + CONFIG["batch_size"]]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        loss.backward()
        optimizer.step()
        running += loss.item() * len(idx)
    scheduler.step()
    if epoch % 5 == 0 or epoch == CONFIG["epochs"] - 1:
        print(f"epoch {epoch:3d} loss {running / len(X_tr):.4f} lr {scheduler.get_last_lr()[0]:.4g}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_va).argmax(1) == y_va).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
