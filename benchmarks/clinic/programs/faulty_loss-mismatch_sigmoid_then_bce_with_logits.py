"""Breast-cancer classifier whose model ends in nn.Sigmoid(), trained with binary_cross_entropy_with_logits.

expect: loss-mismatch

F.binary_cross_entropy_with_logits applies a sigmoid itself, so the probabilities go through a
second sigmoid: sigmoid(p) is confined to (0.5, 0.73), the loss cannot go below ~0.31 for
positives and ~0.69 for negatives (it plateaus at ~0.48), and the gradient is squashed twice.
The subtle case: the 0.5 threshold on p still separates the classes, so accuracy looks fine,
but the probabilities are badly calibrated and the optimisation target is wrong.
Fixed (F.binary_cross_entropy on the sigmoid output, or drop nn.Sigmoid and keep the logits
loss): test log-loss 0.085 vs 0.138, acc 0.972 vs 0.965, train loss 0.01 vs ~0.47 here.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.manual_seed(0)

data = load_breast_cancer()
X_tr, X_te, y_tr, y_te = train_test_split(data.data, data.target, test_size=0.25, random_state=1)
scaler = StandardScaler().fit(X_tr)
X_tr = torch.tensor(scaler.transform(X_tr), dtype=torch.float32)
X_te = torch.tensor(scaler.transform(X_te), dtype=torch.float32)
y_tr = torch.tensor(y_tr, dtype=torch.float32).unsqueeze(1)
y_te = torch.tensor(y_te, dtype=torch.float32).unsqueeze(1)

model = nn.Sequential(
    nn.Linear(30, 32), nn.ReLU(),
    nn.Linear(32, 16), nn.ReLU(),
    nn.Linear(16, 1), nn.Sigmoid(),          # outputs P(benign)
)
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)


def evaluate():
    model.eval()
    with torch.no_grad():
        p = model(X_te)
        loss = F.binary_cross_entropy_with_logits(p, y_te).item()
        acc = ((p > 0.5).float() == y_te).float().mean().item()
    model.train()
    return loss, acc


for epoch in range(25):
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), 32):
        idx = perm[i:i + 32]
        p = model(X_tr[idx])
        loss = F.binary_cross_entropy_with_logits(p, y_tr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        test_loss, test_acc = evaluate()
        print(f"epoch {epoch + 1:2d}  train loss {loss.item():.4f}  test loss {test_loss:.4f}  test acc {test_acc:.3f}")

with torch.no_grad():
    p = model(X_te)
    nll = F.binary_cross_entropy(p, y_te).item()
print(f"final test acc {evaluate()[1]:.3f}  test log-loss of the predicted probabilities {nll:.4f}")
