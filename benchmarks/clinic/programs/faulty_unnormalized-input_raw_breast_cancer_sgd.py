"""Breast-cancer MLP trained with plain SGD (lr 0.01, momentum) on the raw feature values.

expect: unnormalized-input
allow: dead-relu, loss-not-decreasing

The 30 features are used exactly as load_breast_cancer() returns them: "mean area" and
"worst area" are in the hundreds to thousands (up to ~4250), "mean fractal dimension" and
the smoothness/symmetry errors are around 1e-2..1e-3. The first Linear layer's pre-activations
are therefore in the thousands, the first SGD steps are huge, every first-layer ReLU unit is
pushed to the negative side for all inputs and the network ends up predicting the majority
class (train loss stuck at ~0.66, test accuracy 0.629).
Fixed (standardise with the training split's mean/std): test acc 0.958 vs 0.629 here.
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
