"""Healthy twin of faulty_learning-rate-too-high_warmup_peak_too_high.py: gradients clipped (clip_grad_norm_, 1.0).
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
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % 25 == 0:
        print(f"step {step:3d}  lr {scheduler.get_last_lr()[0]:.3f}  loss {loss.item():.4g}")
print(f"final loss {loss.item():.4g}")
print(f"NNDOCTOR_METRIC mse={nn.functional.mse_loss(model(X), y).item():.4f} lower")
