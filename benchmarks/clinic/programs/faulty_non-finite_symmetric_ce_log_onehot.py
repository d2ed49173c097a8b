"""Digits MLP trained on 20%-noisy labels with a hand-written symmetric cross-entropy (Wang et al. 2019) whose reverse term takes log() of one-hot labels.

expect: non-finite

Symmetric cross-entropy = CE(p, t) + RCE, with RCE = -sum(p * log(t)). The paper clamps log(0)
to a constant (A = -4); this implementation does not, so log(t) is -inf for every wrong class:
RCE is +inf from the first batch, backward produces inf * 0 = NaN gradients and the first
optimizer step writes NaN into every weight.
Fixed (log of the labels clamped at 1e-4, the paper's A ~ -9.2): test acc 0.931 vs 0.075 here.
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
noisy = torch.rand(len(ytr)) < 0.2
ytr = torch.where(noisy, torch.randint(0, 10, ytr.shape), ytr)   # 20% symmetric label noise


class SymmetricCrossEntropy(nn.Module):
    def __init__(self, alpha=0.1, beta=1.0, n_classes=10):
        super().__init__()
        self.alpha, self.beta, self.n_classes = alpha, beta, n_classes

    def forward(self, logits, target):
        ce = F.cross_entropy(logits, target)
        p = F.softmax(logits, dim=1).clamp(min=1e-7, max=1.0)
        t = F.one_hot(target, self.n_classes).float()
        rce = -(p * torch.log(t)).sum(1).mean()
        return self.alpha * ce + self.beta * rce


model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = SymmetricCrossEntropy()

for epoch in range(10):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 64):
        idx = perm[i:i + 64]
        loss = criterion(model(Xtr[idx]), ytr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch}  loss {loss.item():.4f}  test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
