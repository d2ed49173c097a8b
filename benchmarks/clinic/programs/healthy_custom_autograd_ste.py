"""Digits classifier with binary hidden units through a custom autograd.Function (straight-through estimator).

expect: healthy
trap: a custom torch.autograd.Function whose forward is piecewise constant (sign, true derivative 0 almost everywhere) and whose hand-written backward passes the gradient straight through inside [-1, 1] (the hardtanh STE); a second custom Function (a scaled identity whose backward multiplies by a constant); every parameter still gets a gradient and learns

A BinaryNet-style hidden layer: pre-activations go through BatchNorm and then a sign()
implemented as an autograd.Function with an STE backward, so the first layer is trained
through a non-differentiable op on purpose. Adam, shuffled minibatches of 64 on digits.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


class SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (x.abs() <= 1).to(grad_out.dtype)


class GradScale(torch.autograd.Function):
    """Identity in the forward pass; scales the gradient in the backward pass."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * ctx.scale, None


class BinaryHiddenNet(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden, bias=False)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, hidden, bias=False)
        self.bn2 = nn.BatchNorm1d(hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x):
        h = SignSTE.apply(self.bn1(self.fc1(x)))
        h = SignSTE.apply(self.bn2(self.fc2(h)))
        return self.out(GradScale.apply(h, 0.5))


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_te, y_te = X[:1400], y[:1400], X[1400:], y[1400:]

model = BinaryHiddenNet(64, 256, 10)
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

for epoch in range(8):
    model.train()
    perm = torch.randperm(len(X_tr))
    total = 0.0
    for i in range(0, len(X_tr), 64):
        idx = perm[i:i + 64]
        opt.zero_grad()
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        acc = (model(X_te).argmax(1) == y_te).float().mean().item()
    print(f"epoch {epoch}  train loss {total / len(X_tr):.4f}  test acc {acc:.3f}")
