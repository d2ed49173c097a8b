"""Fixed version of faulty_non-finite_cancer_handmade_bce.py: the one-line fix of its docstring.
Measured: val_acc=0.9825. From the seventh held-out audit (beginner and notebook-style code).
"""
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)

# shuffle and split 80/20 by hand
idx = np.random.permutation(len(X))
X = X[idx]
y = y[idx]
n_train = int(0.8 * len(X))
X_train, X_test = X[:n_train], X[n_train:]
y_train, y_test = y[:n_train], y[n_train:]

mu = X_train.mean(0)
sigma = X_train.std(0)
X_train = (X_train - mu) / sigma
X_test = (X_test - mu) / sigma

X_train = torch.Tensor(X_train)
X_test = torch.Tensor(X_test)
y_train = torch.Tensor(y_train).reshape(-1, 1)
y_test = torch.Tensor(y_test).reshape(-1, 1)

model = torch.nn.Sequential(
    torch.nn.Linear(30, 64),
    torch.nn.ReLU(),
    torch.nn.Linear(64, 1),
)

lr = 0.5
losses = []

for step in range(500):
    z = model(X_train)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y_train)

    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= lr * param.grad

    losses.append(loss.item())
    if step % 100 == 0:
        print(step, loss.item())

model.eval()
with torch.no_grad():
    z = model(X_test)
    p = 1 / (1 + torch.exp(-z))
    pred = (p > 0.5).float()
    acc = (pred == y_test).float().mean().item()

print("test accuracy", acc)
print("last loss", losses[-1])
print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
