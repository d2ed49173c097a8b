"""Breast-cancer classifier ending in nn.Sigmoid() + nn.BCELoss, trained to confident predictions.

expect: healthy
trap: the output nn.Sigmoid saturates -- after training most predicted probabilities are < 0.01 or > 0.99, which is what a confident, correct binary classifier looks like

The output layer is a sigmoid because BCELoss wants probabilities (BCEWithLogitsLoss would be
slightly more stable, but this is correct).  The classes are well separated after
standardisation, so the model quickly becomes confident: by the end the large majority of the
probabilities (~85% on the validation set) are in the sigmoid's tails.  That is the goal, not
a stuck unit; the hidden layers are ReLU and unsaturated.  Validation accuracy 0.965,
validation loss flat at ~0.11.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.manual_seed(0)

data = load_breast_cancer()
X_train, X_val, y_train, y_val = train_test_split(
    data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
scaler = StandardScaler().fit(X_train)
X_train = torch.tensor(scaler.transform(X_train), dtype=torch.float32)
X_val = torch.tensor(scaler.transform(X_val), dtype=torch.float32)
y_train = torch.tensor(y_train, dtype=torch.float32).unsqueeze(1)
y_val = torch.tensor(y_val, dtype=torch.float32).unsqueeze(1)

model = nn.Sequential(
    nn.Linear(30, 32),
    nn.ReLU(),
    nn.Linear(32, 16),
    nn.ReLU(),
    nn.Linear(16, 1),
    nn.Sigmoid(),
)
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(20):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
    if epoch % 4 == 3:
        model.eval()
        with torch.no_grad():
            p = model(X_val)
            val_loss = criterion(p, y_val).item()
            acc = ((p > 0.5).float() == y_val).float().mean().item()
            confident = ((p < 0.01) | (p > 0.99)).float().mean().item()
        print(f"epoch {epoch + 1:2d}  val loss {val_loss:.4f}  val acc {acc:.3f}  confident {confident:.2f}")
