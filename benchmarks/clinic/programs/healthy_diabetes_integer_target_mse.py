"""Diabetes progression regression on the raw integer target (25..346) with nn.MSELoss; output (N, 1) and target (N, 1).

expect: healthy
trap: MSELoss on integer-valued targets -- this is a regression (a disease-progression score), not class labels; output and target are both (N, 1) (the target is reshaped with view(-1, 1)), so nothing broadcasts; sklearn's diabetes features are already mean-centred and scaled (each column has unit L2 norm, std ~0.048), used as shipped (small but uniform across columns and centred); the network predicts in standardised units and fixed buffers (target mean/std) map its output to the target scale, so the MSE is in the thousands and ends near the noise floor (~2600, test R^2 ~0.6); the train MSE printed is the noisy last mini-batch's
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes

torch.manual_seed(0)

data = load_diabetes()
X = torch.tensor(data.data, dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32).view(-1, 1)
print(f"target: integers {int(y.min())}..{int(y.max())};  feature std {X.std(0).min():.4f}..{X.std(0).max():.4f}")
perm = torch.randperm(len(X))
tr, te = perm[:350], perm[350:]


class ProgressionModel(nn.Module):
    def __init__(self, n_in, y_mean, y_std):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, 32), nn.ReLU(), nn.Linear(32, 1))
        self.register_buffer("y_mean", y_mean)
        self.register_buffer("y_std", y_std)

    def forward(self, x):
        return self.net(x) * self.y_std + self.y_mean


model = ProgressionModel(10, y[tr].mean(), y[tr].std())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
mse = nn.MSELoss()

for epoch in range(30):
    order = tr[torch.randperm(len(tr))]
    for i in range(0, len(order), 25):
        idx = order[i:i + 25]
        pred = model(X[idx])                 # (B, 1)
        loss = mse(pred, y[idx])             # (B, 1) vs (B, 1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            test_mse = mse(model(X[te]), y[te]).item()
        print(f"epoch {epoch + 1:2d}  train mse {loss.item():8.1f}  test mse {test_mse:8.1f}")

with torch.no_grad():
    r2 = 1 - mse(model(X[te]), y[te]).item() / y[te].var(unbiased=False).item()
print(f"test R^2 {r2:.3f}")
