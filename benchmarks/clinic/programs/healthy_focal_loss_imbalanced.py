"""Rare-event classifier on heavily imbalanced synthetic data (2% positives) with a focal loss (gamma=2, alpha=0.75) and a balanced sampler-free loop.

expect: healthy
trap: 49:1 class imbalance, a focal loss that down-weights easy examples (its values are tiny, ~1e-2, and its gradients shrink as examples get easy), a loss that plateaus early at a low level

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: test ROC AUC 0.910, recall of the positives 0.68 at threshold 0.5.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

torch.manual_seed(0)
X, y = make_classification(n_samples=6000, n_features=20, n_informative=8, weights=[0.98, 0.02],
                           class_sep=1.0, random_state=0)
X = torch.tensor(X, dtype=torch.float32); y = torch.tensor(y, dtype=torch.float32)
Xtr, ytr, Xte, yte = X[:4500], y[:4500], X[4500:], y[4500:]


class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, alpha=0.75):
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits, target):
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        p_t = torch.exp(-bce)
        a_t = self.alpha * target + (1 - self.alpha) * (1 - target)
        return (a_t * (1 - p_t) ** self.gamma * bce).mean()


model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
criterion = FocalLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(8):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 128):
        idx = perm[i:i + 128]
        loss = criterion(model(Xtr[idx]).squeeze(1), ytr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        p = torch.sigmoid(model(Xte).squeeze(1))
    auc = roc_auc_score(yte.numpy(), p.numpy())
    rec = ((p > 0.5) & (yte == 1)).sum().item() / max(1, int(yte.sum()))
    print(f"epoch {epoch} focal {loss.item():.4f} test auc {auc:.3f} positive recall {rec:.2f}")
print(f"NNDOCTOR_METRIC test_auc={auc:.4f} higher")
