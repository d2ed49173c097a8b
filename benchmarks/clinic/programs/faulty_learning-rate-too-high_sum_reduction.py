"""Digits MLP with an SGD learning rate tuned for a mean-reduced loss, but the criterion sums over the batch.

expect: learning-rate-too-high
allow: exploding-gradient, dead-relu, loss-not-decreasing

The LR (0.05, momentum 0.9, batch 128) came from the team's standard recipe, which uses the default
mean-reduced CrossEntropyLoss. Here the criterion was built with reduction="sum" (someone wanted the
logged loss to be "per batch" so it could be added up into an epoch total), which multiplies every
gradient by the batch size: the effective step is 128 x 0.05 = 6.4 per unit of mean gradient. The summed
batch loss goes 295 -> 371 -> 4.6e3 -> 3.9e4 -> 1.1e5 -> 2.5e9 within 8 steps; the weights blow up
(max |w| ~1.9e7), every hidden ReLU in both layers ends dead and the loss sits at ~2.4 per sample
(chance) for the rest of the run.
Measured: this file val_acc 0.1000; twin_ (reduction="mean", the one-line fix) val_acc 0.9733.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

config = {"lr": 0.05, "momentum": 0.9, "bs": 128, "epochs": 30, "seed": 0}

torch.set_num_threads(1)
torch.manual_seed(config["seed"])
np.random.seed(config["seed"])

X, y = load_digits(return_X_y=True)
X = X / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=config["seed"], stratify=y)
Xtr, Xva = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xva, dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
criterion = nn.CrossEntropyLoss(reduction="sum")
opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])

step = 0
for epoch in range(config["epochs"]):
    model.train()
    perm = torch.randperm(len(Xtr))
    epoch_loss, n_batches = 0.0, 0
    for i in range(0, len(Xtr), config["bs"]):
        idx = perm[i:i + config["bs"]]
        loss = criterion(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        epoch_loss += loss.item()
        n_batches += 1
        if step < 8:
            print(f"step {step} batch loss {loss.item():.1f}")
        step += 1
    model.eval()
    with torch.no_grad():
        out = model(Xva)
        val_loss = nn.functional.cross_entropy(out, yva).item()
        val_acc = (out.argmax(1) == yva).float().mean().item()
    if epoch % 5 == 4:
        print(f"epoch {epoch+1} train loss {epoch_loss/n_batches:.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
