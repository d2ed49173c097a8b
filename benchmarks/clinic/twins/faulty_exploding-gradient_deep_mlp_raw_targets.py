"""Healthy twin of faulty_exploding-gradient_deep_mlp_raw_targets.py: gradients clipped (clip_grad_norm_, max_norm=1.0).
"""
import torch
from torch import nn
from sklearn.datasets import load_diabetes

torch.manual_seed(0)

data = load_diabetes()
X = torch.tensor(data.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)                         # inputs standardised...
y = torch.tensor(data.target, dtype=torch.float32).view(-1, 1)   # ...targets left raw

model = nn.Sequential(
    nn.Linear(10, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 64), nn.ReLU(),
    nn.Linear(64, 1),
)
optimizer = torch.optim.SGD(model.parameters(), lr=5e-4)
criterion = nn.MSELoss()

for step in range(200):
    idx = torch.randint(0, len(X), (32,))
    optimizer.zero_grad()
    loss = criterion(model(X[idx]), y[idx])
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    if step % 40 == 0:
        print(f"step {step:3d}  mse {loss.item():.1f}")

with torch.no_grad():
    print(f"final train mse {criterion(model(X), y).item():.1f} (predicting the mean gives {y.var().item():.1f})")
    print(f"NNDOCTOR_METRIC r2={1 - criterion(model(X), y).item() / y.var().item():.4f} higher")
