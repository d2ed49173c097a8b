"""Healthy twin of faulty_unnormalized-input_raw_sensor_units.py: features standardized with the training split's mean/std.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)
N = 2000
temp_k = 295 + 8 * torch.randn(N)
pressure_pa = 101325 + 1500 * torch.randn(N)
humidity_pct = (60 + 15 * torch.randn(N)).clamp(5, 100)
wind_ms = torch.rand(N) * 12
X = torch.stack([temp_k, pressure_pa, humidity_pct, wind_ms], 1)
# target (already standardized-ish): a nonlinear "comfort index" of the standardized readings
t, p, h, w = [(c - c.mean()) / c.std() for c in X.T]
y = (torch.tanh(t) - 0.5 * p * h + 0.3 * w ** 2 + 0.1 * torch.randn(N)).unsqueeze(1)
y = (y - y.mean()) / y.std()
X = (X - X[:1600].mean(0)) / X[:1600].std(0)
Xtr, ytr, Xte, yte = X[:1600], y[:1600], X[1600:], y[1600:]

model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()

for epoch in range(20):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(Xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            r2 = 1 - criterion(model(Xte), yte).item() / yte.var().item()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test R^2 {r2:.3f}")
print(f"NNDOCTOR_METRIC test_r2={r2:.4f} higher")
