"""Waveform classifier (1-D CNN with BatchNorm) in a Trainer class; a baseline evaluate() before fit() leaves the model in eval mode.

expect: train-mode-off

The script measures the untrained model first (trainer.evaluate() calls model.eval()), and
Trainer.fit() never calls model.train(). So the whole run trains in eval mode: the four
BatchNorm1d layers use their initial running statistics (mean 0, var 1) -- they never normalise
anything and never update -- and the 4-block CNN trains as if it had no normalisation: the val
loss jumps around from epoch to epoch (0.99, 0.65, 0.69, 0.21, 0.25, 0.24, 0.09, 0.24) and
val accuracy swings between 0.52 and 0.97.
Fixed (self.model.train() at the start of every epoch in fit()): val acc 0.984 vs 0.894, val
loss 0.052 vs 0.236 here.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

CONFIG = {"length": 64, "n_train": 1500, "n_val": 500, "batch_size": 50, "lr": 0.05, "epochs": 8}


def make_waveforms(n, length, gen):
    """3 classes: sine, square, sawtooth, with random frequency, phase, amplitude and offset, plus noise."""
    t = torch.arange(length, dtype=torch.float32)
    cls = torch.randint(0, 3, (n,), generator=gen)
    freq = 0.05 + 0.15 * torch.rand(n, 1, generator=gen)
    phase = 2 * math.pi * torch.rand(n, 1, generator=gen)
    arg = 2 * math.pi * freq * t + phase
    sine = torch.sin(arg)
    square = torch.sign(torch.sin(arg))
    saw = 2 * ((arg / (2 * math.pi)) % 1.0) - 1
    wave = torch.stack([sine, square, saw], 1)[torch.arange(n), cls]
    amp = 0.5 + torch.rand(n, 1, generator=gen)
    x = amp * wave + 0.3 * torch.randn(n, length, generator=gen)
    return x.unsqueeze(1), cls


class WaveNet(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c_in = [], 1
        for c_out in (16, 32, 32, 64):
            layers += [nn.Conv1d(c_in, c_out, 5, padding=2), nn.BatchNorm1d(c_out), nn.ReLU(), nn.MaxPool1d(2)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(64, 3)

    def forward(self, x):
        return self.head(self.features(x).mean(-1))


class Trainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, nesterov=True)

    @torch.no_grad()
    def evaluate(self, x, y):
        self.model.eval()
        logits = self.model(x)
        return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()

    def fit(self, x, y, x_val, y_val):
        bs = self.cfg["batch_size"]
        for epoch in range(self.cfg["epochs"]):
            perm = torch.randperm(len(x))
            for i in range(0, len(x), bs):
                idx = perm[i:i + bs]
                loss = F.cross_entropy(self.model(x[idx]), y[idx])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            val_loss, val_acc = self.evaluate(x_val, y_val)
            print(f"epoch {epoch}  train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
            print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")


gen = torch.Generator().manual_seed(0)
x_train, y_train = make_waveforms(CONFIG["n_train"], CONFIG["length"], gen)
x_val, y_val = make_waveforms(CONFIG["n_val"], CONFIG["length"], gen)

trainer = Trainer(WaveNet(), CONFIG)
loss0, acc0 = trainer.evaluate(x_val, y_val)
print(f"untrained baseline: val loss {loss0:.4f}  val acc {acc0:.3f}")
trainer.fit(x_train, y_train, x_val, y_val)
