"""Two-layer stacked LSTM forecaster for a noisy multi-seasonal sensor signal.
It uses a config dataclass and a hand-written training loop with SGD (Nesterov
momentum) and a cosine learning-rate schedule.

expect: healthy
Fix: train_step() now calls torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) (cfg.max_grad_norm) between loss.backward() and optimizer.step(); lr stays at 0.5.
"""
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


@dataclass
class Config:
    n_points: int = 6000
    train_frac: float = 0.75
    window: int = 40
    stride: int = 2
    hidden_size: int = 64
    num_layers: int = 2
    batch_size: int = 32
    epochs: int = 3
    lr: float = 0.5
    momentum: float = 0.9
    nesterov: bool = True
    forget_bias: float = 1.0
    max_grad_norm: float = 1.0


def make_series(cfg):
    t = np.arange(cfg.n_points)
    s = (np.sin(2 * np.pi * t / 50)
         + 0.5 * np.sin(2 * np.pi * t / 23 + 1.0)
         + 0.3 * np.sin(2 * np.pi * t / 97)
         + 0.1 * np.random.randn(cfg.n_points))
    split = int(cfg.train_frac * cfg.n_points)
    mu, sd = s[:split].mean(), s[:split].std()
    return (s - mu) / sd, split


def make_windows(series, start, stop, cfg):
    idx = np.arange(start, stop - cfg.window - 1, cfg.stride)
    X = np.stack([series[i:i + cfg.window] for i in idx])[..., None]
    y = series[idx + cfg.window]
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


class LSTMForecaster(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.lstm = nn.LSTM(1, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden_size, 1)
        H = cfg.hidden_size
        for name, p in self.lstm.named_parameters():
            if "weight_hh" in name:
                for k in range(4):  # i, f, g, o gate blocks
                    nn.init.orthogonal_(p.data[k * H:(k + 1) * H])
            elif "weight_ih" in name:
                nn.init.xavier_uniform_(p.data)
            elif "bias_ih" in name:
                nn.init.zeros_(p.data)
            elif "bias_hh" in name:
                nn.init.zeros_(p.data)
                p.data[H:2 * H] = cfg.forget_bias

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(-1)


class Trainer:
    def __init__(self, model, cfg, steps_per_epoch):
        self.model = model
        self.cfg = cfg
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                         nesterov=cfg.nesterov)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=cfg.epochs * steps_per_epoch)
        self.loss_fn = nn.MSELoss()
        self.history = []

    def train_step(self, xb, yb):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        return loss.item()

    def fit(self, X, y):
        n = len(X)
        for epoch in range(self.cfg.epochs):
            perm = torch.randperm(n)
            losses = [self.train_step(X[perm[i:i + self.cfg.batch_size]], y[perm[i:i + self.cfg.batch_size]])
                      for i in range(0, n, self.cfg.batch_size)]
            self.history.append(float(np.mean(losses)))
        return self

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        return self.loss_fn(self.model(X), y).item()


def main():
    cfg = Config()
    series, split = make_series(cfg)
    X_train, y_train = make_windows(series, 0, split, cfg)
    X_val, y_val = make_windows(series, split, cfg.n_points, cfg)
    steps_per_epoch = math.ceil(len(X_train) / cfg.batch_size)
    trainer = Trainer(LSTMForecaster(cfg), cfg, steps_per_epoch).fit(X_train, y_train)
    val_mse = trainer.evaluate(X_val, y_val)
    if not math.isfinite(val_mse):
        val_mse = 1e6
    print(f"NNDOCTOR_METRIC val_mse={val_mse:.5g} lower")


if __name__ == "__main__":
    main()
