"""Healthy twin of faulty_saturated-activation_tanh_raw_features.py: features standardised.
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
mean, std = X_train.mean(0), X_train.std(0)
X_train, X_val = (X_train - mean) / std, (X_val - mean) / std
y_train, y_val = torch.from_numpy(y_train), torch.from_numpy(y_val)

model = build_model(X_train.shape[1])
train(model, X_train, y_train, X_val, y_val)
print(f"final val accuracy: {accuracy(model, X_val, y_val):.3f}")
print(f"NNDOCTOR_METRIC val_acc={accuracy(model, X_val, y_val):.4f} higher")
