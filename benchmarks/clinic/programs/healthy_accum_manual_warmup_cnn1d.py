"""1-D CNN regressor on synthetic waveforms: gradient accumulation + hand-written LR warmup.

expect: healthy
trap: the LR is written by hand into param_groups before EVERY optimizer step (no torch
scheduler): it starts at 5e-5 (AdamW constructed with lr=0.0) and rises linearly to 3e-3
over the first 60 steps, then decays as 1/sqrt(step) -- so the LR "changes" at every step
and rises for 60 steps in a row; one optimizer step happens per 4 micro-batches (loss / 4
once, correctly), so losses are logged 4x as often as the LR moves.  After epoch 2 the
train loss falls only slowly (0.065 -> 0.046) while the LR decays -- a decaying schedule
near convergence, not a too-low LR.

Measured: val_mse = 0.0446 on standardised targets (variance ~1 each, so R^2 ~ 0.955);
train mse 0.76 -> 0.046 over 8 epochs / 368 optimizer steps; ~5.3 s wall including imports.
"""
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(10)
np.random.seed(10)


@dataclass
class Hparams:
    seq_len: int = 96
    n_train: int = 3000
    n_val: int = 600
    micro_batch: int = 16
    accum_steps: int = 4
    peak_lr: float = 3e-3
    warmup_steps: int = 60          # optimizer steps, not micro-batches
    weight_decay: float = 1e-2
    epochs: int = 8


def waveforms(n, T, rng):
    """Targets: frequency and log-amplitude of a damped noisy oscillation (2 regression outputs)."""
    t = np.arange(T) / T
    freq = rng.uniform(2.0, 10.0, size=n)
    amp = np.exp(rng.uniform(-0.7, 0.7, size=n))
    damp = rng.uniform(0.0, 2.0, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    sig = amp[:, None] * np.exp(-damp[:, None] * t) * np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])
    x = np.stack([sig + 0.3 * rng.standard_normal((n, T)), 0.3 * rng.standard_normal((n, T))], axis=1)
    y = np.stack([(freq - 6.0) / 2.3, np.log(amp) / 0.4], axis=1)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


class ConvRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(2, 32, 9, padding=4), nn.GELU(),
            nn.Conv1d(32, 32, 7, padding=3, stride=2), nn.GELU(),
            nn.Conv1d(32, 64, 5, padding=2, stride=2), nn.GELU(),
            nn.Conv1d(64, 64, 3, padding=1), nn.GELU(),
        )
        self.head = nn.Sequential(nn.Linear(128, 64), nn.GELU(), nn.Linear(64, 2))

    def forward(self, x):
        h = self.net(x)
        return self.head(torch.cat([h.mean(-1), h.amax(-1)], dim=-1))


class WarmupThenInvSqrt:
    """LR set by hand in param_groups at every optimizer step (no torch scheduler)."""

    def __init__(self, optimizer, peak_lr, warmup_steps):
        self.opt, self.peak, self.warm = optimizer, peak_lr, warmup_steps

    def lr_at(self, step):
        if step < self.warm:
            return self.peak * (step + 1) / self.warm
        return self.peak * math.sqrt(self.warm / (step + 1))

    def apply(self, step):
        lr = self.lr_at(step)
        for g in self.opt.param_groups:
            g["lr"] = lr
        return lr


class AccumTrainer:
    def __init__(self, model, hp: Hparams):
        self.model, self.hp = model, hp
        self.opt = torch.optim.AdamW(model.parameters(), lr=0.0, weight_decay=hp.weight_decay)
        self.schedule = WarmupThenInvSqrt(self.opt, hp.peak_lr, hp.warmup_steps)
        self.opt_step = 0

    def _micro(self, xb, yb):
        loss = F.mse_loss(self.model(xb), yb)
        (loss / self.hp.accum_steps).backward()
        return loss.item()

    def train_epoch(self, X, y):
        self.model.train()
        perm = torch.randperm(len(X))
        mb, k = self.hp.micro_batch, self.hp.accum_steps
        losses, lr = [], 0.0
        n_micro = len(X) // mb
        self.opt.zero_grad(set_to_none=True)
        for i in range(n_micro):
            idx = perm[i * mb:(i + 1) * mb]
            losses.append(self._micro(X[idx], y[idx]))
            if (i + 1) % k == 0:
                lr = self.schedule.apply(self.opt_step)
                self.opt.step()
                self.opt.zero_grad(set_to_none=True)
                self.opt_step += 1
        return float(np.mean(losses)), lr

    @torch.no_grad()
    def mse(self, X, y):
        self.model.eval()
        return F.mse_loss(self.model(X), y).item()

    def fit(self, train, val):
        for ep in range(self.hp.epochs):
            tl, lr = self.train_epoch(*train)
            print(f"epoch {ep} opt_step={self.opt_step} lr={lr:.2e} train_mse={tl:.4f} "
                  f"val_mse={self.mse(*val):.4f}")
        return self


def main():
    hp = Hparams()
    rng = np.random.default_rng(10)
    train = waveforms(hp.n_train, hp.seq_len, rng)
    val = waveforms(hp.n_val, hp.seq_len, rng)
    trainer = AccumTrainer(ConvRegressor(), hp).fit(train, val)
    v = trainer.mse(*val)
    print(f"NNDOCTOR_METRIC val_mse={v:.4f} lower")


if __name__ == "__main__":
    main()
