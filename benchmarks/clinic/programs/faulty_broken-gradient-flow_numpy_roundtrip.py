"""Breast-cancer classifier that clips its hidden features with numpy inside forward().

expect: broken-gradient-flow
allow: loss-not-decreasing

To tame outliers the user clips the first layer's activations with np.clip. Calling
.numpy() on a tensor that requires grad raises, so -- following the error message -- they
added .detach(), and wrapped the result back with torch.from_numpy. The forward pass works,
but the first layer is now cut off from the loss: it is in the optimizer, requires grad and
never receives a gradient (its .grad stays None), while the layers after the round-trip train.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)


class ClippedMLP(nn.Module):
    def __init__(self, n_in, hidden=16):
        super().__init__()
        self.inp = nn.Linear(n_in, hidden)
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        h = torch.from_numpy(np.clip(h.detach().numpy(), 0.0, 3.0))
        h = torch.relu(self.hidden(h))
        return self.out(h)


def main():
    data = load_breast_cancer()
    X = torch.tensor(data.data, dtype=torch.float32)
    X = (X - X.mean(0)) / X.std(0)
    y = torch.tensor(data.target, dtype=torch.float32).view(-1, 1)

    model = ClippedMLP(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()

    for epoch in range(15):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 64):
            idx = perm[i:i + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
        if epoch % 5 == 4:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
