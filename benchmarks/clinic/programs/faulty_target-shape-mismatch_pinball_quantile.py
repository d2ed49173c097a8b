"""P90 delivery-time model trained with a hand-written pinball (quantile) loss on [N,1] vs [N].

expect: target-shape-mismatch
allow: loss-not-decreasing

A logistics team wants the 90th percentile of delivery time given distance, load, hour of
day, weather and driver experience (seeded synthetic data with heteroscedastic, skewed
noise). The script writes its own pinball loss, `diff = y - pred`, and feeds it the model
output of shape [N, 1] together with a 1-D target of shape [N]. Broadcasting silently turns
that into an [N, N] matrix of every prediction against every target in the batch, and
because this is a custom loss PyTorch prints no warning (MSELoss would). The optimum of that
objective is the marginal P90 of the batch, so the net learns an almost constant quantile
(std of its validation predictions 0.03 in target units vs 1.02 for the fixed model) and
effectively ignores the features; its coverage still looks right (~0.9), which is why the
bug survives a casual check.

Measured (OMP_NUM_THREADS=1): faulty val_pinball = 3.8602, fixed (`pred.squeeze(-1)`,
fixed/f_pinball_quantile_shape_fixed.py) val_pinball = 1.9871 (lower is better).
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

TAU = 0.9


def make_deliveries(n, rng):
    dist = rng.gamma(2.0, 3.0, n)                 # km
    load = rng.uniform(1, 40, n)                  # parcels
    hour = rng.integers(6, 22, n)
    rain = rng.binomial(1, 0.25, n)
    exp_years = rng.exponential(3.0, n)
    base = 8 + 3.2 * dist + 0.6 * load + 6 * np.exp(-((hour - 17.5) ** 2) / 4)
    scale = 2 + 0.35 * dist + 5 * rain + 4 / (1 + exp_years)
    minutes = base + scale * rng.gumbel(0, 1, n)
    feats = np.column_stack([dist, load, np.sin(2 * np.pi * hour / 24),
                             np.cos(2 * np.pi * hour / 24), rain, np.log1p(exp_years)])
    return feats, minutes


rng = np.random.default_rng(0)
X, y = make_deliveries(4000, rng)
X_tr, X_va, y_tr, y_va = X[:3000], X[3000:], y[:3000], y[3000:]
mu, sd = X_tr.mean(0), X_tr.std(0)
y_mu, y_sd = y_tr.mean(), y_tr.std()

Xt = torch.tensor((X_tr - mu) / sd, dtype=torch.float32)
Xv = torch.tensor((X_va - mu) / sd, dtype=torch.float32)
yt = torch.tensor((y_tr - y_mu) / y_sd, dtype=torch.float32)
yv = torch.tensor((y_va - y_mu) / y_sd, dtype=torch.float32)


def pinball_loss(pred, target, tau=TAU):
    diff = target - pred
    return torch.maximum(tau * diff, (tau - 1) * diff).mean()


model = nn.Sequential(
    nn.Linear(6, 64), nn.SiLU(),
    nn.Linear(64, 64), nn.SiLU(),
    nn.Linear(64, 1),
)
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

batch_size = 64
n = len(Xt)
for epoch in range(40):
    perm = torch.randperm(n)
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        pred = model(Xt[idx])
        loss = pinball_loss(pred, yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 10 == 9:
        with torch.no_grad():
            pv = model(Xv).squeeze(-1)
            print(f"epoch {epoch} train_loss {loss.item():.4f} "
                  f"val_pinball {pinball_loss(pv, yv).item():.4f} "
                  f"coverage {(yv <= pv).float().mean().item():.3f}")

with torch.no_grad():
    pv = model(Xv).squeeze(-1)
    val_pinball = pinball_loss(pv, yv).item() * y_sd   # back in minutes
print(f"NNDOCTOR_METRIC val_pinball={val_pinball:.4f} lower")
