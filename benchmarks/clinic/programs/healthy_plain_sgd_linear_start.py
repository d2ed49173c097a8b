"""Digits MLP trained with plain SGD (no momentum, lr 0.05): the loss falls in a near-straight line for 100 steps.

expect: healthy
trap: for the first ~100 optimizer steps the training loss drops by an almost constant ~0.017 per step (a straight
      line: 10-step means 2.25, 2.08, 1.89, 1.72, 1.50, 1.32, 1.15, 0.95, 0.88, 0.73) instead of the fast-then-slow
      exponential shape people expect, and vanilla SGD without momentum looks "old-fashioned"; a naive monitor could
      flag a too-low learning rate or slow convergence. lr 0.05 is a standard plain-SGD value for a
      standardised-input MLP, the update/weight ratio is in the normal range, and the run ends at ~97% validation
      accuracy.

load_digits scaled to [0, 1] and standardised with train statistics (constant border pixels left at 0). A
64-64-10 ReLU MLP (PyTorch default init) is trained as a Lightning-style module (training_step /
validation_step / configure_optimizers) by a home-made Trainer with callbacks, torch.optim.SGD(lr=0.05,
momentum=0), batch 64, 1000 steps. A callback fits a straight line to the first 100 losses and prints the slope
and R^2. Measured when run: loss 2.32 -> ~0.73 over steps 1-100, fitted slope -0.0173/step, R^2 0.983 on the
raw per-step losses; final train loss ~0.055, val_loss 0.122, val_acc 0.969 (a good MLP on digits gets
~0.96-0.98). Runtime ~3.5 s.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


@dataclass
class OptimConfig:
    lr: float = 0.05
    momentum: float = 0.0


@dataclass
class TrainConfig:
    batch_size: int = 64
    max_steps: int = 1000
    val_every: int = 200
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0


class LitModule(nn.Module):
    """Tiny stand-in for pl.LightningModule."""
    def training_step(self, batch, step: int) -> torch.Tensor:
        raise NotImplementedError

    def validation_step(self, batch) -> Dict[str, float]:
        raise NotImplementedError

    def configure_optimizers(self):
        raise NotImplementedError


class DigitsClassifier(LitModule):
    def __init__(self, cfg: TrainConfig):
        super().__init__()
        self.cfg = cfg
        self.mlp = nn.Sequential(
            nn.Linear(64, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.mlp(x)

    def training_step(self, batch, step):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch):
        x, y = batch
        logits = self(x)
        return {"val_loss": F.cross_entropy(logits, y).item(),
                "val_acc": (logits.argmax(1) == y).float().mean().item()}

    def configure_optimizers(self):
        o = self.cfg.optim
        return torch.optim.SGD(self.parameters(), lr=o.lr, momentum=o.momentum)


class Callback:
    def on_fit_start(self, trainer, module): pass
    def on_train_batch_end(self, trainer, module, loss: float): pass
    def on_validation_end(self, trainer, module, logs: Dict[str, float]): pass
    def on_fit_end(self, trainer, module): pass


class EarlyLinearityProbe(Callback):
    """Fits loss ~ a + b*step over the first `window` steps, to document the linear start."""
    def __init__(self, window=100):
        self.window, self.losses = window, []

    def on_train_batch_end(self, trainer, module, loss):
        if len(self.losses) < self.window:
            self.losses.append(loss)
            if len(self.losses) == self.window:
                s = np.arange(self.window)
                b, a = np.polyfit(s, self.losses, 1)
                r2 = 1 - np.sum((self.losses - (a + b * s)) ** 2) / np.sum((self.losses - np.mean(self.losses)) ** 2)
                print(f"first {self.window} steps: loss {self.losses[0]:.3f} -> {self.losses[-1]:.3f}, "
                      f"slope {b:.4f}/step, R^2 {r2:.3f}")


class ConsoleLogger(Callback):
    def __init__(self):
        self.recent: List[float] = []

    def on_train_batch_end(self, trainer, module, loss):
        self.recent.append(loss)
        self.recent = self.recent[-20:]

    def on_validation_end(self, trainer, module, logs):
        print(f"step {trainer.global_step:5d}  train_loss {np.mean(self.recent):.4f}  "
              f"val_loss {logs['val_loss']:.4f}  val_acc {logs['val_acc']:.4f}")


class Trainer:
    def __init__(self, cfg: TrainConfig, callbacks: List[Callback]):
        self.cfg, self.callbacks = cfg, callbacks
        self.global_step = 0
        self.logs: Dict[str, Any] = {}

    def _call(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(self, *args)

    def validate(self, module, val_batch):
        module.eval()
        with torch.no_grad():
            self.logs = module.validation_step(val_batch)
        module.train()
        self._call("on_validation_end", module, self.logs)

    def fit(self, module: LitModule, train_ds, val_batch):
        opt = module.configure_optimizers()
        g = torch.Generator().manual_seed(self.cfg.seed)
        loader = torch.utils.data.DataLoader(train_ds, batch_size=self.cfg.batch_size, shuffle=True,
                                             drop_last=True, generator=g)
        module.train()
        self._call("on_fit_start", module)
        while self.global_step < self.cfg.max_steps:
            for batch in loader:
                loss = module.training_step(batch, self.global_step)
                opt.zero_grad()
                loss.backward()
                opt.step()
                self.global_step += 1
                self._call("on_train_batch_end", module, loss.item())
                if self.global_step % self.cfg.val_every == 0:
                    self.validate(module, val_batch)
                if self.global_step >= self.cfg.max_steps:
                    break
        self._call("on_fit_end", module)
        return self.logs


def main():
    cfg = TrainConfig()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, stratify=y, random_state=cfg.seed)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    sd[sd < 1e-3] = 1.0
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)
    train_ds = torch.utils.data.TensorDataset(f32(X_tr), torch.tensor(y_tr))
    val_batch = (f32(X_va), torch.tensor(y_va))

    module = DigitsClassifier(cfg)
    logs = Trainer(cfg, [EarlyLinearityProbe(100), ConsoleLogger()]).fit(module, train_ds, val_batch)
    print(f"NNDOCTOR_METRIC val_acc={logs['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
