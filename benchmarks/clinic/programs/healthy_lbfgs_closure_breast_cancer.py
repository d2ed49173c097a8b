"""Breast-cancer classifier trained full-batch with L-BFGS and a closure.

expect: healthy
trap: closure optimizer: LBFGS.step(closure) runs forward+backward up to max_iter times per step (many backward passes per optimizer step), the loss drops fast in a few steps and then flattens

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
A small tanh MLP on the 30 standardized features, full batch, strong-Wolfe line search.
Trains well: loss 0.038 (with the L2 term) after 30 L-BFGS steps, test acc 0.958.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_breast_cancer(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yte = torch.tensor(yte, dtype=torch.float32)

model = nn.Sequential(nn.Linear(30, 16), nn.Tanh(), nn.Linear(16, 1))
optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=10, history_size=10,
                              line_search_fn="strong_wolfe")
criterion = nn.BCEWithLogitsLoss()
weight_decay = 1e-3


def closure():
    optimizer.zero_grad()
    logits = model(Xtr).squeeze(1)
    loss = criterion(logits, ytr) + weight_decay * sum((p ** 2).sum() for p in model.parameters())
    loss.backward()
    return loss


for step in range(30):
    loss = optimizer.step(closure)
    if step % 5 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}")

with torch.no_grad():
    acc = ((model(Xte).squeeze(1) > 0).float() == yte).float().mean().item()
print(f"test accuracy {acc:.3f}")
