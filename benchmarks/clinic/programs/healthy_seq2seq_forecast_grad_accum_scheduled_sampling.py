"""Window-MLP encoder + LSTMCell decoder forecaster (12-step horizon) on synthetic hourly load curves with hour-of-day one-hot inputs, trained with gradient accumulation, scheduled sampling and cosine LR decay.
expect: healthy
trap: gradient accumulation: backward() on every micro-batch but optimizer.step()/zero_grad() only every 4th, so .grad legitimately grows across 3 consecutive backward passes; scheduled sampling feeds the decoder its own prediction through .detach() on purpose (the graph is cut there by design, every decoder step still gets gradient from its own loss term); 24 of the 25 decoder input columns are a one-hot hour-of-day code (0/1, left unscaled); CosineAnnealingLR takes the LR from 1e-2 down to 1e-4 in the last updates (small updates at the end are deliberate); the training loss plateaus around 0.013-0.017 from update ~50 on (observation noise alone is 0.0064)

The series are 24-hour periodic curves with random amplitude, a small trend and noise.  An MLP encodes
the last 36 hourly values into the decoder's initial (h, c); the decoder rolls out 12 hours from the
previous value and the hour one-hot.  During training each decoder input is the true previous value
with probability tf (decayed 1.0 -> 0.0 over training) and otherwise the model's own detached
prediction.  Validation is a fully free-running 12-step forecast, compared with the naive
"same hour yesterday" forecast.
Measured: val_mse=0.0146 (seeds 1/2: 0.0122, 0.0152; naive same-hour-yesterday forecast 0.0273)
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

rng = np.random.default_rng(SEED)
L_IN, H = 36, 12


def make(n):
    start = rng.integers(0, 24, n)
    hours = (start[:, None] + np.arange(L_IN + H)[None, :]) % 24
    amp = rng.uniform(0.5, 1.5, (n, 1))
    base = np.sin(2 * np.pi * hours / 24) + 0.4 * np.sin(4 * np.pi * hours / 24 + 1.0)
    trend = rng.normal(0, 0.005, (n, 1)) * np.arange(L_IN + H)[None, :]
    y = amp * base + trend + rng.normal(0, 0.08, hours.shape)
    onehot = np.eye(24, dtype=np.float32)[hours]                 # [n, T, 24]
    return torch.from_numpy(y.astype(np.float32)), torch.from_numpy(onehot)


Ytr, Htr = make(1200)
Yva, Hva = make(300)


class Seq2Seq(nn.Module):
    def __init__(self, hid=64):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(L_IN, 128), nn.Tanh(), nn.Linear(128, 2 * hid))
        self.dec = nn.LSTMCell(25, hid)
        self.out = nn.Linear(hid, 1)

    def forward(self, y_hist, h_fut, y_fut=None, tf=0.0):
        h, c = self.enc(y_hist).chunk(2, -1)                       # window MLP -> decoder state
        prev = y_hist[:, -1:]                                      # [B, 1]
        preds = []
        for k in range(H):
            h, c = self.dec(torch.cat([prev, h_fut[:, k]], -1), (h, c))
            p = self.out(h)                                        # [B, 1]
            preds.append(p)
            if y_fut is not None and torch.rand(()) < tf:
                prev = y_fut[:, k:k + 1]
            else:
                prev = p.detach()
        return torch.cat(preds, 1)                                 # [B, H]


model = Seq2Seq()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
crit = nn.MSELoss()
micro_bs, accum = 16, 4
n_updates = 200
n_micro = n_updates * accum
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_updates, eta_min=1e-4)
opt.zero_grad()
for m in range(n_micro):
    tf = 1.0 - 1.0 * m / (n_micro - 1)
    i = torch.randint(0, len(Ytr), (micro_bs,))
    y, hr = Ytr[i], Htr[i]
    pred = model(y[:, :L_IN], hr[:, L_IN:], y_fut=y[:, L_IN:], tf=tf)
    loss = crit(pred, y[:, L_IN:]) / accum
    loss.backward()
    if (m + 1) % accum == 0:
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
    if m % 200 == 0 or m == n_micro - 1:
        print(f"micro {m:3d} update {(m + 1) // accum:3d} tf={tf:.2f} loss={loss.item() * accum:.4f}")

model.eval()
with torch.no_grad():
    pv = model(Yva[:, :L_IN], Hva[:, L_IN:])
val_mse = crit(pv, Yva[:, L_IN:]).item()
print(f"naive last-day baseline mse={crit(Yva[:, L_IN - 24:L_IN - 24 + H], Yva[:, L_IN:]).item():.4f}")
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
