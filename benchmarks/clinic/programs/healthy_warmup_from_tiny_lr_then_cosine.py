"""Digits CNN with AdamW and a SequentialLR schedule: linear warmup from lr*1e-4 over 50 steps, then cosine decay to ~0.

expect: healthy
trap: warmup from a tiny LR and a cosine tail to ~0 -- step 1 runs at lr=4e-7 and the LR only ramps up linearly, so the first updates are tiny (what a too-low LR looks like) and the loss is still near chance level (2.22-2.29) at step 40; the last ~20 steps run at lr < 1.5e-4 down to 3.4e-7 and the loss is flat again. In between the LR peaks at 4e-3 and the model trains well: loss 2.29 -> ~0.1-0.3 (batch), val acc 0.93.
"""
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
from sklearn.datasets import load_digits

torch.manual_seed(0)

TOTAL_STEPS, WARMUP = 220, 50

digits = load_digits()
x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(x))
x_train, y_train = x[perm[:1400]], y[perm[:1400]]
x_val, y_val = x[perm[1400:]], y[perm[1400:]]

model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10),
)
optimizer = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=1e-2)
scheduler = SequentialLR(
    optimizer,
    schedulers=[LinearLR(optimizer, start_factor=1e-4, end_factor=1.0, total_iters=WARMUP),
                CosineAnnealingLR(optimizer, T_max=TOTAL_STEPS - WARMUP)],
    milestones=[WARMUP],
)
criterion = nn.CrossEntropyLoss()

for step in range(1, TOTAL_STEPS + 1):
    idx = torch.randint(0, len(x_train), (32,))
    loss = criterion(model(x_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    lr_used = scheduler.get_last_lr()[0]
    scheduler.step()
    if step in (1, 2, 5, 10, 20) or step % 40 == 0 or step == TOTAL_STEPS:
        with torch.no_grad():
            acc = (model(x_val).argmax(1) == y_val).float().mean().item()
        print(f"step {step:3d}  lr {lr_used:.2e}  loss {loss.item():.4f}  val acc {acc:.3f}")
