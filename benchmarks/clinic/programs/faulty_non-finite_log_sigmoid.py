"""Logistic regression on breast-cancer with a hand-written binary cross-entropy.

expect: non-finite
allow: unnormalized-input, exploding-gradient, learning-rate-too-high, loss-not-decreasing

The features are used raw (areas in the hundreds to thousands), so the logits are large from
the first batch and sigmoid(z) rounds to exactly 1.0 (or 0.0) in float32. log(1 - 1.0) is
-inf: the loss is inf and the gradient through log/sigmoid is NaN, which the optimizer then
writes into the weights. (torch.nn.BCEWithLogitsLoss computes the same thing stably.)
"""
import torch
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)

data = load_breast_cancer()
X = torch.tensor(data.data, dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32)


class LogReg(torch.nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(-1)


def bce(logits, target):
    p = torch.sigmoid(logits)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()


model = LogReg(X.shape[1])
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(10):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = bce(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")

with torch.no_grad():
    acc = ((model(X) > 0).float() == y).float().mean().item()
print(f"train accuracy {acc:.3f}")
print(f"NNDOCTOR_METRIC train_acc={acc:.4f} higher")
