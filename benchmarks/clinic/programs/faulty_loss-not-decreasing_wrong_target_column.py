"""Energy-use regression from a sensor table; the script reads the target from the wrong column (a noise-only column).

expect: loss-not-decreasing

The table's columns are [6 features..., energy, sensor_jitter]; split_features_target() takes
table[:, -1] (assuming the label is last), which is the timing-jitter column -- pure N(0, 1)
noise independent of the inputs. The model, optimiser and loss are fine, but the best it can do
is predict the mean: validation MSE stays at 1.02 = the target's variance from the first epoch
to the last.
Fixed (table[:, COLUMNS.index("energy")]): val MSE 0.026 vs 1.023 here.
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
COLUMNS = ["temp", "humidity", "wind", "hour_sin", "hour_cos", "occupancy", "energy", "sensor_jitter"]


def make_sensor_table(n, rng):
    temp = rng.normal(0, 1, n)
    humidity = rng.normal(0, 1, n)
    wind = rng.normal(0, 1, n)
    hour = rng.uniform(0, 24, n)
    occupancy = rng.normal(0, 1, n)
    energy = (0.8 * temp ** 2 - 0.5 * humidity + 0.3 * wind * temp + np.sin(2 * np.pi * hour / 24)
              + 0.7 * occupancy + rng.normal(0, 0.2, n))
    energy = (energy - energy.mean()) / energy.std()
    jitter = rng.normal(0, 1, n)                       # per-reading timing jitter, independent of everything
    return np.stack([temp, humidity, wind, np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24),
                     occupancy, energy, jitter], axis=1).astype(np.float32)


def split_features_target(table):
    features = torch.from_numpy(table[:, :6])
    target = torch.from_numpy(table[:, -1])            # energy is the target
    return features, target


def train(model, X, y, X_val, y_val, epochs=6, batch_size=64, lr=0.01):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.MSELoss()
    for epoch in range(epochs):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            loss = loss_fn(model(X[idx]).squeeze(-1), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            val_mse = loss_fn(model(X_val).squeeze(-1), y_val).item()
        print(f"epoch {epoch}  last batch mse {loss.item():.4f}  val mse {val_mse:.4f}")
    return val_mse


rng = np.random.default_rng(0)
X_train, y_train = split_features_target(make_sensor_table(4000, rng))
X_val, y_val = split_features_target(make_sensor_table(1000, rng))

model = nn.Sequential(nn.Linear(6, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))
val_mse = train(model, X_train, y_train, X_val, y_val)
print(f"final val mse {val_mse:.4f} (target variance {y_val.var().item():.4f})")
