"""Digits MLP whose hidden biases were initialised to a negative constant "for sparsity".

expect: dead-relu
allow: vanishing-gradient, loss-not-decreasing

The author wanted sparse hidden codes (as in the sparse-coding literature) and initialised every
hidden bias to -1.0.  With standardised inputs and the default weight init, a first-layer
pre-activation is roughly N(-1, 0.55^2): those units fire only on a minority of pixel patterns,
so the first layer's output is small and sparse.  The second layer then gets pre-activations
around -1 that almost never cross zero: ~73% of its 128 ReLUs output 0 for every training
digit from step 0 (62% at the end) and the rest fire on a handful of digits, so in practice
every batch sees the whole layer silent.  Almost no gradient reaches anything but the output
bias, and the loss sits at ln(10) = 2.30.
(fixed, biases zero-initialised: test acc 0.98 vs 0.10 here.)
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.25, random_state=0)
mean, std = X_train.mean(0), X_train.std(0) + 1e-6
X_train = torch.tensor((X_train - mean) / std, dtype=torch.float32)
X_test = torch.tensor((X_test - mean) / std, dtype=torch.float32)
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)

HIDDEN_BIAS = -1.0  # start most units "off" -> sparse representation

model = nn.Sequential(
    nn.Linear(64, 128), nn.ReLU(),
    nn.Linear(128, 128), nn.ReLU(),
    nn.Linear(128, 10),
)
for layer in list(model)[:-1]:
    if isinstance(layer, nn.Linear):
        nn.init.constant_(layer.bias, HIDDEN_BIAS)

optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    perm = torch.randperm(len(X_train))
    total = 0.0
    for i in range(0, len(X_train), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    if epoch % 2 == 1:
        with torch.no_grad():
            acc = (model(X_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch + 1:2d}  train loss {total / len(X_train):.4f}  test acc {acc:.3f}")

with torch.no_grad():
    acc = (model(X_test).argmax(1) == y_test).float().mean().item()
print(f"final test accuracy: {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
