"""GRU sequence regressor whose per-timestep loss is averaged over time twice (effective LR / T).

expect: learning-rate-too-low
allow: loss-not-decreasing

Task: predict a running, exponentially-smoothed sum of a noisy input signal at every
timestep.  masked_mse() already returns the mean over all (batch, time) elements, but the
training loop then divides by the sequence length once more "to normalise per step".  With
plain SGD + momentum that shrinks every gradient (and therefore the effective learning rate,
nominally 0.02) by a factor of T=40, so the GRU barely moves away from predicting the mean.
Measured: faulty val_mse=0.2533 ; twin (no second division) val_mse=0.0025.
"""
import time
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(1)
np.random.seed(1)

config = {
    "seq_len": 40,
    "n_train": 1024,
    "n_val": 256,
    "hidden": 32,
    "lr": 0.02,
    "momentum": 0.9,
    "batch_size": 32,
    "epochs": 10,
}


def make_sequences(n, T, rng):
    x = rng.normal(size=(n, T, 2)).astype(np.float32)
    y = np.zeros((n, T, 1), dtype=np.float32)
    h = np.zeros(n, dtype=np.float32)
    for t in range(T):
        h = 0.8 * h + x[:, t, 0] - 0.5 * x[:, t, 1]
        y[:, t, 0] = h
    y /= y.std()
    return torch.from_numpy(x), torch.from_numpy(y)


rng = np.random.default_rng(1)
Xtr, Ytr = make_sequences(config["n_train"], config["seq_len"], rng)
Xva, Yva = make_sequences(config["n_val"], config["seq_len"], rng)


class SeqRegressor(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.gru = nn.GRU(2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.gru(x)
        return self.out(h)


def masked_mse(pred, target):
    # mean over batch AND time
    return ((pred - target) ** 2).mean()


model = SeqRegressor(config["hidden"])
optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])

T = config["seq_len"]
t0 = time.time()
for epoch in range(config["epochs"]):
    perm = torch.randperm(len(Xtr))
    losses = []
    for i in range(0, len(Xtr), config["batch_size"]):
        idx = perm[i:i + config["batch_size"]]
        pred = model(Xtr[idx])
        loss = masked_mse(pred, Ytr[idx])
        loss = loss / T  # normalise per timestep
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        val = masked_mse(model(Xva), Yva).item()
    print(f"epoch {epoch:2d} train {np.mean(losses):.5f} val_mse {val:.4f}")

with torch.no_grad():
    v = masked_mse(model(Xva), Yva).item()
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mse={v:.4f} lower")
