"""Hand-written SGD on a synthetic regression; the update rebinds a local name.

expect: optimizer-step-missing
allow: loss-not-decreasing

Learning how optimizers work, the user writes the update by hand:

    for p in model.parameters():
        p = p - lr * p.grad

which only rebinds the loop variable `p` to a new tensor; the parameter itself is never
modified (the in-place form is `p -= lr * p.grad`, or `p.add_(p.grad, alpha=-lr)`).
Gradients are computed and cleared every step, the weights stay at their initial values
and the loss never moves.
"""
import torch
from torch import nn

torch.manual_seed(0)

# y = sin(x1) + 0.5 * x2^2 - x3 + noise
X = torch.randn(1024, 3)
y = torch.sin(X[:, :1]) + 0.5 * X[:, 1:2] ** 2 - X[:, 2:3] + 0.05 * torch.randn(1024, 1)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 1)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def sgd_step(model, lr):
    with torch.no_grad():
        for p in model.parameters():
            p = p - lr * p.grad
    model.zero_grad()


model = MLP()
lr = 0.05
for step in range(200):
    idx = torch.randint(0, len(X), (64,))
    loss = ((model(X[idx]) - y[idx]) ** 2).mean()
    loss.backward()
    sgd_step(model, lr)
    if step % 50 == 0 or step == 199:
        print(f"step {step:3d}  mse {loss.item():.4f}")
