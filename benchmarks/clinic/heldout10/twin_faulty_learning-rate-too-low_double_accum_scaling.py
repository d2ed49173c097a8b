"""1-D CNN on synthetic waveforms trained with gradient accumulation (8 x 16 micro-batches).

expect: healthy
trap: the loss is flat (~1.39 -> 1.34) for the first two epochs before it drops, and the
model divides its loss by accum_steps, which looks like the classic double-scaling bug --
here the Trainer does not divide again, so the step is right.

Twin of faulty_learning-rate-too-low_double_accum_scaling.py with the one-line fix
(the Trainer calls `loss.backward()` instead of `(loss / accum_steps).backward()`).
Measured: val_acc = 0.9960; ~4.9 s wall.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(2)
np.random.seed(2)


@dataclass
class Config:
    seq_len: int = 64
    n_classes: int = 4
    n_train: int = 2000
    n_val: int = 500
    micro_batch: int = 8
    accum_steps: int = 16
    lr: float = 0.05
    momentum: float = 0.9
    epochs: int = 12


def synth_waveforms(n, seq_len, n_classes, rng):
    """Class k = a noisy sinusoid whose frequency band depends on k, plus a random phase."""
    y = rng.integers(0, n_classes, size=n)
    t = np.arange(seq_len) / seq_len
    freq = 2.0 + 2.5 * y + rng.uniform(-0.6, 0.6, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    amp = rng.uniform(0.6, 1.4, size=n)
    x = amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    x += 0.6 * rng.standard_normal((n, seq_len))
    return torch.tensor(x[:, None, :], dtype=torch.float32), torch.tensor(y)


class WaveCNN(nn.Module):
    def __init__(self, n_classes, accum_steps):
        super().__init__()
        self.accum_steps = accum_steps
        self.conv1 = nn.Conv1d(1, 16, 7, padding=3)
        self.conv2 = nn.Conv1d(16, 32, 5, padding=2)
        self.conv3 = nn.Conv1d(32, 32, 3, padding=1)
        self.fc = nn.Linear(32, n_classes)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.conv1(x)), 2)
        x = F.max_pool1d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        return self.fc(x.mean(-1))

    def training_step(self, batch):
        xb, yb = batch
        loss = F.cross_entropy(self(xb), yb)
        # normalise for gradient accumulation so the macro-batch gradient is a mean
        return loss / self.accum_steps


class Trainer:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.global_step = 0

    def configure_optimizer(self, model):
        return torch.optim.SGD(model.parameters(), lr=self.cfg.lr, momentum=self.cfg.momentum)

    def _accumulate(self, model, batch):
        loss = model.training_step(batch)
        loss.backward()
        return loss.item() * self.cfg.accum_steps

    def _run_epoch(self, model, opt, X, y):
        model.train()
        perm = torch.randperm(len(X))
        losses = []
        opt.zero_grad()
        for i, s in enumerate(range(0, len(X), self.cfg.micro_batch)):
            idx = perm[s:s + self.cfg.micro_batch]
            losses.append(self._accumulate(model, (X[idx], y[idx])))
            if (i + 1) % self.cfg.accum_steps == 0:
                opt.step()
                opt.zero_grad()
                self.global_step += 1
        return float(np.mean(losses))

    @torch.no_grad()
    def validate(self, model, X, y):
        model.eval()
        return (model(X).argmax(1) == y).float().mean().item()

    def fit(self, model, train, val):
        opt = self.configure_optimizer(model)
        for epoch in range(self.cfg.epochs):
            tl = self._run_epoch(model, opt, *train)
            va = self.validate(model, *val)
            print(f"epoch {epoch:2d} step {self.global_step:4d} train_loss={tl:.4f} val_acc={va:.4f}")
        return model


def main():
    cfg = Config()
    rng = np.random.default_rng(2)
    train = synth_waveforms(cfg.n_train, cfg.seq_len, cfg.n_classes, rng)
    val = synth_waveforms(cfg.n_val, cfg.seq_len, cfg.n_classes, rng)
    model = WaveCNN(cfg.n_classes, cfg.accum_steps)
    trainer = Trainer(cfg)
    trainer.fit(model, train, val)
    v = trainer.validate(model, *val)
    print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")


if __name__ == "__main__":
    main()
