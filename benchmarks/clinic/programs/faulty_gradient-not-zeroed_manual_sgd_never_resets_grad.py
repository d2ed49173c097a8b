"""Breast-cancer MLP trained by hand (no torch.optim): `p -= lr * p.grad` under no_grad, but the loop never resets p.grad.

expect: gradient-not-zeroed
allow: learning-rate-too-high, exploding-gradient, loss-not-decreasing, non-finite

The author ported the loop from a version that used `optimizer.zero_grad()` and dropped the
line with the optimizer. Every backward() adds into .grad, so step k applies the sum of all k
gradients so far: the effective step grows linearly with time and the weights are driven along
stale directions.
Held out (second batch, written before reading the rules' thresholds).
Fixed (`p.grad = None` after the update): epoch loss 0.50 -> 0.055, test acc 0.958; here the
epoch loss falls to 0.16 after epoch 2, then climbs to 1.2-6.8 for the rest of the run and test
acc ends at 0.923 (the easy data keeps accuracy from collapsing; the loss shows the damage).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_breast_cancer(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 2))
lr = 0.1

for epoch in range(12):
    perm = torch.randperm(len(Xtr))
    total = 0.0
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        total += loss.item() * len(idx)
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch:2d}  loss {total / len(Xtr):.4f}  test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
