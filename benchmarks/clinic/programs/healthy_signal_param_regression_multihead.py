"""Multi-head MLP recovering damped-sinusoid parameters (frequency, decay, amplitude) from noisy synthetic signals, with clipping, step decay and an EMA copy.
expect: healthy
trap: large loss/gradients in the first steps (targets on different scales) handled by clip_grad_norm_; StepLR decays LR by 1000x so late updates are tiny; converged run with small gradients at the end; an EMA copy of the model (requires_grad left True) that is never in the optimizer nor in the loss graph; a frozen Fourier-feature projection (requires_grad=False)

Each input is a 64-sample signal a * exp(-g t) * sin(2 pi f t) + noise.  Three heads regress f, g and
a (standardised targets).  A frozen random Fourier projection feeds the trunk.  Early steps have big
gradients and are clipped; the StepLR schedule goes 3e-3 -> 3e-6 so the last epochs barely move; the
EMA model used for evaluation is updated by hand under no_grad.
Measured: val_mse=0.0116
"""
import copy
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)
torch.set_num_threads(1)

N, L = 3000, 64
t = np.linspace(0, 1, L)
f = rng.uniform(1, 6, N)
g = rng.uniform(0.2, 3.0, N)
a = rng.uniform(0.5, 2.0, N)
sig = a[:, None] * np.exp(-g[:, None] * t) * np.sin(2 * np.pi * f[:, None] * t)
sig += 0.05 * rng.standard_normal(sig.shape)
targets = np.stack([f, g, a], 1)
n_tr = 2400
tmu, tsd = targets[:n_tr].mean(0), targets[:n_tr].std(0)
Y = ((targets - tmu) / tsd).astype(np.float32)
Xtr, Xva = torch.tensor(sig[:n_tr], dtype=torch.float32), torch.tensor(sig[n_tr:], dtype=torch.float32)
Ytr, Yva = torch.tensor(Y[:n_tr]), torch.tensor(Y[n_tr:])


class SignalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fourier = nn.Linear(L, 64, bias=False)
        self.fourier.weight.requires_grad_(False)          # fixed random projection
        self.trunk = nn.Sequential(nn.Linear(L + 128, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.heads = nn.ModuleDict({k: nn.Linear(64, 1) for k in ("freq", "decay", "amp")})

    def forward(self, x):
        p = self.fourier(x)
        h = self.trunk(torch.cat([x, torch.sin(p), torch.cos(p)], 1))
        return torch.cat([self.heads[k](h) for k in ("freq", "decay", "amp")], 1)


model = SignalNet()
ema = copy.deepcopy(model)
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.Adam(params, lr=3e-3)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=8, gamma=0.1)
mse = nn.MSELoss()
BS, EPOCHS = 64, 30

for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(n_tr)
    for i in range(0, n_tr, BS):
        idx = perm[i:i + BS]
        opt.zero_grad()
        loss = mse(model(Xtr[idx]), Ytr[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.99).add_(pm, alpha=0.01)
    sched.step()
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        ema.eval()
        with torch.no_grad():
            val_mse = mse(ema(Xva), Yva).item()
        print(f"epoch {epoch:2d} lr {sched.get_last_lr()[0]:.1e} train_mse {loss.item():.4f} val_mse(ema) {val_mse:.4f}")

print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
