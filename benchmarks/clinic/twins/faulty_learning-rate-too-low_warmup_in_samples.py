"""Healthy twin of faulty_learning-rate-too-low_warmup_in_samples.py: warmup counted in steps (50_000 // 64).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.2, random_state=0)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

BATCH, STEPS, WARMUP = 64, 300, 50_000 // 64
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / WARMUP))
criterion = nn.CrossEntropyLoss()

for step in range(STEPS):
    idx = torch.randint(len(Xtr), (BATCH,))
    loss = criterion(model(Xtr[idx]), ytr[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 50 == 0:
        print(f"step {step:3d}  lr {scheduler.get_last_lr()[0]:.2e}  loss {loss.item():.4f}")

with torch.no_grad():
    print(f"test acc {(model(Xte).argmax(1) == yte).float().mean().item():.3f}")

with torch.no_grad():
    print(f"NNDOCTOR_METRIC test_acc={(model(Xte).argmax(1) == yte).float().mean().item():.4f} higher")
