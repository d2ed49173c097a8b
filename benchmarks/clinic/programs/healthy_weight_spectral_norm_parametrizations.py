"""Breast-cancer MLP whose layers are reparametrized: weight_norm on the hidden layers, spectral_norm on the output layer (torch.nn.utils.parametrizations).

expect: healthy
trap: parametrized weights: the optimizer holds `parametrizations.weight.original0/original1` (magnitude g and direction v) and spectral_norm's `original` with a power-iteration buffer, never the `weight` the forward uses

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Trains well: test acc 0.958-0.965 from epoch 15 on.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

torch.manual_seed(0)
X, y = load_breast_cancer(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=1, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = nn.Sequential(
    weight_norm(nn.Linear(30, 64)), nn.SiLU(),
    weight_norm(nn.Linear(64, 64)), nn.SiLU(),
    spectral_norm(nn.Linear(64, 2)),
)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(25):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(Xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        model.eval()
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test acc {acc:.3f}")
