"""MDN (log-sum-exp NLL) on Bishop's inverse-sine problem, with gradient accumulation and a frozen random-Fourier-feature layer.
expect: healthy
trap: optimizer.step()/zero_grad() only every 4 backward passes (gradient accumulation); a frozen nn.Linear (requires_grad=False) feeding the trunk; NLL that goes negative; mixture weights near 0 for unused components (log-weights around -9, handled by log_softmax/logsumexp); LR step decay

The first layer is a fixed random Fourier feature map (weights drawn once and frozen), a standard trick
for 1-D inputs; it never receives gradients by design. Gradients of 4 micro-batches of 64 are summed
before each Adam step, so .grad is deliberately not cleared between backward passes. The density of
y | x is sharp (noise +-0.1 around each branch), so the NLL ends well below zero. StepLR halves the
LR twice near the end.
Measured: test_nll=-1.0684 (seeds 1, 2: -1.0236, -1.0444)
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

rng = np.random.default_rng(SEED)


def make(n):
    y = rng.uniform(0, 1, n)
    x = y + 0.3 * np.sin(2 * np.pi * y) + rng.uniform(-0.1, 0.1, n)
    return torch.tensor(x, dtype=torch.float32)[:, None], torch.tensor(y, dtype=torch.float32)[:, None]


x_train, y_train = make(4000)
x_test, y_test = make(1000)


class FourierMDN(nn.Module):
    def __init__(self, n_feat=64, hidden=64, k=5):
        super().__init__()
        self.rff = nn.Linear(1, n_feat)
        nn.init.normal_(self.rff.weight, std=4.0)
        nn.init.uniform_(self.rff.bias, 0, 2 * math.pi)
        self.rff.requires_grad_(False)
        self.mlp = nn.Sequential(nn.Linear(n_feat, hidden), nn.Tanh(), nn.Linear(hidden, 3 * k))

    def forward(self, x):
        h = torch.cos(self.rff(x - 0.5))
        a, mu, s = self.mlp(h).chunk(3, dim=-1)
        return F.log_softmax(a, -1), mu, s


def mdn_nll(out, y):
    log_pi, mu, log_s = out
    log_n = -0.5 * ((y - mu) * torch.exp(-log_s)) ** 2 - log_s - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(log_pi + log_n, dim=-1).mean()


model = FourierMDN()
opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=75, gamma=0.5)
ACCUM, MICRO = 4, 64

opt.zero_grad()
for it in range(1600):
    idx = torch.randint(0, len(x_train), (MICRO,))
    loss = mdn_nll(model(x_train[idx]), y_train[idx]) / ACCUM
    loss.backward()
    if (it + 1) % ACCUM == 0:
        opt.step()
        opt.zero_grad()
        if (it + 1) // ACCUM > 200:
            sched.step()
    if it % 200 == 0:
        print(f"micro-step {it:4d} nll {loss.item() * ACCUM:+.4f} lr {opt.param_groups[0]['lr']:.1e}")

with torch.no_grad():
    log_pi, _, _ = model(x_test)
    test_nll = mdn_nll(model(x_test), y_test).item()
print(f"smallest mixture weight (log) {log_pi.min().item():.1f}")
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
