"""Digits classifier trained with SGD under a CyclicLR "triangular2" schedule.

expect: healthy
trap: cyclical LR -- the LR sweeps up and down between 2e-3 and 0.4 (the peak halving every cycle), so the training loss wobbles in step with the cycles (it bumps up near each peak) and the per-step update size swings by ~100x; at the troughs the LR is 200x below the peak. Overall the loss goes down (2.18 -> 0.026 per 25-step window, 3 cycles in ~315 steps) and the model ends at 97.5% val accuracy.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(X))
X_train, y_train = X[perm[:1400]], y[perm[:1400]]
X_val, y_val = X[perm[1400:]], y[perm[1400:]]

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=2e-3, momentum=0.9)
scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=2e-3, max_lr=0.4, step_size_up=50, mode="triangular2")
criterion = nn.CrossEntropyLoss()

step, window = 0, []
for epoch in range(9):
    order = torch.randperm(len(X_train))
    for i in range(0, len(X_train) - 39, 40):
        idx = order[i:i + 40]
        loss = criterion(model(X_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        step += 1
        window.append(loss.item())
        if step % 25 == 0:
            with torch.no_grad():
                val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
            print(f"step {step:3d}  lr {scheduler.get_last_lr()[0]:.4f}  loss {sum(window) / len(window):.4f}  val acc {val_acc:.3f}")
            window = []

with torch.no_grad():
    train_loss = criterion(model(X_train), y_train).item()
    val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
print(f"final: train loss {train_loss:.4f}  val acc {val_acc:.3f}")
