"""GRU on the adding problem (length 30): the loss sits on the predict-the-mean plateau for ~250 steps, then drops.

expect: healthy
trap: for roughly the first 250 of 500 steps the MSE hovers at ~0.16, which is exactly the variance of the target
      (a model that always outputs the mean, 1.0); the curve looks flat and a naive monitor could call it
      "loss not decreasing", a too-low learning rate or vanishing gradients through time. This plateau is the
      well-known first phase of the adding problem: the GRU must discover which two positions the marker
      channel flags before it can do better than the mean; then the loss falls by ~35x.

The adding problem (Hochreiter & Schmidhuber): each sequence has 30 steps of (value ~ U[0,1], marker in {0,1});
exactly one marker in the first half and one in the second half; the target is the sum of the two marked values.
Fresh batches are drawn every step from a seeded generator; a fixed validation set of 1000 sequences is drawn
once. Model: nn.GRU(2 -> 32) + linear head on the last hidden state. Adam(lr 3e-3), batch 64, 500 steps,
gradient clipping at 1.0 as a routine safety net, written as a Lightning-like module with a home-made Trainer,
dataclass config and callbacks. Measured when run (50-step means of the train MSE): 0.46 (steps 1-50: 1.69 at
step 1, 0.84 at step 10, ~0.19 by step 25), 0.161, 0.163, 0.157, 0.144 (steps 51-250), then 0.079, 0.014, 0.007,
0.0055, 0.0045; val_mse 0.0043 against a mean-prediction baseline of 0.161 (val R^2 ~0.97). Median update/weight
ratio ~7e-3 on the plateau, so the optimizer is moving the weights the whole time. Runtime ~4 s.
"""
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


@dataclass
class SeqConfig:
    seq_len: int = 30
    hidden: int = 32
    lr: float = 3e-3
    batch_size: int = 64
    max_steps: int = 500
    clip_norm: float = 1.0
    n_val: int = 1000
    log_every: int = 50
    seed: int = 0


def adding_batch(n: int, length: int, gen: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    values = torch.rand(n, length, generator=gen)
    marks = torch.zeros(n, length)
    first = torch.randint(0, length // 2, (n,), generator=gen)
    second = torch.randint(length // 2, length, (n,), generator=gen)
    rows = torch.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = torch.stack([values, marks], dim=-1)
    y = (values * marks).sum(dim=1)
    return x, y


class AddingGRU(nn.Module):
    def __init__(self, cfg: SeqConfig):
        super().__init__()
        self.cfg = cfg
        self.gru = nn.GRU(input_size=2, hidden_size=cfg.hidden, batch_first=True)
        self.head = nn.Linear(cfg.hidden, 1)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1]).squeeze(-1)

    def training_step(self, batch):
        x, y = batch
        return F.mse_loss(self(x), y)

    @torch.no_grad()
    def validation_step(self, batch):
        x, y = batch
        return F.mse_loss(self(x), y).item()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.cfg.lr)


class Callback:
    def on_after_backward(self, trainer, module): pass
    def on_step_end(self, trainer, module, loss: float): pass
    def on_fit_end(self, trainer, module): pass


class GradClip(Callback):
    def __init__(self, max_norm: float):
        self.max_norm = max_norm

    def on_after_backward(self, trainer, module):
        torch.nn.utils.clip_grad_norm_(module.parameters(), self.max_norm)


class ProgressPrinter(Callback):
    def __init__(self, every: int, val_batch, baseline: float):
        self.every, self.val_batch, self.baseline = every, val_batch, baseline
        self.window: List[float] = []
        self.val_mse = float("nan")

    def on_step_end(self, trainer, module, loss):
        self.window.append(loss)
        if trainer.step % self.every == 0:
            module.eval()
            self.val_mse = module.validation_step(self.val_batch)
            module.train()
            print(f"step {trainer.step:4d}  train_mse({self.every}) {np.mean(self.window):.4f}  "
                  f"val_mse {self.val_mse:.4f}  (mean baseline {self.baseline:.4f})")
            self.window = []


class Trainer:
    def __init__(self, cfg: SeqConfig, callbacks: List[Callback]):
        self.cfg, self.callbacks, self.step = cfg, callbacks, 0

    def fit(self, module: AddingGRU, gen: torch.Generator):
        opt = module.configure_optimizers()
        module.train()
        while self.step < self.cfg.max_steps:
            batch = adding_batch(self.cfg.batch_size, self.cfg.seq_len, gen)
            loss = module.training_step(batch)
            opt.zero_grad()
            loss.backward()
            for cb in self.callbacks:
                cb.on_after_backward(self, module)
            opt.step()
            self.step += 1
            for cb in self.callbacks:
                cb.on_step_end(self, module, loss.item())
        for cb in self.callbacks:
            cb.on_fit_end(self, module)


def main():
    cfg = SeqConfig()
    val_gen = torch.Generator().manual_seed(1234)
    val_batch = adding_batch(cfg.n_val, cfg.seq_len, val_gen)
    baseline = F.mse_loss(torch.full_like(val_batch[1], 1.0), val_batch[1]).item()

    module = AddingGRU(cfg)
    printer = ProgressPrinter(cfg.log_every, val_batch, baseline)
    trainer = Trainer(cfg, [GradClip(cfg.clip_norm), printer])
    trainer.fit(module, torch.Generator().manual_seed(cfg.seed))
    module.eval()
    val_mse = module.validation_step(val_batch)
    print(f"NNDOCTOR_METRIC val_mse={val_mse:.5f} lower")


if __name__ == "__main__":
    main()
