"""A deep plain MLP regressing diabetes progression on its raw scale with SGD.

expect: exploding-gradient
allow: learning-rate-too-high, non-finite, loss-not-decreasing, dead-relu

Six ReLU layers, no normalization; the inputs are standardised but the targets are left
in their natural units (25-346, mean ~150), so the squared-error gradients are in the
hundreds from the start. With plain SGD at lr=5e-4 each update amplifies the next: the
global gradient norm climbs from ~4e2 to ~1.6e5 by step 12, ~2.6e6 at step 17, falls back
and blows up again (~1e5 at steps 27 and 48), without ever going NaN. The spikes wreck the
fit: the final train MSE (~22000) is far worse than predicting the mean (~5900).
(Standardising y and/or clip_grad_norm_ fix it.)
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
    optimizer.step()
    if step % 40 == 0:
        print(f"step {step:3d}  mse {loss.item():.1f}")

with torch.no_grad():
    print(f"final train mse {criterion(model(X), y).item():.1f} (predicting the mean gives {y.var().item():.1f})")
    print(f"NNDOCTOR_METRIC r2={1 - criterion(model(X), y).item() / y.var().item():.4f} higher")
