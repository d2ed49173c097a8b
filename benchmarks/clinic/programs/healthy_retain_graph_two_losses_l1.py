"""Diabetes regressor with an auxiliary head: two backward passes per step through a shared trunk (retain_graph=True), plus an L1 penalty on the trunk's weights.

expect: healthy
trap: two backward() calls per optimizer step (the first with retain_graph=True), gradients summed in .grad between them; an L1 sparsity penalty added to the main loss

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
The auxiliary head predicts the sign of the target (above/below the median), a cheap multi-task signal.
Trains well: test R^2 0.33 (a linear regression gets ~0.33 on this split).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_diabetes(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
mu, sd, ymu, ysd = Xtr.mean(0), Xtr.std(0), ytr.mean(), ytr.std()
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
ytr = torch.tensor((ytr - ymu) / ysd, dtype=torch.float32)
yte = torch.tensor((yte - ymu) / ysd, dtype=torch.float32)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.reg_head = nn.Linear(32, 1)
        self.aux_head = nn.Linear(32, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.reg_head(h).squeeze(1), self.aux_head(h).squeeze(1)


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
l1 = 1e-4

for epoch in range(20):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        pred, aux = model(Xtr[idx])
        main = F.mse_loss(pred, ytr[idx]) + l1 * sum(p.abs().sum() for n, p in model.trunk.named_parameters() if "weight" in n)
        aux_loss = 0.3 * F.binary_cross_entropy_with_logits(aux, (ytr[idx] > 0).float())
        optimizer.zero_grad()
        main.backward(retain_graph=True)
        aux_loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            p, _ = model(Xte)
            r2 = 1 - ((p - yte) ** 2).sum() / ((yte - yte.mean()) ** 2).sum()
        print(f"epoch {epoch + 1:2d}  main {main.item():.4f}  aux {aux_loss.item():.4f}  test R^2 {r2.item():.3f}")
