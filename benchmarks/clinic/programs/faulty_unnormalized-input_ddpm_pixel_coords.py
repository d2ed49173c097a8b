"""Toy DDPM on 2-D click positions given in raw canvas pixel coordinates; bug: data never standardized.
expect: unnormalized-input
allow: loss-not-decreasing

The point cloud lives on a 256x256 canvas (values ~30..230, mean ~128). The DDPM noise schedule
assumes unit-scale data: x_t = sqrt(abar_t) x_0 + sqrt(1-abar_t) eps only reaches N(0, I) at t=T if
x_0 is O(1). Here the "noise" is a rounding error next to x_0, the denoiser sees inputs of size ~100,
and reverse sampling started from N(0, I) can never get back to the data. The fix standardizes with
train mean/std and maps samples back.
Measured: faulty sample_mmd=2.1164 vs fixed sample_mmd=0.0382 (seed 1: 2.0656 vs 0.0423, seed 2: 2.1263 vs 0.0397)
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


def canvas_clicks(n, rng):
    # 8 blobs on a ring around the canvas centre, in pixel units
    k = rng.integers(0, 8, size=n)
    ang = 2 * math.pi * k / 8
    centres = np.stack([128 + 80 * np.cos(ang), 128 + 80 * np.sin(ang)], 1)
    return (centres + 7.0 * rng.standard_normal((n, 2))).astype(np.float32)


rng = np.random.default_rng(SEED)
x_train = torch.from_numpy(canvas_clicks(4000, rng))
x_test = torch.from_numpy(canvas_clicks(1000, rng))

# DDPM schedule
T = 100
betas = torch.linspace(1e-4, 0.05, T)
alphas = 1.0 - betas
abar = torch.cumprod(alphas, 0)


def timestep_embedding(t, dim=32):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], -1)


class EpsNet(nn.Module):
    def __init__(self, h=64, tdim=16):
        super().__init__()
        self.tdim = tdim
        self.t_mlp = nn.Sequential(nn.Linear(tdim, h), nn.SiLU(), nn.Linear(h, h))
        self.inp = nn.Linear(2, h)
        self.body = nn.Sequential(nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU())
        self.out = nn.Linear(h, 2)

    def forward(self, x, t):
        h = self.inp(x) + self.t_mlp(timestep_embedding(t, self.tdim))
        return self.out(self.body(h))


data = x_train  # raw pixel coordinates go straight into the diffusion

model = EpsNet()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

steps, bs = 1000, 128
for step in range(steps):
    idx = torch.randint(0, data.shape[0], (bs,))
    x0 = data[idx]
    t = torch.randint(0, T, (bs,))
    eps = torch.randn_like(x0)
    a = abar[t].unsqueeze(-1)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    loss = F.mse_loss(model(xt, t), eps)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 200 == 0 or step == steps - 1:
        print(f"step {step:4d}  eps-mse {loss.item():.4f}")


@torch.no_grad()
def sample(n):
    x = torch.randn(n, 2)
    for i in reversed(range(T)):
        t = torch.full((n,), i, dtype=torch.long)
        eps_hat = model(x, t)
        mean = (x - betas[i] / (1 - abar[i]).sqrt() * eps_hat) / alphas[i].sqrt()
        if i > 0:
            var = betas[i] * (1 - abar[i - 1]) / (1 - abar[i])
            x = mean + var.sqrt() * torch.randn_like(x)
        else:
            x = mean
    return x


def mmd_rbf(a, b, scales=(0.05, 0.2, 1.0)):
    def k(x, y):
        d = torch.cdist(x, y) ** 2
        return sum(torch.exp(-d / (2 * s * s)) for s in scales)
    return (k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean()).item()


model.eval()
gen = sample(1000)
# evaluate in a common, scale-free frame (train statistics), identical for faulty and fixed
m, s = x_train.mean(0), x_train.std(0)
score = mmd_rbf((gen - m) / s, (x_test - m) / s)
print(f"generated mean {gen.mean(0).tolist()}  std {gen.std(0).tolist()}")
print(f"NNDOCTOR_METRIC sample_mmd={score:.4f} lower")
