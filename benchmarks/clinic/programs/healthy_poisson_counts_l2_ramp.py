"""Bike-rental count model: Poisson log-link MLP with exposure offset, weekday embedding and a ramped L2 penalty.

expect: healthy
trap: PoissonNLLLoss(log_input=True, full=False) is negative for counts this size (about -33 per record), and after epoch 10 the logged objective drifts *up* (-32.6 -> -32.0) while the L2 weight ramps from 0 to 0.3 over the first 60% of the run; the data term itself stays flat at its optimum (not loss-not-decreasing, not learning-rate-too-high); inputs mix standardized numerics with integer weekday ids fed to an nn.Embedding and 0/1 one-hot season/holiday columns (not unnormalized-input); each embedding row only gets gradient from its own weekday.

Seeded synthetic rental data in the style of the UCI bike-sharing table: per record a count
of rentals (mean ~16, overdispersed by a gamma multiplier) over an exposure window of 1-6
hours, with weather numerics (temperature, feels-like, humidity, wind, visibility), a
weekday id, a season one-hot and a holiday flag. The model predicts log(rate) and adds
log(exposure) as a fixed offset, the classic Poisson GLM setup, with the output bias set to
the log of the mean rate. Training uses manually sliced mini-batches of 128 from a
permutation, Adam(lr=3e-3), and an explicit L2 penalty on all weight matrices whose weight
ramps linearly over the first 60% of the run. 2400 training rows, 100 epochs = 1900 steps.

Measured (OMP_NUM_THREADS=1): val_deviance_explained = 0.7620; the true generating rate
scores 0.7858 on the same validation rows (the rest is Poisson/gamma noise).
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

rng = np.random.default_rng(0)
N = 3000
temp = rng.normal(18, 8, N)
feels = temp + rng.normal(0, 2, N)
hum = rng.uniform(20, 100, N)
wind = rng.gamma(2.0, 6.0, N)
vis = rng.uniform(0.5, 20, N)
weekday = rng.integers(0, 7, N)
season = rng.integers(0, 4, N)
holiday = rng.binomial(1, 0.05, N)
exposure = rng.integers(1, 7, N).astype(float)

day_effect = np.array([0.10, 0.15, 0.12, 0.14, 0.25, 0.35, -0.05])
season_effect = np.array([-0.4, 0.1, 0.3, 0.0])
log_rate = (0.5 + 0.06 * temp - 0.0012 * (temp - 22) ** 2 - 0.008 * (hum - 50)
            - 0.02 * wind + day_effect[weekday] + season_effect[season] - 0.3 * holiday)
counts = rng.poisson(np.exp(log_rate) * exposure * rng.gamma(8.0, 1 / 8.0, N))   # overdispersed

num = np.column_stack([temp, feels, hum, wind, vis])
idx_tr, idx_va = np.arange(2400), np.arange(2400, N)
mu, sd = num[idx_tr].mean(0), num[idx_tr].std(0)
num = (num - mu) / sd
dense = np.column_stack([num, np.eye(4)[season], holiday])      # 5 numeric + 4 one-hot + 1 flag


def tensors(ix):
    return (torch.tensor(dense[ix], dtype=torch.float32),
            torch.tensor(weekday[ix]),
            torch.tensor(np.log(exposure[ix]), dtype=torch.float32),
            torch.tensor(counts[ix], dtype=torch.float32))


train_t, val_t = tensors(idx_tr), tensors(idx_va)


class RentalModel(nn.Module):
    def __init__(self, d_dense, n_days=7, d_emb=3, hidden=32):
        super().__init__()
        self.day = nn.Embedding(n_days, d_emb)
        self.fc1 = nn.Linear(d_dense + d_emb, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, dense, day, log_exposure):
        h = torch.cat([dense, self.day(day)], dim=1)
        h = torch.relu(self.fc1(h))
        h = torch.relu(self.fc2(h))
        return self.out(h).squeeze(-1) + log_exposure       # log of expected count


def poisson_deviance(log_mu, y):
    mu_ = log_mu.exp()
    term = torch.where(y > 0, y * torch.log(y / mu_), torch.zeros_like(y))
    return 2 * (term - (y - mu_)).sum()


model = RentalModel(dense.shape[1])
with torch.no_grad():
    model.out.bias.fill_(float(np.log(counts[idx_tr].mean() / exposure[idx_tr].mean())))
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
poisson = nn.PoissonNLLLoss(log_input=True, full=False)

EPOCHS, BS = 100, 128
n = len(idx_tr)
steps_per_epoch = (n + BS - 1) // BS
total_steps = EPOCHS * steps_per_epoch
ramp_steps = int(0.6 * total_steps)
l2_max = 0.3
step = 0
for epoch in range(EPOCHS):
    perm = torch.randperm(n)
    ep_total, ep_data = 0.0, 0.0
    for s in range(0, n, BS):
        b = perm[s:s + BS]
        log_mu = model(train_t[0][b], train_t[1][b], train_t[2][b])
        data_loss = poisson(log_mu, train_t[3][b])
        l2_w = l2_max * min(1.0, step / ramp_steps)
        loss = data_loss + l2_w * sum((m.weight ** 2).sum() for m in (model.fc1, model.fc2, model.out))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        ep_total += loss.item()
        ep_data += data_loss.item()
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        with torch.no_grad():
            lv = model(*val_t[:3])
            y = val_t[3]
            d2 = 1 - poisson_deviance(lv, y).item() / poisson_deviance(
                torch.log(y.mean()).expand_as(y), y).item()
        print(f"epoch {epoch:3d} objective {ep_total / steps_per_epoch:9.4f} "
              f"poisson {ep_data / steps_per_epoch:9.4f} l2_w {l2_w:.3f} val_D2 {d2:.4f}")

print(f"NNDOCTOR_METRIC val_deviance_explained={d2:.4f} higher")
