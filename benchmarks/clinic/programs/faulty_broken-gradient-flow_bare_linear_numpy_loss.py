"""Linear regression with a bare nn.Linear as the model; the loss is computed in numpy and re-wrapped.

expect: broken-gradient-flow
allow: optimizer-step-missing, loss-not-decreasing

The author computes the squared error in numpy (`.detach().numpy()`) and, when backward() complained
that the loss has no grad_fn, wrapped the number as `torch.tensor(..., requires_grad=True)`. That is a
new leaf: backward() runs, the model's weight and bias never get a gradient and never change (the
loss stays at 13.06 for all 200 steps). The model is the root module itself, holding its parameters
directly. Fixed (`loss = ((pred - y) ** 2).mean()` in torch): loss 0.01 after 200 steps.
"""
import torch, torch.nn as nn, numpy as np
torch.manual_seed(5)
X = torch.randn(512, 8); w = torch.randn(8, 1); y = X @ w + 0.1 * torch.randn(512, 1)
model = nn.Linear(8, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(200):
    pred = model(X)
    err = (pred - y).detach().numpy()
    loss = torch.tensor(np.mean(err ** 2), requires_grad=True)
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 50 == 0: print(step, loss.item())
