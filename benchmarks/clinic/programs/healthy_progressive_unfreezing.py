"""Digits: a pretrained-style MLP fine-tuned with progressive unfreezing: the optimizer holds every parameter from the start, but the lower layers have requires_grad=False until epochs 3 and 6.

expect: healthy
trap: parameters that sit in the optimizer without gradients for the first epochs (frozen with requires_grad_(False), not cut from the graph), then start training mid-run; the loss has a second drop when a layer unfreezes

Held out (second batch, written before reading the rules' thresholds): the ULMFiT recipe.
Trains well: test acc 0.958 at the end (0.936 the epoch before).
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

body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
head = nn.Linear(64, 10)
model = nn.Sequential(body, head)
groups = [body[0], body[2]]
for layer in groups:
    layer.requires_grad_(False)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
unfreeze_at = {3: body[2], 6: body[0]}

for epoch in range(9):
    if epoch in unfreeze_at:
        unfreeze_at[epoch].requires_grad_(True)
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch}  trainable {sum(p.requires_grad for p in model.parameters())}  loss {loss.item():.4f}  test acc {acc:.3f}")
