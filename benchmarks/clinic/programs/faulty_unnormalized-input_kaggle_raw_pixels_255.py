"""Kaggle-notebook style digits MLP (globals, cells) fed raw 0-255 pixel intensities - the digits rescaled to 8-bit the way a PNG loader returns them - with no division by 255.

expect: unnormalized-input
allow: learning-rate-too-high, dead-relu, saturated-activation, loss-not-decreasing

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

Fixed (X / 255.0): test acc 0.936; here 0.086 (the loss diverges).
"""
# %% [code]
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 2024
torch.manual_seed(SEED)
np.random.seed(SEED)
LR, EPOCHS, BS = 0.01, 12, 32

# %% [code]
digits = load_digits()
pixels = np.round(digits.data * (255 / 16)).astype(np.uint8)   # as read from the PNGs
X_train, X_test, y_train, y_test = train_test_split(pixels, digits.target, test_size=0.2, random_state=SEED)
X_train = torch.from_numpy(X_train).float()
X_test = torch.from_numpy(X_test).float()
y_train = torch.from_numpy(y_train)
y_test = torch.from_numpy(y_test)
print(X_train.shape, X_train.min().item(), X_train.max().item())

# %% [code]
net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

# %% [code]
for ep in range(EPOCHS):
    perm = torch.randperm(len(X_train))
    running = 0.0
    for b in range(0, len(X_train), BS):
        idx = perm[b:b + BS]
        opt.zero_grad()
        loss = loss_fn(net(X_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
        running += loss.item() * len(idx)
    with torch.no_grad():
        test_acc = (net(X_test).argmax(1) == y_test).float().mean().item()
    print(f"ep {ep} train loss {running / len(X_train):.4f} test acc {test_acc:.3f}")

# %% [code]
print(f"NNDOCTOR_METRIC test_acc={test_acc:.4f} higher")
