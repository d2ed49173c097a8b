"""MLP regressor on make_friedman1 (standardized X and y) trained with Adam at an SGD-sized lr=0.1.

expect: learning-rate-too-high
allow: exploding-gradient, dead-relu

The author copied lr=0.1 from an SGD recipe into torch.optim.Adam. The first epoch blows up (gradient
norm 0.6 -> 1178 -> 2345 within three steps, epoch-1 train MSE 25.9 on a unit-variance target) and kills
88% of the second hidden layer's ReLUs; the run then slowly recovers with a crippled network and noisy
updates, ending 2.7x worse than the twin. No NaN.
Fix: lr=1e-3 (Adam's usual default). Measured (seed 0, 456 steps; val MSE in standardized target units,
1.0 = predicting the mean): faulty val_mse=0.0883, twin val_mse=0.0332.
"""
import random

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.set_num_threads(1)

# Friedman #1: y = 10 sin(pi x0 x1) + 20 (x2 - .5)^2 + 10 x3 + 5 x4 + noise, 5 nuisance features
X, y = make_friedman1(n_samples=1500, n_features=10, noise=0.5, random_state=SEED)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=SEED)

x_scaler = StandardScaler().fit(X_train)
y_mean, y_std = y_train.mean(), y_train.std()
to_t = lambda a: torch.as_tensor(a, dtype=torch.float32)
X_train, X_val = to_t(x_scaler.transform(X_train)), to_t(x_scaler.transform(X_val))
y_train, y_val = to_t((y_train - y_mean) / y_std)[:, None], to_t((y_val - y_mean) / y_std)[:, None]

model = nn.Sequential(
    nn.Linear(10, 128), nn.ReLU(),
    nn.Linear(128, 128), nn.ReLU(),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 1),
)

learning_rate = 0.1
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
mse = nn.MSELoss()

loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_train, y_train), batch_size=32, shuffle=True,
    generator=torch.Generator().manual_seed(SEED),
)

n_epochs = 12
for epoch in range(n_epochs):
    model.train()
    total = 0.0
    for xb, yb in loader:
        pred = model(xb)
        loss = mse(pred, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.shape[0]
    model.eval()
    with torch.no_grad():
        val_mse = mse(model(X_val), y_val).item()
    print(f"[{epoch + 1:02d}/{n_epochs}] train_mse={total / len(X_train):.4f} val_mse={val_mse:.4f}")

# val MSE in standardized target units (1.0 == predicting the mean)
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
