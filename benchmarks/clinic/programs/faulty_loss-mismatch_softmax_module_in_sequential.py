"""Digits MLP built as an nn.Sequential that ends in nn.Softmax(dim=1), trained with nn.CrossEntropyLoss (which applies log-softmax itself).

expect: loss-mismatch

The Softmax layer was added so that model(x) "returns probabilities" for the demo; the loss then
sees probabilities as logits. Its inputs are squeezed into [0, 1], so the loss cannot go below
-log(e / (e + 9)) = 1.46 and its gradients vanish as the probabilities saturate.
Fixed (no Softmax layer; softmax only for reporting): test acc 0.956 vs 0.780 here after 10
epochs (last batch loss 0.00 vs 1.54).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def build_model(n_in, n_classes, hidden=(128, 64)):
    layers, d = [], n_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers += [nn.Linear(d, n_classes), nn.Softmax(dim=1)]
    return nn.Sequential(*layers)


torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, random_state=3)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = build_model(64, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(Xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch}  loss {loss.item():.4f}  test acc {acc:.3f}")
