"""Digits MLP trained by hand: no torch.optim at all, `p -= lr * p.grad` under no_grad, then `p.grad = None`.

expect: healthy
trap: no optimizer object: parameters are updated in place by the training loop and their gradients dropped by assigning None

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Plain SGD with a hand-rolled momentum buffer and a step decay, the way a course notebook does it.
Trains well: test acc 0.964 after 8 epochs.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.2, random_state=0)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
velocity = [torch.zeros_like(p) for p in model.parameters()]
lr, momentum = 0.05, 0.9

for epoch in range(8):
    if epoch == 6:
        lr *= 0.1
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        with torch.no_grad():
            for p, v in zip(model.parameters(), velocity):
                v.mul_(momentum).add_(p.grad)
                p -= lr * v
                p.grad = None
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch:2d}  loss {loss.item():.4f}  test acc {acc:.3f}")
