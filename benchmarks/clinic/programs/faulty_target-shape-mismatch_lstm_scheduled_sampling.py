"""LSTMCell one-step forecaster with scheduled sampling on synthetic sensor series; per-step target is [B] vs prediction [B,1].
expect: target-shape-mismatch
allow: loss-not-decreasing

The series are stored as a [n_series, T] array, so inside the unrolled loop the target for step t is
x[:, t + 1] with shape [B], while the linear head returns [B, 1].  nn.MSELoss broadcasts the pair into a
[B, B] matrix (with only a UserWarning), so every prediction is pulled toward every other series'
next value: the optimum is the batch mean of the next values and the network learns to ignore the
history.  Scheduled sampling (feeding back the model's own detached prediction with a decaying
probability of teacher forcing) is intended and not a bug.
Measured: faulty val_mse=0.9705 vs fixed val_mse=0.0439 (seed 0); seeds 1/2: 1.0373 vs 0.0382, 0.9280 vs 0.0331
(val_mse is in units of the standardised series; ~1.0 is the predict-the-mean level)
"""
import time
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

# ---------------------------------------------------------------- synthetic sensor data
def make_series(n, T, rng):
    t = np.arange(T)[None, :]
    period = rng.uniform(12, 30, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    amp = rng.uniform(0.5, 1.5, size=(n, 1))
    level = rng.normal(0, 0.5, size=(n, 1))
    x = level + amp * np.sin(2 * np.pi * t / period + phase) + 0.3 * amp * np.sin(4 * np.pi * t / period)
    x += rng.normal(0, 0.05, size=x.shape)
    return x.astype(np.float32)

rng = np.random.default_rng(SEED)
X = make_series(600, 40, rng)
idx = rng.permutation(len(X))
n_tr = 480
Xtr, Xva = torch.from_numpy(X[idx[:n_tr]]), torch.from_numpy(X[idx[n_tr:]])
mu, sd = Xtr.mean(), Xtr.std()
Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd


class Forecaster(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.cell = nn.LSTMCell(1, hidden)
        self.head = nn.Linear(hidden, 1)
        self.hidden = hidden

    def init_state(self, B):
        z = torch.zeros(B, self.hidden)
        return z, z.clone()


model = Forecaster()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
crit = nn.MSELoss()

n_epochs, bs = 20, 48
T = Xtr.shape[1]
step = 0
for epoch in range(n_epochs):
    # teacher forcing probability decays linearly 1.0 -> 0.5
    tf_prob = 1.0 - 0.5 * epoch / (n_epochs - 1)
    perm = torch.randperm(n_tr)
    for b in range(0, n_tr, bs):
        x = Xtr[perm[b:b + bs]]
        h, c = model.init_state(len(x))
        loss = 0.0
        pred = None
        for t in range(T - 1):
            if pred is not None and np.random.rand() > tf_prob:
                inp = pred.detach()
            else:
                inp = x[:, t:t + 1]
            h, c = model.cell(inp, (h, c))
            pred = model.head(h)
            loss = loss + crit(pred, x[:, t + 1])
        loss = loss / (T - 1)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
    if epoch % 5 == 0 or epoch == n_epochs - 1:
        print(f"epoch {epoch:2d} step {step:4d} tf={tf_prob:.2f} train_loss={loss.item():.4f}")

# ---------------------------------------------------------------- one-step-ahead validation (teacher forced)
model.eval()
with torch.no_grad():
    h, c = model.init_state(len(Xva))
    errs = []
    for t in range(T - 1):
        h, c = model.cell(Xva[:, t:t + 1], (h, c))
        p = model.head(h).squeeze(-1)
        if t >= 8:  # skip warm-up steps
            errs.append(((p - Xva[:, t + 1]) ** 2).mean().item())
val_mse = float(np.mean(errs))
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
