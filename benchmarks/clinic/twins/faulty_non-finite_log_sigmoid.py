"""Healthy twin of faulty_non-finite_log_sigmoid.py: the loss computed on logits (binary_cross_entropy_with_logits).
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
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, target)


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
