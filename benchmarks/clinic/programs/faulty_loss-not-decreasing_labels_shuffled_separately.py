"""Digits MLP whose data loader shuffles the images and the labels with two separate np.random.shuffle calls.

expect: loss-not-decreasing

load_split() "shuffles the training set once" with np.random.shuffle(X_train) and then
np.random.shuffle(y_train): two calls draw two different permutations, so every training image
is paired with a random label. Nothing about the model, the loss or the optimiser is wrong --
there is simply nothing to learn: the loss sits at ln 10 = 2.30 (2.31 -> 2.25 in 12 epochs, the
small drop being memorisation of random pairs) and test accuracy stays at chance (~0.09).
Fixed (one permutation applied to both arrays): test acc 0.916 vs 0.092, train loss 0.22 vs
2.25 here.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)


def load_split(test_fraction=0.2):
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    n_test = int(len(X) * test_fraction)
    X_test, y_test = X[:n_test], y[:n_test]
    X_train, y_train = X[n_test:].copy(), y[n_test:].copy()
    # shuffle the training set once so that batches are not ordered
    np.random.shuffle(X_train)
    np.random.shuffle(y_train)
    return X_train, y_train, X_test, y_test


X_train, y_train, X_test, y_test = (torch.from_numpy(a) for a in load_split())

model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

batch_size = 32
for epoch in range(12):
    epoch_loss = 0.0
    for i in range(0, len(X_train), batch_size):
        xb, yb = X_train[i:i + batch_size], y_train[i:i + batch_size]
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(xb)
    with torch.no_grad():
        test_acc = (model(X_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch:2d}  train loss {epoch_loss / len(X_train):.4f}  test acc {test_acc:.3f}")
