"""Synthetic regression with an MLP, SGD + momentum and a warmup to a peak LR copied from a ResNet recipe.

expect: learning-rate-too-high
allow: exploding-gradient, non-finite, loss-not-decreasing, dead-relu

The schedule (linear warmup over 200 steps to lr=0.3, momentum 0.9) is the usual one for
ResNets with BatchNorm; this plain 4-layer ReLU MLP on a squared-error loss has no
normalisation to absorb it. The first ~100 steps go well (the loss falls from ~1.9 to
~0.4-0.5), then the loss bounces higher and higher as the LR keeps rising: at seed 0 it ends
at 1.9 (median of the last tenth, above the start's 1.4) with updates moving the weights by
~2% a step, and the final MSE is 1.70. Whether the gradient also explodes is a matter of
chance: over seeds 0-4 it jumped to 1e6 and went NaN at step ~169 on one seed (the program
was labelled exploding-gradient when that happened at seed 0 on an earlier machine), rose to
~1e2 on another, and stayed within ~1-30 on the other three, whose nets lose units or
oscillate instead. The too-high LR is the cause every time.
(Measured on an AMD EPYC CPU, torch 2.13; clip_grad_norm_, a lower peak, or normalisation fix it.)
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
