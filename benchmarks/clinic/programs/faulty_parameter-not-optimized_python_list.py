"""Digits MLP whose hidden layers are kept in a plain Python list.

expect: parameter-not-optimized
allow: loss-not-decreasing, gradient-not-zeroed

The hidden layers are built in a loop and stored in `self.layers = [...]` instead of
`nn.ModuleList([...])`. nn.Module does not look inside Python lists, so
model.parameters() only yields the output layer: the hidden layers are used in forward(),
require grad and receive gradients on every backward(), but no optimizer holds them and
they never change from their random initialisation. (Since optimizer.zero_grad() does not
know them either, their .grad also just keeps accumulating.) Accuracy stalls at ~0.17,
where the same model with nn.ModuleList reaches ~0.92.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self, sizes, n_classes):
        super().__init__()
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.out = nn.Linear(sizes[-1], n_classes)

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.out(x)


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)

model = MLP([64, 128, 64, 32], n_classes=10)
print("trainable parameters:", sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(6):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    print(f"epoch {epoch}: loss {loss.item():.3f}  acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC acc={acc:.4f} higher")
