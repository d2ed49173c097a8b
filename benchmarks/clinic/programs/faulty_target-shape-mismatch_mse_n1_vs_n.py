"""Diabetes progression regression: the model outputs shape (N, 1), the target is shape (N,), nn.MSELoss.

expect: target-shape-mismatch

nn.Linear(32, 1) returns (N, 1) while y_train[idx] is (N,). MSELoss broadcasts the pair to an
(N, N) matrix of every prediction against every target (PyTorch only emits a UserWarning), and
the minimiser of that loss is "predict the batch mean for everybody": the model learns nothing
about the individual patient (train loss stays ~1.0 on a standardised target, test R^2 ~0.04).
Fixed (model(X).squeeze(1), or y.view(-1, 1)): test R^2 0.566 vs 0.038 here.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes

torch.manual_seed(0)

X, y = load_diabetes(return_X_y=True)
X = torch.tensor(X, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(y, dtype=torch.float32)
y_mean, y_std = y[:350].mean(), y[:350].std()
y = (y - y_mean) / y_std                       # standardised target, shape (442,)
X_train, y_train, X_test, y_test = X[:350], y[:350], X[350:], y[350:]

model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.MSELoss()

for epoch in range(20):
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 32):
        idx = perm[i:i + 32]
        pred = model(X_train[idx])
        loss = criterion(pred, y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            test_mse = criterion(model(X_test), y_test).item()
        print(f"epoch {epoch + 1:2d}  train loss {loss.item():.4f}  test loss {test_mse:.4f}")

with torch.no_grad():
    pred = model(X_test).view(-1)
    r2 = 1 - ((pred - y_test) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
print(f"test R^2: {r2.item():.3f}")
