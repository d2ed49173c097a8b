"""Synthetic regression with an MLP, SGD + momentum and a warmup to a peak LR copied from a ResNet recipe.

expect: exploding-gradient
allow: learning-rate-too-high, non-finite, loss-not-decreasing

The schedule (linear warmup over 200 steps to lr=0.3, momentum 0.9) is the usual one for
ResNets with BatchNorm; this plain 4-layer ReLU MLP on a squared-error loss has no
normalisation to absorb it. The first ~110 steps go well (the loss falls from ~1.9 to
~0.4), then the loss starts bouncing as the LR keeps rising, and around step 180 the
gradient norm, which had hovered around 1-3 for the whole run, jumps to 1e2, 1e4, 1e5
and 1e13 within about ten steps; the next step is NaN.
(clip_grad_norm_, a lower peak, or normalisation fix it.)
"""
import torch
from torch import nn

torch.manual_seed(0)

X = torch.randn(2048, 8)
y = torch.sin(2 * X[:, :1]) + X[:, 1:2] * X[:, 2:3] + 0.1 * torch.randn(2048, 1)

model = nn.Sequential(
    nn.Linear(8, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 1),
)
WARMUP, PEAK_LR = 200, 0.3
optimizer = torch.optim.SGD(model.parameters(), lr=PEAK_LR, momentum=0.9)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / WARMUP))

for step in range(220):
    idx = torch.randint(0, len(X), (64,))
    loss = nn.functional.mse_loss(model(X[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 25 == 0:
        print(f"step {step:3d}  lr {scheduler.get_last_lr()[0]:.3f}  loss {loss.item():.4g}")
print(f"final loss {loss.item():.4g}")
print(f"NNDOCTOR_METRIC mse={nn.functional.mse_loss(model(X), y).item():.4f} lower")
