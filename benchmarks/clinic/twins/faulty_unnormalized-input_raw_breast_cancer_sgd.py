"""Healthy twin of faulty_unnormalized-input_raw_breast_cancer_sgd.py: inputs standardized with training-set statistics.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)

data = load_breast_cancer()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
X_train = torch.tensor(X_train, dtype=torch.float32)
X_test = torch.tensor(X_test, dtype=torch.float32)
y_train = torch.tensor(y_train, dtype=torch.float32).unsqueeze(1)
y_test = torch.tensor(y_test, dtype=torch.float32).unsqueeze(1)
mean, std = X_train.mean(0), X_train.std(0)
X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

model = nn.Sequential(
    nn.Linear(30, 64), nn.ReLU(),
    nn.Linear(64, 32), nn.ReLU(),
    nn.Linear(32, 1),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
criterion = nn.BCEWithLogitsLoss()

batch_size = 32
for epoch in range(20):
    perm = torch.randperm(len(X_train))
    running = 0.0
    for i in range(0, len(X_train), batch_size):
        idx = perm[i:i + batch_size]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        running += loss.item() * len(idx)
    if epoch % 5 == 4:
        with torch.no_grad():
            test_acc = ((model(X_test) > 0).float() == y_test).float().mean().item()
        print(f"epoch {epoch + 1:2d}  train loss {running / len(X_train):.4f}  test acc {test_acc:.3f}")

with torch.no_grad():
    test_acc = ((model(X_test) > 0).float() == y_test).float().mean().item()
print(f"final test accuracy: {test_acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={test_acc:.4f} higher")
