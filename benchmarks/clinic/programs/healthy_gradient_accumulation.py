"""Breast-cancer classifier trained with gradient accumulation over 4 micro-batches.

expect: healthy
trap: gradient accumulation -- zero_grad() and step() only every 4 backward passes (grads legitimately grow between steps; parameters legitimately unchanged after 3 of every 4 backward calls)
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)

ACCUM_STEPS = 4
MICRO_BATCH = 16

data = load_breast_cancer()
X = torch.tensor(data.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(data.target, dtype=torch.float32).unsqueeze(1)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=MICRO_BATCH, shuffle=True)

model = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.BCEWithLogitsLoss()

optimizer.zero_grad()
for epoch in range(8):
    running = 0.0
    for i, (xb, yb) in enumerate(loader):
        loss = criterion(model(xb), yb) / ACCUM_STEPS
        loss.backward()
        running += loss.item() * ACCUM_STEPS
        if (i + 1) % ACCUM_STEPS == 0:
            optimizer.step()
            optimizer.zero_grad()
    with torch.no_grad():
        acc = ((model(X) > 0).float() == y).float().mean().item()
    print(f"epoch {epoch}: loss {running / len(loader):.4f}  acc {acc:.3f}")
