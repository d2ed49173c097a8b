"""Transfer learning on digits: pretrain a 10-class model, freeze its backbone, fit a new head for a new task.

expect: healthy
trap: frozen backbone (requires_grad=False, not in the fine-tuning optimizer, no gradient); a finished pretraining phase whose optimizer is no longer stepped
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)

digits = load_digits()
X_all = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y_all = torch.tensor(digits.target)
PRIMES = torch.tensor([2, 3, 5, 7])
X_pre, y_pre = X_all[:1000], y_all[:1000]                              # pretraining split
X_new, y_new = X_all[1000:], torch.isin(y_all[1000:], PRIMES).long()   # new task: is it prime?


def make_backbone():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())


def train(model, params, X, y, steps, lr):
    optimizer = torch.optim.Adam(params, lr=lr)
    for step in range(steps):
        idx = torch.randint(0, len(X), (64,))
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    return loss.item(), acc


# 1) pretraining: 10-way digit classification
backbone = make_backbone()
pretrain_model = nn.Sequential(backbone, nn.Linear(64, 10))
loss, acc = train(pretrain_model, pretrain_model.parameters(), X_pre, y_pre, steps=150, lr=2e-3)
print(f"pretraining (10 classes): loss {loss:.3f}  acc {acc:.3f}")

# 2) fine-tune a new head for "prime or not" on held-out images, backbone frozen
for p in backbone.parameters():
    p.requires_grad = False
backbone.eval()
head = nn.Linear(64, 2)
finetune_model = nn.Sequential(backbone, head)
loss, acc = train(finetune_model, head.parameters(), X_new, y_new, steps=150, lr=5e-3)
print(f"fine-tuning (prime?), frozen backbone: loss {loss:.3f}  acc {acc:.3f}")
