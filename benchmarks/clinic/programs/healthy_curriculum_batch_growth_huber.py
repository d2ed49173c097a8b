"""Huber regression on standardized diabetes with a curriculum that grows the batch size mid-run (16 -> 64 -> 256) instead of decaying the LR.

expect: healthy
trap: the batch size changes twice during training (Smith et al. 2017, "Don't decay the learning rate, increase the batch size"), so the per-step loss noise drops in steps; Huber (smooth L1) loss

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Trains well: test R^2 0.43 -> 0.45 -> 0.46 after each stage.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_diabetes(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=2)
mu, sd, ymu, ysd = Xtr.mean(0), Xtr.std(0), ytr.mean(), ytr.std()
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
ytr = torch.tensor((ytr - ymu) / ysd, dtype=torch.float32).unsqueeze(1)
yte = torch.tensor((yte - ymu) / ysd, dtype=torch.float32).unsqueeze(1)

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
criterion = nn.HuberLoss(delta=1.0)
curriculum = [(16, 10), (64, 15), (256, 40)]   # (batch size, epochs)

for batch_size, epochs in curriculum:
    for epoch in range(epochs):
        perm = torch.randperm(len(Xtr))
        for i in range(0, len(Xtr), batch_size):
            idx = perm[i:i + batch_size]
            loss = criterion(model(Xtr[idx]), ytr[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        pred = model(Xte)
        r2 = 1 - ((pred - yte) ** 2).sum() / ((yte - yte.mean()) ** 2).sum()
    print(f"batch {batch_size:3d}: last loss {loss.item():.4f}  test R^2 {r2.item():.3f}")
