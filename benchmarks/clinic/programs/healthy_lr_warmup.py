"""Wine classifier with a linear-warmup-then-linear-decay LambdaLR schedule (the Hugging Face recipe).

expect: healthy
trap: LR warmup from exactly 0 (the first optimizer step has lr=0, so parameters do not change on step 0) and linear decay to ~0 at the end
"""
import torch
from torch import nn
from sklearn.datasets import load_wine

torch.manual_seed(0)

TOTAL_STEPS, WARMUP_STEPS = 200, 30


def linear_schedule_with_warmup(step):
    if step < WARMUP_STEPS:
        return step / WARMUP_STEPS
    return max(0.0, (TOTAL_STEPS - step) / (TOTAL_STEPS - WARMUP_STEPS))


wine = load_wine()
X = torch.tensor(wine.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(wine.target)

model = nn.Sequential(nn.Linear(13, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 3))
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule_with_warmup)
loss_fn = nn.CrossEntropyLoss()

step = 0
while step < TOTAL_STEPS:
    perm = torch.randperm(len(X))
    for i in range(0, len(X) - 15, 16):
        if step == TOTAL_STEPS:
            break
        idx = perm[i:i + 16]
        loss = loss_fn(model(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 40 == 0:
            print(f"step {step:3d}  lr {optimizer.param_groups[0]['lr']:.2e}  loss {loss.item():.4f}")
        step += 1

with torch.no_grad():
    print(f"final: loss {loss_fn(model(X), y).item():.4f}  acc {(model(X).argmax(1) == y).float().mean().item():.3f}")
