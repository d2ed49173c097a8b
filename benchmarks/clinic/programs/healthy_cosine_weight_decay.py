"""Digits with AdamW (weight decay 0.05) and CosineAnnealingLR decaying the LR to 0 by the last step.

expect: healthy
trap: a schedule that deliberately decays LR to ~0 -- the last step has lr ~1e-7 and an update ~1e5x smaller than the first; weight decay shrinking the weights
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)

EPOCHS = 7

digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_train, y_train, X_val, y_val = X[:1400], y[:1400], X[1400:], y[1400:]
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_train, y_train), batch_size=50, shuffle=True)

model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS * len(loader), eta_min=0.0)

for epoch in range(EPOCHS):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(X_val), y_val).item()
        acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch}: lr {scheduler.get_last_lr()[0]:.2e}  train loss {loss.item():.3f}  val loss {val_loss:.3f}  val acc {acc:.3f}")
