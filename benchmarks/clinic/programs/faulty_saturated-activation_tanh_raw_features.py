"""Breast-cancer classifier with tanh hidden layers fed the raw clinical measurements.

expect: saturated-activation
allow: unnormalized-input, exploding-gradient

The 30 features of load_breast_cancer range from ~0.001 (fractal dimension) to ~4000 (area).
They go into the network unscaled, so the first Linear layer's pre-activations have magnitudes
in the tens to hundreds: ~97% of the first-layer tanh outputs sit at |tanh| > 0.99, from the
first step to the last.  Their derivative is ~0, so the layer cannot adapt and just outputs a
fixed sign pattern driven by the largest features (area, perimeter); the rest of the network
has to work with that crude binary code.  (The huge inputs also make the first layer's
gradient large and growing -- 2 at the start, ~150 at the end.)
(fixed, features standardised: val acc 0.965 vs 0.912 here; train loss 0.05 vs 0.18.)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)


def build_model(n_features):
    return nn.Sequential(
        nn.Linear(n_features, 64),
        nn.Tanh(),
        nn.Linear(64, 32),
        nn.Tanh(),
        nn.Linear(32, 1),
    )


def accuracy(model, X, y):
    with torch.no_grad():
        return ((model(X).squeeze(1) > 0).float() == y).float().mean().item()


def train(model, X, y, X_val, y_val, epochs=30, batch_size=32, lr=1e-3):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        perm = torch.randperm(len(X))
        epoch_loss = 0.0
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            optimizer.zero_grad()
            loss = criterion(model(X[idx]).squeeze(1), y[idx])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(idx)
        if epoch % 5 == 4:
            print(f"epoch {epoch + 1:2d}  loss {epoch_loss / len(X):.4f}  val acc {accuracy(model, X_val, y_val):.3f}")


data = load_breast_cancer()
X_train, X_val, y_train, y_val = train_test_split(
    data.data.astype(np.float32), data.target.astype(np.float32), test_size=0.3, random_state=0)
X_train, X_val = torch.from_numpy(X_train), torch.from_numpy(X_val)
y_train, y_val = torch.from_numpy(y_train), torch.from_numpy(y_val)

model = build_model(X_train.shape[1])
train(model, X_train, y_train, X_val, y_val)
print(f"final val accuracy: {accuracy(model, X_val, y_val):.3f}")
print(f"NNDOCTOR_METRIC val_acc={accuracy(model, X_val, y_val):.4f} higher")
